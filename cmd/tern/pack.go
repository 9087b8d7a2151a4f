package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"tern/format"
	"tern/infer"
	"tern/model"
	"tern/quant"
)

func init() {
	register("pack", "convert a trained model to its deployable form (ternary 5 trits per byte, other widths as n-bit rows)", runPack)
}

func runPack(ctx context.Context, args []string) error {
	fs := newFlags("pack", "pack --model M --out M.tern [flags]")
	in := fs.String("model", "", "trained model (model.safetensors or a checkpoint)")
	out := fs.String("out", "", "packed output file, e.g. model.tern")
	float := fs.String("float", "f16", "storage of non-ternary tensors (embeddings, norms): f16 or f32")
	table := fs.String("table", "", "storage of the token table / LM head: f16, f32 or int8 (one scale per row; a quarter of fp32's bytes, read once per decoded token); default: as --float")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *in == "" || *out == "" {
		return fmt.Errorf("--model and --out are required")
	}
	dt := map[string]format.DType{"f16": format.F16, "f32": format.F32}[*float]
	if dt == "" {
		return fmt.Errorf("--float must be f16 or f32, not %q", *float)
	}
	tdt, ok := tableTypes[*table]
	if *table == "" {
		tdt, ok = dt, true
	}
	if !ok {
		return fmt.Errorf("--table must be f16, f32 or int8, not %q", *table)
	}
	// Packing over its own input would replace the fp32 model with the packed one.
	if si, err := os.Stat(*in); err == nil {
		if so, err := os.Stat(*out); err == nil && os.SameFile(si, so) {
			return fmt.Errorf("--out %s is the input model %s: packing would replace it; choose another --out", *out, *in)
		}
	}
	if _, err := format.RemoveStaleTemps(filepath.Dir(*out), filepath.Base(*out)); err != nil {
		return err
	}
	lm, tok, err := model.Load(*in)
	if err != nil {
		return err
	}
	st, err := infer.Pack(*out, lm, tok, model.PackFormat{Float: dt, Table: tdt})
	if err != nil {
		return err
	}
	fi, err := os.Stat(*out)
	if err != nil {
		return err
	}
	inFi, _ := os.Stat(*in)
	total, unique := model.CountParams(lm.Params())
	_ = total
	fmt.Printf("packed %s -> %s\n", *in, *out)
	var qw, qb int
	for _, w := range quant.Widths() {
		if ws, ok := st.ByWidth[w]; ok {
			name := w.String() + "-bit"
			if w == quant.WidthTernary {
				name = "ternary"
			}
			fmt.Printf("  %-15s  %d matrices, %d weights in %d bytes = %.4f bits/weight (scales included)\n", name+" tensors:", ws.Matrices, ws.Weights, ws.Bytes, ws.BitsPerWeight())
			qw, qb = qw+ws.Weights, qb+ws.Bytes
		}
	}
	if len(st.ByWidth) > 1 {
		fmt.Printf("  all quantized:    %d weights in %d bytes = %.4f bits/weight\n", qw, qb, 8*float64(qb)/float64(max(qw, 1)))
	}
	if tdt != dt {
		fmt.Printf("  other tensors:   %d params as %s, the token table / LM head as %s\n", st.FloatParams, dt, tdt)
	} else {
		fmt.Printf("  other tensors:   %d params as %s\n", st.FloatParams, dt)
	}
	fmt.Printf("  whole file:      %d bytes = %.3f bits per parameter (%d unique params); input was %d bytes\n",
		fi.Size(), 8*float64(fi.Size())/float64(unique), unique, inFi.Size())
	return nil
}

// tableTypes are the --table choices of pack and bench decode.
var tableTypes = map[string]format.DType{"f16": format.F16, "f32": format.F32, "int8": format.I8}
