package finetune

import (
	"context"
	"path/filepath"
	"testing"

	"tern/internal/testenv"
	"tern/model"
	"tern/tensor"
)

// tinyPretrained writes a randomly initialized tiny bidirectional transformer with the GPT-2
// tokenizer: the "pretrained" model of the end-to-end tests (no LM training, to stay in seconds).
func tinyPretrained(t *testing.T, linear model.Linear) string {
	t.Helper()
	cfg := model.Config{Type: "transformer", Objective: "mlm", Vocab: 50257, Hidden: 32, Layers: 1, Heads: 2, FFN: 64,
		MaxPos: 64, TypeVocab: 2, Linear: linear, TieEmbeddings: true, Norm: "layernorm"}
	lm, err := model.New(cfg, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "lm.safetensors")
	if err := model.Save(p, lm, "gpt2"); err != nil {
		t.Fatal(err)
	}
	return p
}

// accuracy of labels against items.
func accuracy(pred []int, items []Item) float64 {
	ok := 0
	for i, it := range items {
		if pred[i] == it.Label {
			ok++
		}
	}
	return float64(ok) / float64(len(items))
}

// TestFinetuneSST2 fine-tunes a tiny model on 1,000 SST-2 sentences and checks dev accuracy beats
// always predicting the majority class (0.509 on GLUE dev) by a clear margin.
func TestFinetuneSST2(t *testing.T) {
	dir := filepath.Dir(filepath.Dir(testenv.SharedData(t, "glue-sst2", "train.tsv")))
	for _, linear := range []model.Linear{model.LinearFP32, model.LinearBitNet} {
		t.Run(string(linear), func(t *testing.T) {
			task, _ := Lookup("sst2")
			m, tok, err := NewModel(tinyPretrained(t, linear), task, Setup{Pool: "mean", Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			train, err := task.Load(dir, false)
			if err != nil {
				t.Fatal(err)
			}
			dev, err := task.Load(dir, true)
			if err != nil {
				t.Fatal(err)
			}
			train = train[:1000]
			o := OptionsFor(m, tok, 48)
			feats, err := Featurize(task, tok, train, o)
			if err != nil {
				t.Fatal(err)
			}
			cfg := Defaults()
			cfg.Epochs, cfg.Batch, cfg.LR, cfg.LogEvery = 3, 32, 3e-3, 0
			if _, err := Train(context.Background(), m, task.Kind, feats, cfg, nil); err != nil {
				t.Fatal(err)
			}
			df, err := Featurize(task, tok, dev, o)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Predict(context.Background(), m, task.Kind, dev, df, 64, 30)
			if err != nil {
				t.Fatal(err)
			}
			maj := 0
			for _, it := range dev {
				maj += it.Label
			}
			base := max(float64(maj), float64(len(dev)-maj)) / float64(len(dev))
			acc := accuracy(p.Labels, dev)
			t.Logf("%s: SST-2 dev accuracy %.4f, majority %.4f", linear, acc, base)
			if acc < base+0.04 {
				t.Fatalf("accuracy %.4f does not beat the majority baseline %.4f", acc, base)
			}
		})
	}
}

// TestFinetuneUPOS fine-tunes on 400 EWT sentences and checks token accuracy beats tagging every
// word with the most frequent tag.
func TestFinetuneUPOS(t *testing.T) {
	dir := filepath.Dir(filepath.Dir(testenv.SharedData(t, "ud-english-ewt", "en_ewt-ud-dev.conllu")))
	task, _ := Lookup("ewt-upos")
	task2 := *task
	task2.TrainFile = "ud-english-ewt/en_ewt-ud-dev.conllu" // the plain dev file loads faster than train.gz
	m, tok, err := NewModel(tinyPretrained(t, "fp32"), &task2, Setup{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	items, err := task2.Load(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	train, test := items[:400], items[len(items)-300:]
	o := OptionsFor(m, tok, 64)
	feats, err := Featurize(&task2, tok, train, o)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Defaults()
	cfg.Epochs, cfg.Batch, cfg.LR, cfg.LogEvery = 3, 16, 3e-3, 0
	if _, err := Train(context.Background(), m, "token", feats, cfg, nil); err != nil {
		t.Fatal(err)
	}
	tf, _ := Featurize(&task2, tok, test, o)
	p, err := Predict(context.Background(), m, "token", test, tf, 64, 30)
	if err != nil {
		t.Fatal(err)
	}
	ok, n := 0, 0
	freq := map[int]int{}
	for i, it := range test {
		for w, g := range it.Tags {
			freq[g]++
			n++
			if p.Tags[i][w] == g {
				ok++
			}
		}
	}
	best := 0
	for _, c := range freq {
		best = max(best, c)
	}
	acc, base := float64(ok)/float64(n), float64(best)/float64(n)
	t.Logf("UPOS token accuracy %.4f, majority tag %.4f", acc, base)
	if acc < base+0.15 {
		t.Fatalf("token accuracy %.4f does not beat the majority tag %.4f", acc, base)
	}
}
