package main

// tern info FILE.gguf: a GGUF file's architecture and metadata, its tensors by type with bits per value
// computed from the file's bytes, and, for architectures tern runs (llama, bitnet), what loading costs:
// the ternary matrices' bytes in the file and after conversion to tern's trit5 layout.

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"tern/gguf"
	"tern/infer"
)

// isGGUF reports whether path starts with the GGUF magic.
func isGGUF(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [4]byte
	n, _ := f.Read(b[:])
	return n == 4 && string(b[:]) == gguf.Magic
}

func infoGGUF(path string, asJSON, listTensors bool) error {
	f, err := gguf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	byType := map[gguf.Type]*infoGroup{}
	var tensors []infoTensor
	for _, t := range f.Tensors {
		g := byType[t.Type]
		if g == nil {
			g = &infoGroup{Format: t.Type.String()}
			byType[t.Type] = g
		}
		g.Tensors++
		g.Values += t.Elements()
		g.Bytes += int64(len(t.Data))
		tensors = append(tensors, infoTensor{Name: t.Name, Format: t.Type.String(), Shape: t.Shape(), Values: t.Elements(), Bytes: int64(len(t.Data))})
	}
	var groups []infoGroup
	for _, g := range byType {
		g.Bits = 8 * float64(g.Bytes) / float64(max(g.Values, 1))
		groups = append(groups, *g)
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].Bytes > groups[j].Bytes })
	arch, _ := f.String(gguf.KeyArchitecture)
	out := map[string]any{"file": path, "file_bytes": f.Size, "gguf_version": f.Version, "architecture": arch,
		"metadata_keys": len(f.KV), "alignment": f.Alignment, "formats": groups}
	if listTensors || asJSON {
		out["tensors"] = tensors
	}
	var conv string
	cfg, cerr := infer.LlamaConfigOf(f)
	if cerr == nil {
		out["config"] = cfg
		m, err := infer.LoadGGUF(path, 1)
		if err != nil {
			return err
		}
		out["ternary_file_bytes"], out["ternary_trit5_bytes"], out["ternary_converted"] = m.TernaryFileBytes, m.TernaryBytes, m.Converted
		conv = fmt.Sprintf("loading converts %d ternary matrices once into trit5: %d bytes in the file -> %d bytes in memory (%.1f%%)",
			m.Converted, m.TernaryFileBytes, m.TernaryBytes, 100*float64(m.TernaryBytes)/float64(max(m.TernaryFileBytes, 1)))
		out["model_bytes"], out["table_format"] = m.ModelBytes(), m.TableFormat()
		conv += fmt.Sprintf("\nweights after loading: %d bytes, the token table as %s", m.ModelBytes(), m.TableFormat())
		m.Close()
	}
	if asJSON {
		return json.NewEncoder(os.Stdout).Encode(out)
	}
	fmt.Printf("%s: GGUF v%d, %s, %d metadata keys, %d tensors, alignment %d\n", path, f.Version, mib(f.Size), len(f.KV), len(f.Tensors), f.Alignment)
	if cerr != nil {
		fmt.Printf("architecture %q: %v\n", arch, cerr)
	} else {
		fmt.Printf("model: %s, %d layers, hidden %d, ffn %d, heads %d (KV %d), vocab %d, context %d, rope base %g\n",
			cfg.Arch, cfg.Layers, cfg.Hidden, cfg.FFN, cfg.Heads, cfg.KVHeads, cfg.Vocab, cfg.Ctx, cfg.RopeBase)
	}
	for _, kv := range f.KV {
		if strings.HasPrefix(kv.Key, "general.") || strings.HasPrefix(kv.Key, "tokenizer.ggml.model") || strings.HasPrefix(kv.Key, "tokenizer.ggml.pre") {
			fmt.Printf("  %s = %v\n", kv.Key, clipValue(kv.Value))
		}
	}
	fmt.Println("storage (from the file's bytes):")
	for _, g := range groups {
		fmt.Printf("  %-8s %4d tensors  %12d values  %12d bytes  %7.4f bits/value\n", g.Format, g.Tensors, g.Values, g.Bytes, g.Bits)
	}
	if conv != "" {
		fmt.Println(conv)
	}
	if listTensors {
		for _, t := range tensors {
			fmt.Printf("  %-40s %-8s %-14s %10d bytes\n", t.Name, t.Format, fmt.Sprint(t.Shape), t.Bytes)
		}
	}
	return nil
}

func mib(n int64) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }

func clipValue(v any) string {
	if a, ok := v.(gguf.Array); ok {
		return fmt.Sprintf("[%d %s]", a.Len(), a.Type)
	}
	s := fmt.Sprint(v)
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}
