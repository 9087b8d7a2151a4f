package main

// tern info FILE: what a model, checkpoint or packed file holds: architecture, sharing map,
// parameters as if unshared and unique, and sizes (fp32, fp16, and packed measured from a real file).

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"tern/format"
	"tern/model"
)

func init() {
	register("info", "show a model file's architecture, parameter sharing, counts and sizes", runInfo)
}

func runInfo(ctx context.Context, args []string) error {
	fs := newFlags("info", "info [flags] FILE")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parseFlags(fs, args, true); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("info: want one FILE (a model, checkpoint or packed .safetensors)")
	}
	path := fs.Arg(0)
	f, err := format.Read(path)
	if err != nil {
		return fmt.Errorf("info: %w", err)
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
		return fmt.Errorf("info: %w", err)
	}
	stats := model.Stats(lm)
	sizes, err := model.MeasureSizes(lm, "")
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(map[string]any{
			"file": path, "kind": kind, "file_bytes": st.Size(), "config": lm.Config(),
			"sharing": lm.Config().Sharing.String(), "sharing_map": model.SharingMap(lm),
			"params_unshared": stats.Total, "params_unique": stats.Unique, "reduction": stats.Reduction,
			"ternary_params": stats.Ternary, "fp32_bytes": sizes.FP32, "fp16_bytes": sizes.FP16, "packed_bytes": sizes.Packed,
		})
	}
	cfg := lm.Config()
	fmt.Printf("%s: %s file, %s on disk\n", path, kind, model.MiB(st.Size()))
	fmt.Printf("model: %s, %d layers", cfg.Type, cfg.Layers)
	if cfg.Type == "encdec" {
		fmt.Printf(" + %d decoder layers", cfg.Decoders())
	}
	fmt.Printf(", hidden %d, ffn %d, heads %d, vocab %d, linear %s, objective %s\n", cfg.Hidden, cfg.FFN, cfg.Heads, cfg.Vocab, cfg.Linear, cfg.Objective)
	fmt.Println(model.SharingReport(lm, ""))
	return nil
}
