// tokenizer.go: `tern tokenizer encode|decode|train|info`, a thin shell over package tokenizer.
// Input is the named files or stdin; --json prints one JSON object per input for scripts.

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"tern/tokenizer"
)

func init() {
	register("tokenizer", "encode, decode, train (byte-level BPE) and inspect tokenizers", runTokenizer)
}

const tokenizerUsage = `Usage: tern tokenizer <encode|decode|train|info> [flags] [files...]

  encode   text -> ids (files or stdin)
  decode   ids -> text (whitespace-separated ids or a JSON array; files or stdin)
  train    learn a byte-level BPE vocabulary, saved as Hugging Face tokenizer.json
  info     describe a tokenizer

--tokenizer is gpt2 (built-in r50k_base), char (with --corpus) or a tokenizer.json path.
Run 'tern tokenizer <sub> --help' for flags.`

func runTokenizer(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(os.Stderr, tokenizerUsage)
		if len(args) == 0 {
			return fmt.Errorf("missing subcommand")
		}
		return nil
	}
	switch args[0] {
	case "encode":
		return runTokEncode(args[1:])
	case "decode":
		return runTokDecode(args[1:])
	case "train":
		return runTokTrain(ctx, args[1:])
	case "info":
		return runTokInfo(args[1:])
	}
	return fmt.Errorf("unknown subcommand %q (want encode, decode, train or info)", args[0])
}

// tokFlags are the flags every subcommand that uses a tokenizer shares.
type tokFlags struct {
	name, corpus string
	asJSON       bool
}

func (f *tokFlags) add(fs interface {
	StringVar(*string, string, string, string)
	BoolVar(*bool, string, bool, string)
}) {
	fs.StringVar(&f.name, "tokenizer", "gpt2", "gpt2, char, or a tokenizer.json / char vocabulary path")
	fs.StringVar(&f.corpus, "corpus", "", "text file whose characters form the vocabulary (--tokenizer char)")
	fs.BoolVar(&f.asJSON, "json", false, "print JSON")
}

func (f *tokFlags) open() (tokenizer.Tokenizer, error) {
	corpus := ""
	if f.name == "char" {
		if f.corpus == "" {
			return nil, fmt.Errorf("--tokenizer char needs --corpus FILE (its characters form the vocabulary)")
		}
		b, err := os.ReadFile(f.corpus)
		if err != nil {
			return nil, fmt.Errorf("read corpus: %w", err)
		}
		corpus = string(b)
	}
	return tokenizer.ByName(f.name, corpus)
}

// input is one named input: a file, or "-" for stdin.
type input struct {
	name string
	data []byte
}

func readInputs(files []string) ([]input, error) {
	if len(files) == 0 {
		files = []string{"-"}
	}
	var out []input
	for _, f := range files {
		var b []byte
		var err error
		if f == "-" {
			b, err = io.ReadAll(os.Stdin)
		} else {
			b, err = os.ReadFile(f)
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f, err)
		}
		out = append(out, input{f, b})
	}
	return out, nil
}

