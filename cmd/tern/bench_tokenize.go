// bench_tokenize.go: `tern bench tokenize`, GPT-2 encoding throughput on the Gutenberg train split,
// one core and all cores, side by side with OpenAI's tiktoken (WebAssembly, under Node.js) in the
// same run. Throughput is reported per wall second and per CPU second of the encoding thread (the
// second is steadier on a shared machine). Every pass starts with an empty word cache.

package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"tern/tokenizer"
)

func init() {
	registerBench("tokenize", "GPT-2 encode MB/s on Gutenberg (1 core, all cores) vs tiktoken WebAssembly", runBenchTokenize)
}

func runBenchTokenize(ctx context.Context, args []string) error {
	fs := newFlags("bench tokenize", "bench tokenize [--data DIR] [--split train] [--reps 5] [--ref tiktoken|js-tiktoken|none] [--json]")
	data := fs.String("data", "", "Gutenberg directory (default: shared/data/gutenberg above the working directory, or $TERN_DATA/gutenberg)")
	split := fs.String("split", "train", "split of split.tsv to encode (empty: every .txt)")
	reps := fs.Int("reps", 5, "timed passes per measurement (the median is reported)")
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "goroutines for the all-cores measurement")
	ref := fs.String("ref", "tiktoken", "reference to time in the same run: tiktoken, js-tiktoken or none")
	refs := fs.String("refs", "", "directory of scripts/setup-refs.sh's packages (default: .refs at the module root)")
	limit := fs.Float64("limit-mb", 0, "encode only the first N MB of the split (0: all)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *reps < 1 {
		return fmt.Errorf("--reps must be at least 1")
	}
	dir := *data
	if dir == "" {
		d, err := findSharedData()
		if err != nil {
			return err
		}
		dir = filepath.Join(d, "gutenberg")
	}
	files, err := trainFiles([]string{dir}, *split)
	if err != nil {
		return err
	}
	var docs []string
	nbytes := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("read %s: %w", f, err)
		}
		if *limit > 0 && float64(nbytes+len(b)) > *limit*1e6 {
			b = b[:max(0, int(*limit*1e6)-nbytes)]
		}
		if len(b) > 0 {
			docs = append(docs, string(b))
			nbytes += len(b)
		}
	}
	tok, err := tokenizer.GPT2()
	if err != nil {
		return err
	}
	mb := float64(nbytes) / 1e6

	// One core: this goroutine, locked to its thread so the thread's CPU time is the work's.
	runtime.LockOSThread()
	var wall1, cpu1 []float64
	tokens := 0
	buf := make([]int, 0, nbytes/3)
	for r := 0; r < *reps; r++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		tok.ResetCache()
		t0, c0 := time.Now(), threadCPU()
		tokens = 0
		for _, d := range docs {
			buf = tok.AppendEncode(buf[:0], d)
			tokens += len(buf)
		}
		wall1 = append(wall1, mb/time.Since(t0).Seconds())
		cpu1 = append(cpu1, mb/(threadCPU()-c0).Seconds())
	}
	runtime.UnlockOSThread()

	// All cores: whole documents per goroutine.
	// The CPU-second rate shows the parallel overhead: equal to the one-core rate means scaling is
	// linear wherever the cores are free.
	var wallN, cpuN []float64
	for r := 0; r < *reps; r++ {
		tok.ResetCache()
		t0, c0 := time.Now(), processCPU()
		tok.EncodeParallel(docs, *threads)
		wallN = append(wallN, mb/time.Since(t0).Seconds())
		cpuN = append(cpuN, mb/(processCPU()-c0).Seconds())
	}

	res := map[string]any{"files": len(docs), "bytes": nbytes, "tokens": tokens, "reps": *reps,
		"tern_1core_mb_s": median(wall1), "tern_1core_cpu_mb_s": median(cpu1),
		"tern_parallel_mb_s": median(wallN), "tern_parallel_cpu_mb_s": median(cpuN), "threads": *threads, "gomaxprocs": runtime.GOMAXPROCS(0)}
	human := fmt.Sprintf("tokenize gpt2: %.1f MB, %d tokens | tern 1 core %.1f MB/s (%.1f per CPU-s) | %d threads %.1f MB/s (x%.2f; %.1f per CPU-s)",
		mb, tokens, median(wall1), median(cpu1), *threads, median(wallN), median(wallN)/median(wall1), median(cpuN))
	if *ref != "none" {
		rw, rc, rtok, err := benchRef(*ref, *refs, docs, *reps)
		if err != nil {
			res["ref_error"] = err.Error()
			human += fmt.Sprintf(" | %s: %v", *ref, err)
		} else {
			if rtok != tokens {
				return fmt.Errorf("%s produced %d tokens, tern %d: not the same encoding", *ref, rtok, tokens)
			}
			res["ref"] = *ref
			res["ref_mb_s"], res["ref_cpu_mb_s"] = mb/median(rw), mb/median(rc)
			res["speedup"] = median(wall1) / (mb / median(rw))
			res["speedup_cpu"] = median(cpu1) / (mb / median(rc))
			human += fmt.Sprintf(" | %s %.1f MB/s (%.1f per CPU-s): tern x%.1f (x%.1f per CPU-s)",
				*ref, mb/median(rw), mb/median(rc), res["speedup"], res["speedup_cpu"])
		}
	}
	return printResult(*asJSON, res, human)
}

// benchRef times a reference tokenizer through tokenizer/testdata/ref.mjs; it returns the wall and
// CPU seconds of each pass and the token count.
func benchRef(lib, refs string, docs []string, reps int) (wall, cpu []float64, tokens int, err error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, nil, 0, err
	}
	if refs == "" {
		refs = filepath.Join(root, ".refs")
	}
	if _, err := os.Stat(filepath.Join(refs, "node_modules", lib)); err != nil {
		return nil, nil, 0, fmt.Errorf("not installed in %s (run scripts/setup-refs.sh)", refs)
	}
	enc := make([]string, len(docs))
	for i, d := range docs {
		enc[i] = base64.StdEncoding.EncodeToString([]byte(d))
	}
	req, _ := json.Marshal(map[string]any{"lib": lib, "special": "text", "bench": reps, "texts": enc})
	cmd := exec.Command("node", filepath.Join(root, "tokenizer", "testdata", "ref.mjs"))
	cmd.Env = append(os.Environ(), "TERN_REFS="+refs)
	cmd.Stdin = bytes.NewReader(req)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, nil, 0, fmt.Errorf("node: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var rep struct {
		Seconds    []float64 `json:"seconds"`
		CPUSeconds []float64 `json:"cpu_seconds"`
		Tokens     int       `json:"tokens"`
	}
	if err := json.Unmarshal(out, &rep); err != nil || len(rep.Seconds) == 0 {
		return nil, nil, 0, fmt.Errorf("node: bad reply %q", out)
	}
	return rep.Seconds, rep.CPUSeconds, rep.Tokens, nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// moduleRoot walks up from the working directory to the go.mod of module tern.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(b), "module tern\n") {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", fmt.Errorf("not inside the tern repository (no go.mod of module tern above the working directory)")
		}
		dir = up
	}
}

// findSharedData returns $TERN_DATA, or the first shared/data found walking up from the working
// directory (the repository is checked out beside shared/).
func findSharedData() (string, error) {
	if d := os.Getenv("TERN_DATA"); d != "" {
		return d, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		d := filepath.Join(dir, "shared", "data")
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", fmt.Errorf("shared/data not found above the working directory; pass --data or set TERN_DATA")
		}
		dir = up
	}
}
