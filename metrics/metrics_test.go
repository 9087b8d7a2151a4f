// Tests for the classification metrics on hand-worked cases; each expected value is derived in the
// comment from the definition (scikit-learn's formulas), not copied from a run.

package metrics

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

const tol = 1e-12

func near(a, b float64) bool { return math.Abs(a-b) <= tol*max(1, math.Abs(b)) }

func TestAccuracy(t *testing.T) {
	// 3 of 5 equal -> 0.6.
	if got := Accuracy([]int{1, 0, 1, 1, 0}, []int{1, 1, 1, 0, 0}); !near(got, 0.6) {
		t.Errorf("Accuracy = %v, want 0.6", got)
	}
	if got := Accuracy(nil, nil); got != 0 {
		t.Errorf("Accuracy(empty) = %v, want 0 (division by zero)", got)
	}
}

func TestBinaryPRF(t *testing.T) {
	pred := []int{1, 0, 1, 1, 0, 1}
	gold := []int{1, 1, 0, 1, 0, 0}
	// pos=1: TP = positions 0,3 -> 2; predicted = #pred==1 = 4; gold = #gold==1 = 3.
	// P = 2/4 = 0.5, R = 2/3, F1 = 2*0.5*(2/3)/(0.5+2/3) = (2/3)/(7/6) = 4/7 = 2TP/(2TP+FP+FN) = 4/(4+2+1).
	got := BinaryPRF(pred, gold, 1)
	if !near(got.Precision, 0.5) || !near(got.Recall, 2.0/3) || !near(got.F1, 4.0/7) || got.TP != 2 || got.Predicted != 4 || got.Gold != 3 {
		t.Errorf("BinaryPRF = %+v, want P 0.5 R 2/3 F1 4/7 (2/4/3)", got)
	}
	// No positive predictions: P = 0/0 -> 0 (zero_division), R = 0/3 = 0, F1 = 0.
	got = BinaryPRF([]int{0, 0, 0}, []int{1, 1, 1}, 1)
	if got.Precision != 0 || got.Recall != 0 || got.F1 != 0 {
		t.Errorf("BinaryPRF(no positives predicted) = %+v, want zeros", got)
	}
	// No positives anywhere: every ratio is 0/0 -> 0.
	got = BinaryPRF([]int{0, 0}, []int{0, 0}, 1)
	if got.Precision != 0 || got.Recall != 0 || got.F1 != 0 || got.Gold != 0 {
		t.Errorf("BinaryPRF(all negative) = %+v, want zeros", got)
	}
	// All predicted positive on balanced gold: P = 2/4, R = 2/2 = 1, F1 = 2*0.5/(1.5) = 2/3.
	got = BinaryPRF([]int{1, 1, 1, 1}, []int{1, 0, 1, 0}, 1)
	if !near(got.Precision, 0.5) || got.Recall != 1 || !near(got.F1, 2.0/3) {
		t.Errorf("BinaryPRF(all positive) = %+v, want P 0.5 R 1 F1 2/3", got)
	}
}

func TestMacroF1(t *testing.T) {
	pred := []int{0, 1, 2, 2, 1, 0}
	gold := []int{0, 1, 1, 2, 2, 2}
	// class 0: TP 1, pred 2, gold 1 -> P 1/2, R 1, F1 = 1/(1.5) = 2/3
	// class 1: TP 1, pred 2, gold 2 -> P 1/2, R 1/2, F1 1/2
	// class 2: TP 1, pred 2, gold 3 -> P 1/2, R 1/3, F1 = (1/3)/(5/6) = 2/5
	// macro = (2/3 + 1/2 + 2/5)/3 = (20/30 + 15/30 + 12/30)/3 = 47/90.
	if got := MacroF1(pred, gold); !near(got, 47.0/90) {
		t.Errorf("MacroF1 = %v, want 47/90 = %v", got, 47.0/90)
	}
	// Labels {0, 5}: class 3 never occurs and is not averaged in. Class 5 only in pred: F1 0.
	// class 0: TP 2, pred 2, gold 3 -> P 1, R 2/3, F1 = (4/3)/(5/3) = 4/5. macro = (4/5 + 0)/2 = 2/5.
	if got := MacroF1([]int{0, 0, 5}, []int{0, 0, 0}); !near(got, 0.4) {
		t.Errorf("MacroF1 with unseen class = %v, want 0.4", got)
	}
	// All one class and all correct: one class with F1 1 -> 1.
	if got := MacroF1([]int{1, 1}, []int{1, 1}); got != 1 {
		t.Errorf("MacroF1(all one class) = %v, want 1", got)
	}
	if got := MacroF1(nil, nil); got != 0 {
		t.Errorf("MacroF1(empty) = %v, want 0", got)
	}
}