func runTokEncode(args []string) error {
	fs := newFlags("tokenizer encode", "tokenizer encode [--tokenizer gpt2] [--special text|allow|disallow] [--json] [files...]")
	var tf tokFlags
	tf.add(fs)
	special := fs.String("special", "text", "special-token text (<|endoftext|>) in the input: text (plain text), allow (its id), disallow (error)")
	if err := parseFlags(fs, args, true); err != nil {
		return err
	}
	tok, err := tf.open()
	if err != nil {
		return err
	}
	policy, ok := map[string]tokenizer.SpecialPolicy{"text": tokenizer.SpecialAsText, "allow": tokenizer.SpecialAllow, "disallow": tokenizer.SpecialDisallow}[*special]
	if !ok {
		return fmt.Errorf("--special %q: want text, allow or disallow", *special)
	}
	ins, err := readInputs(fs.Args())
	if err != nil {
		return err
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	for _, in := range ins {
		var ids []int
		if b, isBPE := tok.(*tokenizer.BPE); isBPE {
			if ids, err = b.EncodeWithSpecial(string(in.data), policy); err != nil {
				return fmt.Errorf("%s: %w", in.name, err)
			}
		} else if c, isChar := tok.(*tokenizer.Char); isChar {
			if ids, err = c.EncodeChecked(string(in.data)); err != nil {
				return fmt.Errorf("%s: %w", in.name, err)
			}
		} else {
			ids = tok.Encode(string(in.data))
		}
		if tf.asJSON {
			if err := json.NewEncoder(w).Encode(map[string]any{"file": in.name, "tokenizer": tok.Name(), "bytes": len(in.data), "tokens": len(ids), "ids": ids}); err != nil {
				return err
			}
			continue
		}
		buf := make([]byte, 0, 6*len(ids)+1)
		for i, id := range ids {
			if i > 0 {
				buf = append(buf, ' ')
			}
			buf = strconv.AppendInt(buf, int64(id), 10)
		}
		buf = append(buf, '\n')
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

// parseIDs reads ids as a JSON array, a JSON object with "ids" (encode --json), or integers
// separated by whitespace or commas.
func parseIDs(data []byte) ([]int, error) {
	s := strings.TrimSpace(string(data))
	if strings.HasPrefix(s, "[") {
		var ids []int
		if err := json.Unmarshal([]byte(s), &ids); err != nil {
			return nil, fmt.Errorf("ids: %w", err)
		}
		return ids, nil
	}
	if strings.HasPrefix(s, "{") {
		var v struct{ IDs []int }
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return nil, fmt.Errorf("ids: %w", err)
		}
		return v.IDs, nil
	}
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' || r == '\r' })
	ids := make([]int, len(fields))
	for i, f := range fields {
		v, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("ids: %q at position %d is not an integer", f, i)
		}
		ids[i] = v
	}
	return ids, nil
}

func runTokDecode(args []string) error {
	fs := newFlags("tokenizer decode", "tokenizer decode [--tokenizer gpt2] [--json] [files...]")
	var tf tokFlags
	tf.add(fs)
	if err := parseFlags(fs, args, true); err != nil {
		return err
	}
	tok, err := tf.open()
	if err != nil {
		return err
	}
	ins, err := readInputs(fs.Args())
	if err != nil {
		return err
	}
	for _, in := range ins {
		ids, err := parseIDs(in.data)
		if err != nil {
			return fmt.Errorf("%s: %w", in.name, err)
		}
		var text string
		if c, ok := tok.(interface{ DecodeChecked([]int) (string, error) }); ok { // ids outside the vocabulary are an error
			text, err = c.DecodeChecked(ids)
		} else {
			text = tok.Decode(ids)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", in.name, err)
		}
		if tf.asJSON {
			if err := json.NewEncoder(os.Stdout).Encode(map[string]any{"file": in.name, "tokens": len(ids), "text": text}); err != nil {
				return err
			}
		} else if _, err := io.WriteString(os.Stdout, text); err != nil {
			return err
		}
	}
	return nil
}

func runTokInfo(args []string) error {
	fs := newFlags("tokenizer info", "tokenizer info [--tokenizer gpt2] [--json]")
	var tf tokFlags
	tf.add(fs)
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	tok, err := tf.open()
	if err != nil {
		return err
	}
	info := map[string]any{"name": tok.Name(), "vocab_size": tok.VocabSize()}
	human := fmt.Sprintf("%s: vocab size %d", tok.Name(), tok.VocabSize())
	switch t := tok.(type) {
	case *tokenizer.BPE:
		info["type"] = "byte-level BPE"
		info["special_tokens"] = t.SpecialTokens()
		info["merges"] = t.NumMerges()
		info["pre_tokenizer"] = t.PreTokenizer()
		sp := t.SpecialTokens()
		ids := make([]int, 0, len(sp))
		byID := map[int]string{}
		for s, id := range sp {
			ids = append(ids, id)
			byID[id] = s
		}
		slices.Sort(ids)
		var list []string
		for i, id := range ids {
			if i == 8 { // LLaMA-3 has 256 (most reserved): the JSON form lists them all
				list = append(list, fmt.Sprintf("... (%d in all)", len(ids)))
				break
			}
			list = append(list, fmt.Sprintf("%s=%d", byID[id], id))
		}
		human += fmt.Sprintf(", byte-level BPE, %s pre-tokenizer, %d merges, special tokens %s", t.PreTokenizer(), t.NumMerges(), strings.Join(list, " "))
		if pre := t.AddSpecialTokens(nil); len(pre) > 0 {
			human += fmt.Sprintf(", template adds %v", pre)
		}
	case *tokenizer.Char:
		info["type"] = "char"
		info["chars"] = string(t.Runes())
		human += fmt.Sprintf(", characters %q", string(t.Runes()))
	}
	return printResult(tf.asJSON, info, human)
}

func runTokTrain(ctx context.Context, args []string) error {
	fs := newFlags("tokenizer train", "tokenizer train --vocab-size N [-o tokenizer.json] [--split train] [files-or-dirs...] (none: stdin)")
	vocab := fs.Int("vocab-size", 0, "vocabulary size: special tokens + 256 bytes + merges (e.g. 32000)")
	minFreq := fs.Int("min-frequency", 0, "stop when the best pair occurs fewer times than this")
	special := fs.String("special", "<|endoftext|>", "comma-separated special tokens, given ids 0.. (empty: none)")
	out := fs.String("o", "tokenizer.json", "output tokenizer.json path")
	split := fs.String("split", "", "for a directory argument with a split.tsv (file, split columns): only the files of this split")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	quiet := fs.Bool("quiet", false, "no progress lines")
	if err := parseFlags(fs, args, true); err != nil {
		return err
	}
	if *vocab <= 0 {
		return fmt.Errorf("--vocab-size is required (e.g. --vocab-size 32000)")
	}
	args = fs.Args()
	if len(args) == 0 {
		args = []string{"-"} // stdin
	}
	files, err := trainFiles(args, *split)
	if err != nil {
		return err
	}
	var specials []string
	if *special != "" {
		specials = strings.Split(*special, ",")
	}
	t0 := time.Now()
	texts := make([]string, len(files))
	nbytes := 0
	for i, f := range files {
		var b []byte
		var err error
		if f == "-" {
			b, err = io.ReadAll(os.Stdin)
		} else {
			b, err = os.ReadFile(f)
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", f, err)
		}
		texts[i], nbytes = string(b), nbytes+len(b)
	}
	counts := tokenizer.CountWords(texts, specials)
	tCount := time.Since(t0)
	cfg := tokenizer.TrainConfig{VocabSize: *vocab, MinFrequency: *minFreq, Special: specials}
	if !*quiet {
		fmt.Fprintf(os.Stderr, "tokenizer train: %d files, %.1f MB, %d distinct words (%.2fs)\n", len(files), float64(nbytes)/1e6, len(counts), tCount.Seconds())
		last := time.Now()
		cfg.Progress = func(m, target int) {
			if time.Since(last) > 2*time.Second || m == target {
				fmt.Fprintf(os.Stderr, "tokenizer train: %d/%d merges (%.1fs)\n", m, target, time.Since(t0).Seconds())
				last = time.Now()
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	t1 := time.Now()
	tok, err := tokenizer.TrainCounts(counts, cfg)
	if err != nil {
		return err
	}
	tMerge := time.Since(t1)
	if err := tok.Save(*out); err != nil {
		return err
	}
	res := map[string]any{"output": *out, "files": len(files), "bytes": nbytes, "words": len(counts),
		"vocab_size": tok.VocabSize(), "merges": tok.NumMerges(), "count_seconds": tCount.Seconds(),
		"merge_seconds": tMerge.Seconds(), "total_seconds": time.Since(t0).Seconds()}
	return printResult(*asJSON, res, fmt.Sprintf("trained %d tokens (%d merges) on %d files (%.1f MB) in %.1fs (read+count %.1fs, merges %.1fs); wrote %s",
		tok.VocabSize(), tok.NumMerges(), len(files), float64(nbytes)/1e6, time.Since(t0).Seconds(), tCount.Seconds(), tMerge.Seconds(), *out))
}

// trainFiles expands directories to their .txt files (sorted), keeping only split's files when the
// directory has a split.tsv and split is set.
func trainFiles(args []string, split string) ([]string, error) {
	var files []string
	for _, a := range args {
		if a == "-" {
			files = append(files, a)
			continue
		}
		st, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", a, err)
		}
		if !st.IsDir() {
			files = append(files, a)
			continue
		}
		var names []string
		if split != "" {
			names, err = splitFiles(filepath.Join(a, "split.tsv"), split)
			if err != nil {
				return nil, err
			}
		} else {
			m, err := filepath.Glob(filepath.Join(a, "*.txt"))
			if err != nil {
				return nil, err
			}
			for _, p := range m {
				names = append(names, filepath.Base(p))
			}
		}
		slices.Sort(names)
		for _, n := range names {
			files = append(files, filepath.Join(a, n))
		}
	}
	return files, nil
}

func splitFiles(tsv, split string) ([]string, error) {
	data, err := os.ReadFile(tsv)
	if err != nil {
		return nil, fmt.Errorf("--split: read %s: %w", tsv, err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	head := strings.Split(lines[0], "\t")
	fi, si := slices.Index(head, "file"), slices.Index(head, "split")
	if fi < 0 || si < 0 {
		return nil, fmt.Errorf("--split: %s has no file and split columns", tsv)
	}
	var names []string
	for _, l := range lines[1:] {
		f := strings.Split(strings.TrimRight(l, "\r"), "\t")
		if len(f) > max(fi, si) && f[si] == split {
			names = append(names, f[fi])
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("--split: no files of split %q in %s", split, tsv)
	}
	return names, nil
}
