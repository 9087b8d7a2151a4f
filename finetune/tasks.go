// Package finetune adapts a pretrained tern transformer to a labelled task: the task table (GLUE
// SST-2, CoLA, MRPC; UD EWT UPOS; CoNLL-2003 NER; XQuAD English), tokenization into model features
// (padding masks, word-to-subtoken alignment, question+context windows with character offsets),
// and the fine-tuning loop (AdamW, warmup + cosine, clipping). Metrics live in package eval.
//
// Dimension legend: B = batch, T = sequence length (padded to the longest in the batch), C = hidden,
// K = labels of the head.
package finetune

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"tern/data"
)

// Item is one labelled example as read from a task's files, before tokenization.
type Item struct {
	// sequence tasks
	Text, Text2 string // Text2 is the second sentence of pair tasks (MRPC)
	Label       int    // index into Task.Labels

	// token tasks
	Words []string
	Tags  []int // index into Task.Labels, one per word

	// span tasks (SQuAD v1.1 format)
	ID, Question, Context string
	Answers               []data.SquadAnswer
}

// Task describes one supported task: its head, label set and files.
type Task struct {
	Name      string   // e.g. "sst2"
	Kind      string   // "sequence", "token" or "span" (the head kind)
	Labels    []string // class or tag names in head order
	Pair      bool     // sequence pairs (MRPC)
	TrainFile string   // relative to the data directory
	EvalFile  string
	EvalSplit string // what the evaluation split is, e.g. "dev (GLUE dev.tsv)"

	// XQuAD has one file; it is split by whole articles: the first SplitArticles articles train,
	// the rest evaluate.
	SplitArticles int
}

// UPOS is the Universal Dependencies POS tag set (17 tags, https://universaldependencies.org/u/pos/).
var UPOS = []string{"ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X"}

// NERTags is the CoNLL-2003 IOB2 tag set.
var NERTags = []string{"O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"}

var tasks = map[string]*Task{
	"sst2": {Name: "sst2", Kind: "sequence", Labels: []string{"negative", "positive"},
		TrainFile: "glue-sst2/train.tsv", EvalFile: "glue-sst2/dev.tsv", EvalSplit: "GLUE dev (872 sentences)"},
	"cola": {Name: "cola", Kind: "sequence", Labels: []string{"unacceptable", "acceptable"},
		TrainFile: "glue-cola/raw/in_domain_train.tsv", EvalFile: "glue-cola/raw/in_domain_dev.tsv", EvalSplit: "in-domain dev (527 sentences, = GLUE dev)"},
	"mrpc": {Name: "mrpc", Kind: "sequence", Labels: []string{"not_paraphrase", "paraphrase"}, Pair: true,
		TrainFile: "glue-mrpc/train.tsv", EvalFile: "glue-mrpc/dev.tsv", EvalSplit: "GLUE dev (408 pairs)"},
	"ewt-upos": {Name: "ewt-upos", Kind: "token", Labels: UPOS,
		TrainFile: "ud-english-ewt/en_ewt-ud-train.conllu.gz", EvalFile: "ud-english-ewt/en_ewt-ud-test.conllu", EvalSplit: "UD EWT test"},
	"conll2003-ner": {Name: "conll2003-ner", Kind: "token", Labels: NERTags,
		TrainFile: "conll2003/train.txt", EvalFile: "conll2003/test.txt", EvalSplit: "test (eng.testb)"},
	"xquad": {Name: "xquad", Kind: "span", Labels: []string{"start", "end"},
		TrainFile: "xquad-en/xquad.en.json", EvalFile: "xquad-en/xquad.en.json", SplitArticles: 38,
		EvalSplit: "XQuAD en split by article: articles 39-48 held out (articles 1-38 train)"},
}

// Names lists the tasks.
func Names() []string {
	var s []string
	for n := range tasks {
		s = append(s, n)
	}
	sort.Strings(s)
	return s
}