func TestConfusionMatrix(t *testing.T) {
	// Rows gold, columns predicted: gold 0 -> pred 0,1; gold 1 -> pred 1; gold 2 -> pred 0,2,2.
	got := ConfusionMatrix([]int{0, 1, 1, 0, 2, 2}, []int{0, 0, 1, 2, 2, 2}, 3)
	want := [][]int{{1, 1, 0}, {0, 1, 0}, {1, 0, 2}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ConfusionMatrix = %v, want %v", got, want)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "outside [0, 2)") {
			t.Errorf("label out of range: panic %v, want a message naming the range", r)
		}
	}()
	ConfusionMatrix([]int{2}, []int{0}, 2)
}

// mccBinary is the textbook two-class formula, an independent reference for MCC.
func mccBinary(pred, gold []int) float64 {
	var tp, tn, fp, fn float64
	for i := range pred {
		switch {
		case pred[i] == 1 && gold[i] == 1:
			tp++
		case pred[i] == 0 && gold[i] == 0:
			tn++
		case pred[i] == 1:
			fp++
		default:
			fn++
		}
	}
	den := math.Sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
	if den == 0 {
		return 0
	}
	return (tp*tn - fp*fn) / den
}

func TestMCC(t *testing.T) {
	// Binary: pred 1,0,1,1,0,1 gold 1,1,0,1,0,0 -> TP 2, TN 1, FP 2, FN 1.
	// MCC = (2*1 - 2*1)/sqrt(4*3*3*2) = 0.
	pred := []int{1, 0, 1, 1, 0, 1}
	gold := []int{1, 1, 0, 1, 0, 0}
	if got := MCC(pred, gold); !near(got, 0) {
		t.Errorf("MCC = %v, want 0", got)
	}
	// TP 3, TN 2, FP 1, FN 0: (6 - 0)/sqrt(4*3*3*2) = 6/sqrt(72) = 1/sqrt(2).
	pred = []int{1, 1, 1, 1, 0, 0}
	gold = []int{1, 1, 1, 0, 0, 0}
	if got := MCC(pred, gold); !near(got, 1/math.Sqrt2) {
		t.Errorf("MCC = %v, want 1/sqrt(2)", got)
	}
	// Perfect and perfectly inverted.
	if got := MCC([]int{0, 1, 0, 1}, []int{0, 1, 0, 1}); !near(got, 1) {
		t.Errorf("MCC(perfect) = %v, want 1", got)
	}
	if got := MCC([]int{1, 0, 1, 0}, []int{0, 1, 0, 1}); !near(got, -1) {
		t.Errorf("MCC(inverted) = %v, want -1", got)
	}
	// All predictions one class: s^2 - p.p = 0 -> 0. All gold one class: likewise 0. Empty: 0.
	for _, c := range []struct{ pred, gold []int }{
		{[]int{1, 1, 1}, []int{0, 1, 0}},
		{[]int{0, 1, 0}, []int{1, 1, 1}},
		{[]int{1, 1}, []int{1, 1}},
		{nil, nil},
	} {
		if got := MCC(c.pred, c.gold); got != 0 {
			t.Errorf("MCC(%v, %v) = %v, want 0 (zero denominator)", c.pred, c.gold, got)
		}
	}
	// Multiclass (Gorodkin): pred 0,1,2,2 gold 0,1,1,2. c = 3, s = 4; gold counts t = (1,2,1),
	// pred counts p = (1,1,2). t.p = 1+2+2 = 5, p.p = 1+1+4 = 6, t.t = 1+4+1 = 6.
	// MCC = (3*4 - 5)/sqrt((16-6)(16-6)) = 7/10.
	if got := MCC([]int{0, 1, 2, 2}, []int{0, 1, 1, 2}); !near(got, 0.7) {
		t.Errorf("MCC(multiclass) = %v, want 0.7", got)
	}
	// Any 0/1 labelling agrees with the textbook binary formula.
	for mask := 0; mask < 1<<8; mask++ {
		p, g := make([]int, 4), make([]int, 4)
		for i := 0; i < 4; i++ {
			p[i], g[i] = mask>>i&1, mask>>(i+4)&1
		}
		if got, want := MCC(p, g), mccBinary(p, g); !near(got, want) {
			t.Fatalf("MCC(%v, %v) = %v, textbook %v", p, g, got, want)
		}
	}
}

func TestLengthMismatchPanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "2 predictions for 3 gold") {
			t.Errorf("panic %v, want a length message", r)
		}
	}()
	Accuracy([]int{0, 1}, []int{0, 1, 1})
}
