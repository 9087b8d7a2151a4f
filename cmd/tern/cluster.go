package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"tern/cluster"
	"tern/data"
	"tern/model"
	"tern/tokenizer"
)

func init() {
	register("cluster", "k-means clusters of a corpus's training windows, for tern train --clusters", runCluster)
}

func runCluster(ctx context.Context, args []string) error {
	fs := newFlags("cluster", "cluster --data D --tokenizer T --k 64 --out clusters.json [flags]")
	dataPath := fs.String("data", "tinyshakespeare", "corpus (as tern train --data); its training split is clustered")
	tokName := fs.String("tokenizer", "char", "tokenizer (as tern train --tokenizer)")
	seq := fs.Int("seq", 128, "window length: must equal tern train --seq")
	k := fs.Int("k", 64, "clusters")
	seed := fs.Uint64("seed", 1, "k-means++ seed")
	iters := fs.Int("iters", 50, "at most this many Lloyd iterations")
	feat := fs.String("features", "tfidf", "tfidf (hashed token n-grams) or model (the mean final hidden state of --model)")
	modelPath := fs.String("model", "", "with --features model: a model.safetensors (its tokenizer is used)")
	dim := fs.Int("dim", 4096, "tfidf: hashed feature buckets")
	ngram := fs.Int("ngram", 3, "tfidf: n-grams of 1..N tokens")
	nex := fs.Int("examples", 3, "example windows kept per cluster")
	threads := fs.Int("threads", 0, "threads (0 = all cores); the result does not depend on it")
	out := fs.String("out", "clusters.json", "cluster file to write")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	setThreads(*threads)
	if *seq <= 0 || *dim <= 0 || *ngram <= 0 {
		return fmt.Errorf("--seq, --dim and --ngram must be > 0")
	}
	start := time.Now()
	c, err := data.LoadCorpus(*dataPath)
	if err != nil {
		return err
	}
	var tok tokenizer.Adapter
	var lm model.LM
	switch *feat {
	case "tfidf":
		if tok, err = tokenizer.NewAdapter(*tokName, c.Train+c.Valid); err != nil { // as tern train builds it
			return err
		}
	case "model":
		if *modelPath == "" {
			return fmt.Errorf("--features model needs --model M")
		}
		if lm, tok, err = loadLMForEval(*modelPath); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown --features %q (want tfidf or model)", *feat)
	}
	toks := tok.Encode32(c.Train)
	id := cluster.NewIdentity(*dataPath, *tokName, tok.Spec(), *seq, toks)
	if id.Windows == 0 {
		return fmt.Errorf("corpus %s: %d training tokens make no window of %d", *dataPath, len(toks), *seq)
	}
	if *k > id.Windows {
		return fmt.Errorf("--k %d is larger than the number of windows (%d tokens / seq %d = %d windows)", *k, len(toks), *seq, id.Windows)
	}
	var x *cluster.Rows
	f := &cluster.File{}
	if lm != nil {
		if x, err = modelFeatures(ctx, lm, toks, *seq, id.Windows); err != nil {
			return err
		}
	} else {
		tf := cluster.TFIDF{Dim: *dim, NGram: *ngram}
		x = tf.Features(toks, *seq)
	}
	decode := func(ids []int32) string {
		v := make([]int, len(ids))
		for i, t := range ids {
			v[i] = int(t)
		}
		return tok.Decode(v)
	}
	if f, err = cluster.Build(ctx, toks, id, x, *k, *seed, *iters, decode, *nex); err != nil {
		return err
	}
	if lm != nil {
		f.Features, f.Model = "model", *modelPath
	} else {
		f.Features, f.TFIDF = "tfidf", &cluster.TFIDF{Dim: *dim, NGram: *ngram}
	}
	if err := f.Write(*out); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	sum := map[string]any{"out": *out, "windows": id.Windows, "k": *k, "iterations": f.Iterations, "inertia": f.Inertia,
		"sizes": f.Sizes, "features": f.Features, "seconds": time.Since(start).Seconds()}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(sum)
	}
	fmt.Printf("%d windows of %d tokens, %s features, k %d: %d iterations, inertia %.2f -> %.2f, %.1f s\n",
		id.Windows, *seq, f.Features, *k, f.Iterations, f.Inertia[0], f.Inertia[len(f.Inertia)-1], time.Since(start).Seconds())
	fmt.Printf("sizes: %v\nwrote %s\n", f.Sizes, *out)
	return nil
}

// modelFeatures is each window's mean final hidden state (a transformer's ForwardHidden), batched.
func modelFeatures(ctx context.Context, lm model.LM, toks []int32, seq, n int) (*cluster.Rows, error) {
	tm := model.AsTransformer(lm)
	if tm == nil {
		return nil, fmt.Errorf("--features model needs a transformer model (got %s)", lm.Config().Type)
	}
	if seq > lm.Config().MaxPos {
		return nil, fmt.Errorf("--seq %d is longer than the model's max_pos %d", seq, lm.Config().MaxPos)
	}
	C := lm.Config().Hidden
	feats := make([]float32, n*C)
	const B = 16
	ids := make([]int32, B*seq)
	for w0 := 0; w0 < n; w0 += B {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b := min(B, n-w0)
		for i := 0; i < b; i++ {
			copy(ids[i*seq:(i+1)*seq], toks[(w0+i)*seq:(w0+i)*seq+seq])
		}
		h, err := tm.ForwardHidden(ids[:b*seq], nil, nil, b, seq)
		if err != nil {
			return nil, err
		}
		for i := 0; i < b; i++ {
			dst := feats[(w0+i)*C : (w0+i+1)*C]
			for t := 0; t < seq; t++ {
				row := h[(i*seq+t)*C : (i*seq+t+1)*C]
				for j := range dst {
					dst[j] += row[j] / float32(seq)
				}
			}
		}
	}
	return cluster.DenseRows(feats, n, C), nil
}
