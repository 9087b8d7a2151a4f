package main

// `tern bench sharing`: the combined compression of parameter sharing and 1.58-bit packing for one
// architecture, measured from files written to disk (never from formulas): the unshared fp32 model
// file, the shared fp32 model file, and the shared packed file.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"tern/model"
	"tern/share"
	"tern/tensor"
)

func init() {
	registerBench("sharing", "file sizes of a preset unshared (fp32), shared (fp32) and shared + packed", benchSharing)
}

type sharingRow struct {
	Sharing      string  `json:"sharing"`
	Params       int     `json:"params_unshared"`
	Unique       int     `json:"params_unique"`
	FP32Bytes    int64   `json:"fp32_file_bytes"`
	PackedBytes  int64   `json:"packed_file_bytes"`
	VsUnshared32 float64 `json:"compression_vs_unshared_fp32"`
}

func benchSharing(ctx context.Context, args []string) error {
	fs := newFlags("bench sharing", "bench sharing [--preset bert] [--sharing 'none all attention'] [--dir /tmp/x]")
	preset := fs.String("preset", "bert", "model preset (bert = model.Default(), BERT-base sizes)")
	list := fs.String("sharing", "none all attention ffn alternate=2 sequential=2", "space-separated sharing specs (see tern train --sharing)")
	dir := fs.String("dir", os.TempDir(), "where the files are written (and left, for inspection)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	base, err := model.Preset(*preset)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	var rows []sharingRow
	var ref int64
	var human strings.Builder
	for _, spec := range strings.Fields(*list) {
		if err := ctx.Err(); err != nil {
			return err
		}
		sp, err := share.Parse(spec)
		if err != nil {
			return err
		}
		cfg := base
		cfg.Sharing = sp
		lm, err := model.New(cfg, tensor.NewRNG(1))
		if err != nil {
			return err
		}
		name := strings.NewReplacer("=", "", ",", "_", ";", "-", "+", "_").Replace(spec)
		fp := filepath.Join(*dir, fmt.Sprintf("tern-%s-%s.safetensors", *preset, name))
		if err := model.Save(fp, lm, ""); err != nil {
			return err
		}
		st, err := os.Stat(fp)
		if err != nil {
			return err
		}
		packed, err := model.WritePacked(filepath.Join(*dir, fmt.Sprintf("tern-%s-%s.packed.safetensors", *preset, name)), lm, "")
		if err != nil {
			return err
		}
		s := model.Stats(lm)
		if ref == 0 {
			ref = st.Size() // the first spec (none by default) is the reference
		}
		r := sharingRow{Sharing: sp.String(), Params: s.Total, Unique: s.Unique, FP32Bytes: st.Size(), PackedBytes: packed,
			VsUnshared32: float64(ref) / float64(packed)}
		rows = append(rows, r)
		fmt.Fprintf(&human, "%-14s params %11d unique %11d  fp32 file %10s  packed file %10s  (%.1fx smaller than the first fp32 file)\n",
			r.Sharing, r.Params, r.Unique, model.MiB(r.FP32Bytes), model.MiB(r.PackedBytes), r.VsUnshared32)
	}
	return printResult(*asJSON, rows, strings.TrimRight(human.String(), "\n"))
}
