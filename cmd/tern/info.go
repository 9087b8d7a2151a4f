package main

// tern info FILE: what a model, checkpoint or packed file holds: architecture, sharing map,
// parameters as if unshared and unique, sizes (fp32, fp16, and packed measured from a real file), the
// file's storage formats with their bits per weight computed from its bytes, the checksum status, and
// with --tensors every tensor.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"tern/format"
	"tern/model"
	"tern/quant"
)

func init() {
	register("info", "show a model file's architecture, parameter sharing, counts and sizes", runInfo)
}

func runInfo(ctx context.Context, args []string) error {
	fs := newFlags("info", "info [flags] FILE")
	asJSON := fs.Bool("json", false, "print one JSON object")
	listTensors := fs.Bool("tensors", false, "list every tensor: name, storage, shape, bytes")
	if err := parseFlags(fs, args, true); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("want one FILE (a model, checkpoint or packed .safetensors, or a .gguf)")
	}
	path := fs.Arg(0)
	if isGGUF(path) {
		return infoGGUF(path, *asJSON, *listTensors)
	}
	f, err := format.Read(path)
	if err != nil {
		return err
	}
	kind := f.Meta[model.MetaKind]
	var lm model.LM
	if kind == "packed" {
		lm, _, err = model.LoadPacked(path)
	} else {
		lm, _, err = model.Load(path)
	}
	if err != nil {
		return err
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	stats := model.Stats(lm)
	sizes, err := model.MeasureSizes(lm, "")
	if err != nil {
		return err
	}
	groups, tensors := storage(f)
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(map[string]any{
			"formats": groups, "tensors": tensors, "checksums_verified": len(f.Tensors),
			"header_checksum": f.Meta[format.MetaChecksumKey] != "",
			"file":            path, "kind": kind, "file_bytes": st.Size(), "config": lm.Config(),
			"sharing": lm.Config().Sharing.String(), "sharing_map": model.SharingMap(lm),
			"params_unshared": stats.Total, "params_unique": stats.Unique, "reduction": stats.Reduction,
			"ternary_params": stats.Ternary, "fp32_bytes": sizes.FP32, "fp16_bytes": sizes.FP16, "packed_bytes": sizes.Packed,
		})
	}
	cfg := lm.Config()
	fmt.Printf("%s: %s file, %s on disk\n", path, kind, model.MiB(st.Size()))
	fmt.Printf("model: %s, %d layers", cfg.Type, cfg.Layers)
	if cfg.Type == model.TypeEncDec {
		fmt.Printf(" + %d decoder layers", cfg.Decoders())
	}
	fmt.Printf(", hidden %d, ffn %d, heads %d", cfg.Hidden, cfg.FFN, cfg.Heads)
	if cfg.IsLlama() {
		fmt.Printf(" (%d KV), rope theta %g, ffn %s, sub-norms %v, rms eps %g", cfg.KV(), cfg.Theta(), cfg.FFNAct, cfg.SubNorm, cfg.Eps())
	}
	fmt.Printf(", vocab %d, linear %s, objective %s\n", cfg.Vocab, cfg.Linear, cfg.Objective)
	fmt.Println(model.SharingReport(lm, ""))
	if ms := model.QuantMatrices(lm); len(ms) > 0 && (len(cfg.Bits) > 0 || cfg.BitsDefault != quant.WidthTernary) {
		fmt.Printf("bit widths (%.4f bits/weight stored on average):\n", model.StoredBitsPerWeight(lm))
		for _, m := range ms {
			fmt.Printf("  %-40s %v\n", m.Name, m.Width())
		}
	}
	fmt.Println("storage (from the file's bytes):")
	for _, g := range groups {
		fmt.Printf("  %-22s %4d tensors  %12d values  %12d bytes  %7.4f bits/value\n", g.Format, g.Tensors, g.Values, g.Bytes, g.Bits)
	}
	fmt.Printf("checksums: all %d tensors match their CRC-32C; %s\n", len(f.Tensors), headerSum(f))
	if *listTensors {
		for _, t := range tensors {
			fmt.Printf("  %-40s %-16s %-14s %10d bytes\n", t.Name, t.Format, fmt.Sprint(t.Shape), t.Bytes)
		}
	}
	return nil
}

