// Package metrics computes task metrics exactly as their official scripts do, and renders the
// full-precision vs 1.58-bit comparison report. It has no model: the task runners that produce the
// predictions are package eval, which sits above finetune.
//
// Files: metrics.go (classification: accuracy, P/R/F1, macro-F1, Matthews correlation, confusion
// matrix, matching scikit-learn), seqeval.go (token classification: conlleval / seqeval entity F1),
// squad.go (SQuAD v1.1 exact match and F1, as evaluate-v1.1.py), lm.go (loss, perplexity, bits per
// token and per character), lmwindow.go (sliding-window LM evaluation over a token stream),
// report.go (the comparison report as Markdown and JSON).
//
// Conventions: scores are fractions in [0, 1] (the SQuAD result is x100, as the official script
// prints it); a ratio whose denominator is 0 is 0, as scikit-learn's default zero_division and
// conlleval do. The metric functions work on in-memory labels and panic on misuse (slices of
// different lengths, labels outside [0, k)); they never read files.
package metrics

import (
	"fmt"
	"math"
	"sort"
)

// Ratio returns num/den, or 0 when den is 0 (scikit-learn's zero_division default, conlleval).
func Ratio(num, den float64) float64 {
	if den == 0 {
		return 0
	}
	return num / den
}

func checkLen(fn string, pred, gold []int) {
	if len(pred) != len(gold) {
		panic(fmt.Sprintf("metrics: %s: %d predictions for %d gold labels", fn, len(pred), len(gold)))
	}
}

// Accuracy is the fraction of positions where pred equals gold; 0 for empty input.
func Accuracy(pred, gold []int) float64 {
	checkLen("Accuracy", pred, gold)
	n := 0
	for i := range pred {
		if pred[i] == gold[i] {
			n++
		}
	}
	return Ratio(float64(n), float64(len(gold)))
}

// PRF is precision, recall and F1 with the counts behind them.
type PRF struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	TP        int     `json:"tp"`        // true positives (correct predictions)
	Predicted int     `json:"predicted"` // TP + FP
	Gold      int     `json:"gold"`      // TP + FN (scikit-learn's "support")
}

// prfFromCounts fills P = TP/predicted, R = TP/gold and F1 = 2TP/(predicted+gold) (the harmonic
// mean of P and R, in scikit-learn's count form: one rounding), each 0 when undefined.
func prfFromCounts(tp, predicted, gold int) PRF {
	return PRF{
		Precision: Ratio(float64(tp), float64(predicted)),
		Recall:    Ratio(float64(tp), float64(gold)),
		F1:        Ratio(2*float64(tp), float64(predicted+gold)),
		TP:        tp, Predicted: predicted, Gold: gold,
	}
}

// BinaryPRF is precision, recall and F1 of the class pos (scikit-learn's average='binary',
// pos_label=pos): TP = pred==pos && gold==pos, predicted = #(pred==pos), gold = #(gold==pos).
func BinaryPRF(pred, gold []int, pos int) PRF {
	checkLen("BinaryPRF", pred, gold)
	tp, np, ng := 0, 0, 0
	for i := range pred {
		if pred[i] == pos {
			np++
			if gold[i] == pos {
				tp++
			}
		}
		if gold[i] == pos {
			ng++
		}
	}
	return prfFromCounts(tp, np, ng)
}

// MacroF1 is the unweighted mean of per-class F1 over the classes that occur in pred or gold
// (scikit-learn's average='macro' without a labels argument: classes absent from both are not
// averaged in; a class seen on one side only contributes F1 0). 0 for empty input.
func MacroF1(pred, gold []int) float64 {
	checkLen("MacroF1", pred, gold)
	type counts struct{ tp, np, ng int }
	byClass := map[int]*counts{}
	get := func(c int) *counts {
		if byClass[c] == nil {
			byClass[c] = &counts{}
		}
		return byClass[c]
	}
	for i := range pred {
		get(pred[i]).np++
		get(gold[i]).ng++
		if pred[i] == gold[i] {
			get(gold[i]).tp++
		}
	}
	classes := make([]int, 0, len(byClass))
	for c := range byClass {
		classes = append(classes, c)
	}
	sort.Ints(classes) // fixed summation order: bit-identical results run to run
	sum := 0.0
	for _, c := range classes {
		k := byClass[c]
		sum += prfFromCounts(k.tp, k.np, k.ng).F1
	}
	return Ratio(sum, float64(len(classes)))
}

// ConfusionMatrix returns m with m[g][p] = number of items of gold class g predicted as p
// (rows gold, columns predicted, as scikit-learn's confusion_matrix). Labels must be in [0, k).
func ConfusionMatrix(pred, gold []int, k int) [][]int {
	checkLen("ConfusionMatrix", pred, gold)
	if k <= 0 {
		panic(fmt.Sprintf("metrics: ConfusionMatrix: %d classes", k))
	}
	flat := make([]int, k*k)
	m := make([][]int, k)
	for g := range m {
		m[g] = flat[g*k : (g+1)*k]
	}
	for i := range pred {
		p, g := pred[i], gold[i]
		if p < 0 || p >= k || g < 0 || g >= k {
			panic(fmt.Sprintf("metrics: ConfusionMatrix: item %d has pred %d gold %d, outside [0, %d)", i, p, g, k))
		}
		m[g][p]++
	}
	return m
}

// MCC is the Matthews correlation coefficient in scikit-learn's multiclass form (Gorodkin 2004),
// which reduces to (TP*TN - FP*FN)/sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)) for two classes:
//
//	c = trace(C), s = N, t_k = row sums (gold counts), p_k = column sums (predicted counts)
//	MCC = (c*s - t.p) / sqrt((s^2 - p.p) (s^2 - t.t))
//
// It is 0 when the denominator is 0 (all gold or all predictions in one class, or no items),
// as scikit-learn returns. Labels may be any ints.
func MCC(pred, gold []int) float64 {
	checkLen("MCC", pred, gold)
	// Counts as float64, as scikit-learn does: s^2 * s^2 overflows int64 past ~55k items.
	t, p := map[int]float64{}, map[int]float64{}
	c := 0.0
	for i := range pred {
		t[gold[i]]++
		p[pred[i]]++
		if pred[i] == gold[i] {
			c++
		}
	}
	s := float64(len(gold))
	labels := make([]int, 0, len(t)+len(p))
	for k := range t {
		labels = append(labels, k)
	}
	for k := range p {
		if _, ok := t[k]; !ok {
			labels = append(labels, k)
		}
	}
	sort.Ints(labels)
	tp, pp, tt := 0.0, 0.0, 0.0
	for _, k := range labels {
		tp += t[k] * p[k]
		pp += p[k] * p[k]
		tt += t[k] * t[k]
	}
	covYtYp := c*s - tp
	covYpYp := s*s - pp
	covYtYt := s*s - tt
	if covYpYp*covYtYt == 0 {
		return 0
	}
	return covYtYp / math.Sqrt(covYtYt*covYpYp)
}
