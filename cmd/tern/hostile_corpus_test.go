package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"
	"testing"

	"tern/format"
	"tern/model"
	"tern/tensor"
)

// hostileDir holds the hostile-input corpus: small files, each a way a user's file can be wrong
// (scripts/hostile-corpus.sh regenerates it; TestHostileCorpus feeds each to every loader that reads
// its kind).
const hostileDir = "testdata/hostile"

// TestWriteHostileCorpus regenerates testdata/hostile (TERN_WRITE_HOSTILE=1).
func TestWriteHostileCorpus(t *testing.T) {
	if os.Getenv("TERN_WRITE_HOSTILE") == "" {
		t.Skip("set TERN_WRITE_HOSTILE=1 (scripts/hostile-corpus.sh) to regenerate " + hostileDir)
	}
	os.RemoveAll(hostileDir)
	if err := os.MkdirAll(hostileDir, 0o755); err != nil {
		t.Fatal(err)
	}
	put := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(hostileDir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A tiny valid model, and its tensors and metadata to make bad ones from.
	cfg := model.Config{Type: "transformer", Objective: "causal", Vocab: 256, Hidden: 8, Layers: 2, Heads: 2, FFN: 16,
		MaxPos: 8, Linear: "bitnet", TieEmbeddings: true, Norm: "layernorm"}
	lm, err := model.New(cfg, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := model.ParamTensors(lm)
	meta := model.FileMeta(lm, "model", "gpt2")
	enc := func(meta map[string]string, ts []format.Tensor) []byte {
		var buf bytes.Buffer
		if err := format.Encode(&buf, meta, ts); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	good := enc(meta, ts)
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range meta {
			m[a] = b
		}
		m[k] = v
		return m
	}
	raw := func(header string, data []byte) []byte {
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
		return append(append(b, header...), data...)
	}
	// Model files (info, generate, pack read them).
	put("model-huge-config.safetensors", enc(with(model.MetaConfig, `{"type":"transformer","objective":"causal","vocab":50257,"hidden":16384,"layers":4096,"heads":128,"ffn":65536,"max_pos":1048576,"linear":"bitnet","tie_embeddings":true,"norm":"layernorm"}`),
		[]format.Tensor{format.F32Tensor("tok_emb.weight", []int{1, 1}, []float32{1})}))
	put("model-header-length-2e63.safetensors", append([]byte{0, 0, 0, 0, 0, 0, 0, 0x80}, "{}"...))
	put("model-header-past-eof.safetensors", raw(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, nil)[:20])
	put("model-offsets-past-eof.safetensors", raw(`{"a":{"dtype":"F32","shape":[1000000000],"data_offsets":[0,4000000000]}}`, []byte{1, 2, 3, 4}))
	put("model-layers-edited.safetensors", bytes.Replace(good, []byte(`\"layers\":2`), []byte(`\"layers\":1`), 1))
	put("model-truncated.safetensors", good[:len(good)-7])
	put("model-empty.safetensors", nil)
	put("model-not-json.safetensors", raw("hello, world", nil))
	put("model-plain-safetensors.safetensors", raw(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}`, []byte{1, 2}))
	put("model-newer-version.safetensors", bytes.Replace(good, []byte(`"format_version":"2"`), []byte(`"format_version":"9"`), 1))
	nan := append([]format.Tensor{}, ts...)
	for i, tn := range nan {
		if tn.Name == "blocks.0.attn.qkv.weight" {
			w, _ := tn.Float32()
			w[3] = float32(nan32())
			nan[i] = format.F32Tensor(tn.Name, tn.Shape, w)
		}
	}
	put("model-nan-weight.safetensors", enc(meta, nan))
	put("model-unused-tensor.safetensors", enc(meta, append(append([]format.Tensor{}, ts...), format.F32Tensor("blocks.9.extra", []int{2}, []float32{1, 2}))))
	put("model-missing-tensor.safetensors", enc(meta, ts[1:]))
	put("model-config-uppercase-key.safetensors", enc(with(model.MetaConfig, strings.Replace(meta[model.MetaConfig], `"hidden":8`, `"hidden":8,"HIDDEN":4096`, 1)), ts))
	// Tokenizer files (tern tokenizer encode --tokenizer).
	put("tok-huge-id.json", []byte(`{"model":{"type":"BPE","vocab":{"a":0,"b":16777215},"merges":[]},"pre_tokenizer":{"type":"ByteLevel"}}`))
	put("tok-not-json.json", []byte(`{"model": [`))
	put("tok-negative-id.json", []byte(`{"model":{"type":"BPE","vocab":{"a":-1},"merges":[]}}`))
	// Config files (tern train --config).
	put("config-uppercase.json", []byte(`{"model": {"hidden": 64, "HIDDEN": 4096}}`))
	put("config-two-objects.json", []byte(`{"model": {"hidden": 64}} {"model": {"hidden": 4096}}`))
	put("config-huge.json", []byte(`{"model": {"vocab": 16777216, "hidden": 16777216, "ffn": 16777216, "layers": 4096}}`))
	put("config-bad-dropout.json", []byte(`{"model": {"dropout": 1e309}}`))
	// Text (tern eval lm --data).
	put("text-empty.txt", nil)
	put("text-invalid-utf8.txt", []byte("abc\xff\xfe\n"))
}

func nan32() float32 { z := float32(0); return z / z }

// TestHostileCorpus runs every loader over the hostile corpus as a subprocess: each file must be
// refused with a one-line error (exit 1, no panic or stack trace) at a peak RSS below 300 MB.
func TestHostileCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI")
	}
	files, _ := filepath.Glob(filepath.Join(hostileDir, "*"))
	if len(files) < 20 {
		t.Fatalf("%s holds %d files: run scripts/hostile-corpus.sh", hostileDir, len(files))
	}
	sort.Strings(files)
	bin := buildTern(t)
	out := t.TempDir()
	commands := func(f string) [][]string {
		switch base := filepath.Base(f); {
		case strings.HasPrefix(base, "model-"):
			return [][]string{{"info", f}, {"generate", "--model", f, "--max-tokens", "2"}, {"pack", "--model", f, "--out", filepath.Join(out, "p.tern")},
				{"eval", "lm", "--model", f, "--data", filepath.Join(hostileDir, "text-invalid-utf8.txt")}}
		case strings.HasPrefix(base, "tok-"):
			return [][]string{{"tokenizer", "encode", "--tokenizer", f}, {"train", "--tokenizer", f, "--out", filepath.Join(out, "r")}}
		case strings.HasPrefix(base, "config-"):
			return [][]string{{"train", "--config", f, "--out", filepath.Join(out, "r")}}
		case strings.HasPrefix(base, "text-"):
			return [][]string{{"eval", "lm", "--preset", "tiny", "--data", f}, {"train", "--data", f, "--out", filepath.Join(out, "r")}}
		}
		t.Fatalf("no loader for %s", f)
		return nil
	}
	const maxRSS = 300 << 20
	var peak int64
	runs := 0
	for _, f := range files {
		for _, args := range commands(f) {
			// Go starts a child with CLONE_VM, and Linux records the parent's peak RSS as the child's
			// ru_maxrss at exec: lower this process's peak to its current RSS first, or a test that
			// once held a large model would make every child look large.
			debug.FreeOSMemory()
			resetPeakRSS()
			cmd := exec.Command(bin, args...)
			cmd.Stdin = strings.NewReader("hello\n")
			b, err := cmd.CombinedOutput()
			s := strings.TrimSpace(string(b))
			if err == nil || strings.Contains(s, "goroutine ") || strings.Contains(s, "panic") || strings.Count(s, "\n") > 2 {
				t.Errorf("%v: err %v, output:\n%s", args, err, s)
			}
			if !strings.Contains(s, filepath.Base(f)) && !strings.Contains(s, "--") {
				t.Errorf("%v: the message does not name the file: %s", args, s)
			}
			runs++
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
				peak = max(peak, ru.Maxrss*1024)
				if ru.Maxrss*1024 > maxRSS {
					t.Errorf("%v: peak RSS %d MB", args, ru.Maxrss>>10)
				}
			}
		}
	}
	t.Logf("%d files, %d loader runs, all refused; largest peak RSS %.1f MB", len(files), runs, float64(peak)/(1<<20))
}
