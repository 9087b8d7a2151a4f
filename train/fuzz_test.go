package train

import (
	"bytes"
	"io"
	"path/filepath"
	"testing"

	"tern/format"
	"tern/model"
)

// FuzzCheckpointMeta: a checkpoint's metadata values (model and train configs, steps, RNG states)
// are read or refused, never a panic; accepted RNG states are usable (never all zeros).
func FuzzCheckpointMeta(f *testing.F) {
	dir := f.TempDir()
	cfg, mc := tinyRun(f, dir, 1, 0, nil)
	r, err := NewRun(cfg, mc, false, io.Discard)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := r.Train(f.Context()); err != nil {
		f.Fatal(err)
	}
	ck, err := format.Read(filepath.Join(dir, CheckpointName))
	if err != nil {
		f.Fatal(err)
	}
	keys := []string{model.MetaConfig, metaTrainConfig, metaStep, metaAdamStep, metaSamplerRNG, metaDropoutRNG}
	f.Add(uint8(0), ck.Meta[model.MetaConfig])
	f.Add(uint8(1), ck.Meta[metaTrainConfig])
	f.Add(uint8(4), `{"s":[0,0,0,0],"have_spare":false,"spare":0}`)
	f.Add(uint8(2), "-1")
	f.Fuzz(func(t *testing.T, which uint8, value string) {
		meta := map[string]string{}
		for k, v := range ck.Meta {
			if k != format.MetaFormat && k != format.MetaFormatVersion && !bytes.HasPrefix([]byte(k), []byte(format.MetaChecksumPref)) {
				meta[k] = v
			}
		}
		meta[keys[int(which)%len(keys)]] = value
		var buf bytes.Buffer
		if err := format.Encode(&buf, meta, ck.Tensors); err != nil {
			return
		}
		file, err := format.Parse(buf.Bytes())
		if err != nil {
			t.Fatalf("tern's own encoding does not parse: %v", err)
		}
		st, err := checkpointOf(file, "f.safetensors")
		if err != nil {
			return
		}
		if st.Sampler.Check() != nil || st.Dropout.Check() != nil || st.Step < 0 || st.AdamStep < 0 {
			t.Fatalf("accepted state %+v", st)
		}
	})
}