// headerSum says whether the header was verified: files from before format version 2 have no
// metadata checksum and load with their tensor checksums alone.
func headerSum(f *format.File) string {
	if f.Meta[format.MetaChecksumKey] != "" {
		return "the header (metadata and tensor table) matches its CRC-32C"
	}
	return "the header has no checksum (format_version " + f.Meta[format.MetaFormatVersion] + ", written before tern checked headers)"
}

// infoTensor is one tensor of the file as stored: a packed ternary matrix is listed with its logical
// shape (N, K) and counts its scale's bytes; an int8 table likewise; the scales are not listed apart.
type infoTensor struct {
	Name   string `json:"name"`
	Format string `json:"format"` // "ternary (trit5)", "int8 (row scales)", or the dtype
	Shape  []int  `json:"shape"`
	Values int64  `json:"values"`
	Bytes  int64  `json:"bytes"`
}

// infoGroup totals the tensors of one storage format.
type infoGroup struct {
	Format  string  `json:"format"`
	Tensors int     `json:"tensors"`
	Values  int64   `json:"values"`
	Bytes   int64   `json:"bytes"`
	Bits    float64 `json:"bits_per_value"`
}

// storage describes f's tensors by storage format, in file order, with the totals per format. f was
// read whole and checked, so every packed matrix's metadata is valid.
func storage(f *format.File) ([]infoGroup, []infoTensor) {
	var out []infoTensor
	scaleOf := map[string]bool{}
	for _, t := range f.Tensors {
		if _, ok := f.Meta[format.MetaTernaryPref+t.Name]; ok || f.IsNBit(t.Name) {
			scaleOf[t.Name+".scale"] = true
		} else if t.DType == format.I8 {
			if _, ok := f.Tensor(t.Name + ".scale"); ok {
				scaleOf[t.Name+".scale"] = true
			}
		}
	}
	for _, t := range f.Tensors {
		if scaleOf[t.Name] {
			continue
		}
		it := infoTensor{Name: t.Name, Format: string(t.DType), Shape: t.Shape, Values: int64(t.NumElements()), Bytes: int64(len(t.Data))}
		sc, hasScale := f.Tensor(t.Name + ".scale")
		switch pt, err := f.Ternary(t.Name); {
		case err == nil:
			it.Format, it.Shape, it.Values = "ternary (trit5)", []int{pt.N, pt.K}, int64(pt.N)*int64(pt.K)
		case f.IsNBit(t.Name):
			if pn, err := f.NBit(t.Name); err == nil {
				it.Format, it.Shape, it.Values = fmt.Sprintf("%d-bit (rows)", pn.Bits), []int{pn.N, pn.K}, int64(pn.N)*int64(pn.K)
			}
		case t.DType == format.I8 && hasScale:
			it.Format = "int8 (row scales)"
		default:
			hasScale = false
		}
		if hasScale {
			it.Bytes += int64(len(sc.Data))
		}
		out = append(out, it)
	}
	var groups []infoGroup
	at := map[string]int{}
	for _, t := range out {
		i, ok := at[t.Format]
		if !ok {
			i = len(groups)
			at[t.Format] = i
			groups = append(groups, infoGroup{Format: t.Format})
		}
		g := &groups[i]
		g.Tensors++
		g.Values += t.Values
		g.Bytes += t.Bytes
	}
	for i := range groups {
		if g := &groups[i]; g.Values > 0 {
			g.Bits = 8 * float64(g.Bytes) / float64(g.Values)
		}
	}
	return groups, out
}
