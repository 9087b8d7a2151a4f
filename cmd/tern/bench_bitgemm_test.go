package main

import (
	"context"
	"testing"
	"time"
)

func TestBenchBitgemmOne(t *testing.T) {
	for _, op := range []string{"gemm", "bitlinear", "set", "quant"} {
		r, err := benchBitgemmOne(op, 7, 65, 33, 3, time.Millisecond)
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		if r.Op != op || r.M != 7 || r.N != 65 || r.K != 33 || r.Reps != 3 || r.Ms <= 0 || r.MinMs > r.Ms || r.Features == "" {
			t.Errorf("%s: implausible result %+v", op, r)
		}
		if (op == "gemm" || op == "bitlinear") != (r.GOPS > 0) {
			t.Errorf("%s: gops = %v", op, r.GOPS)
		}
	}
	if _, err := benchBitgemmOne("nope", 1, 1, 1, 1, time.Millisecond); err == nil {
		t.Error("unknown op accepted")
	}
}

func TestBenchBitgemmFlags(t *testing.T) {
	for _, args := range [][]string{{"--sweep", "64,x"}, {"--impl", "sse9"}, {"--m", "0"}, {"--threads", "0"}, {"stray"}} {
		if err := runBenchBitgemm(context.Background(), args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