// Lookup returns the named task or an error listing the known ones.
func Lookup(name string) (*Task, error) {
	t, ok := tasks[name]
	if !ok {
		return nil, fmt.Errorf("finetune: unknown task %q (have %s)", name, strings.Join(Names(), ", "))
	}
	return t, nil
}

// DataDir resolves the data directory: flag if given, else $TERN_DATA, else the first shared/data
// found walking up from the working directory (a checkout next to ../shared/data).
func DataDir(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if d := os.Getenv("TERN_DATA"); d != "" {
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "shared", "data")
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return p, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("finetune: no shared/data above %s; pass --data-dir or set TERN_DATA", wd)
		}
	}
}

// Load reads the task's training or evaluation items from dir.
func (t *Task) Load(dir string, evalSplit bool) ([]Item, error) {
	file := t.TrainFile
	if evalSplit {
		file = t.EvalFile
	}
	path := filepath.Join(dir, file)
	switch t.Name {
	case "sst2", "cola":
		read := data.ReadSST2
		if t.Name == "cola" {
			read = data.ReadCoLA
		}
		ex, err := read(path)
		if err != nil {
			return nil, err
		}
		items := make([]Item, len(ex))
		for i, e := range ex {
			if e.Label < 0 {
				return nil, fmt.Errorf("finetune: %s: example %d is unlabelled (a test file?); %s needs labels", path, i+1, t.Name)
			}
			items[i] = Item{Text: e.Text, Label: e.Label}
		}
		return items, nil
	case "mrpc":
		ex, err := data.ReadMRPC(path)
		if err != nil {
			return nil, err
		}
		items := make([]Item, len(ex))
		for i, e := range ex {
			if e.Label < 0 {
				return nil, fmt.Errorf("finetune: %s: pair %d is unlabelled (a test file?); mrpc needs labels", path, i+1)
			}
			items[i] = Item{Text: e.Text1, Text2: e.Text2, Label: e.Label}
		}
		return items, nil
	case "ewt-upos":
		ss, err := data.ReadCoNLLU(path)
		if err != nil {
			return nil, err
		}
		items := make([]Item, 0, len(ss))
		for i, s := range ss {
			it := Item{}
			for _, tk := range s.Tokens {
				it.Words = append(it.Words, tk.Form)
				k, err := t.labelIndex(tk.UPOS)
				if err != nil {
					return nil, fmt.Errorf("finetune: %s: sentence %d (%s), word %q: %w", path, i+1, s.ID, tk.Form, err)
				}
				it.Tags = append(it.Tags, k)
			}
			if len(it.Words) > 0 {
				items = append(items, it)
			}
		}
		return items, nil
	case "conll2003-ner":
		ss, err := data.ReadCoNLL2003(path)
		if err != nil {
			return nil, err
		}
		items := make([]Item, 0, len(ss))
		for i, s := range ss {
			it := Item{Words: s.Tokens}
			for j, tag := range s.NER {
				k, err := t.labelIndex(tag)
				if err != nil {
					return nil, fmt.Errorf("finetune: %s: sentence %d, word %d %q: %w", path, i+1, j+1, s.Tokens[j], err)
				}
				it.Tags = append(it.Tags, k)
			}
			items = append(items, it)
		}
		return items, nil
	case "xquad":
		ds, err := data.ReadSquad(path)
		if err != nil {
			return nil, err
		}
		first, rest := ds.SplitArticles(t.SplitArticles)
		if evalSplit {
			first = rest
		}
		var items []Item
		for _, a := range first.Articles {
			for _, p := range a.Paragraphs {
				for _, q := range p.QAs {
					items = append(items, Item{ID: q.ID, Question: q.Question, Context: p.Context, Answers: q.Answers})
				}
			}
		}
		return items, nil
	}
	return nil, fmt.Errorf("finetune: task %q has no reader", t.Name)
}

func (t *Task) labelIndex(tag string) (int, error) {
	for i, l := range t.Labels {
		if l == tag {
			return i, nil
		}
	}
	return 0, fmt.Errorf("tag %q is not in the %s label set (%s)", tag, t.Name, strings.Join(t.Labels, " "))
}
