package nn

import (
	"fmt"

	"tern/kernels"
)

// The precision of the layers' floating-point products. In "bf16" every matrix product a layer
// computes in floating point (Linear forward and backward, BitLinear's backward dX and dW,
// attention's q·kᵀ and p·v with their gradients, the LSTM/GRU gate products, and the models' head
// and tied-embedding products through Matmul) runs as kernels.Bgemm: operands rounded to bfloat16,
// sums in fp32, fp32 in and out. Parameters, gradients, optimizer state and everything else
// (norms, softmax, GELU, the loss, BitLinear's int8 x ternary forward) stay fp32.
//
// The choice is process-wide rather than threaded through every layer: set it once before a run
// (SetPrecision), not while a model computes.

// Accepted precisions.
const (
	PrecisionFP32 = "fp32"
	PrecisionBF16 = "bf16"
)

var (
	precision = PrecisionFP32
	matmul    = kernels.Sgemm
)

// CheckPrecision returns an error unless p is an accepted precision.
func CheckPrecision(p string) error {
	if p != PrecisionFP32 && p != PrecisionBF16 {
		return fmt.Errorf("unknown precision %q: accepted values are fp32 and bf16 (fp16 is not supported: bf16 keeps fp32's exponent range, so training needs no loss scaling)", p)
	}
	return nil
}

// SetPrecision selects the layers' products: "fp32" (kernels.Sgemm) or "bf16" (kernels.Bgemm).
func SetPrecision(p string) error {
	if err := CheckPrecision(p); err != nil {
		return err
	}
	precision = p
	matmul = kernels.Sgemm
	if p == PrecisionBF16 {
		matmul = kernels.Bgemm
	}
	return nil
}

// Precision returns the precision set by SetPrecision ("fp32" by default).
func Precision() string { return precision }

// Matmul is C = alpha*op(A)*op(B) + beta*C (kernels.Sgemm's arguments) at the layers' precision:
// the product every layer and model head uses for its floating-point matrix products.
func Matmul(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	matmul(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// packRecurrent: tests turn it off to compare with plain per-step Matmul.
var packRecurrent = true

// recurrent is a product with one B and many A at the layers' precision: an RNN's W_hh, multiplied
// by the state rows at every time step. In bf16 prepare packs B once (kernels.PackedB) and each mul
// reuses the panels, with Bgemm's bits; in fp32 mul is Matmul (Sgemm's few-row path needs no
// packing).
type recurrent struct {
	transB bool
	n, k   int
	b      []float32
	ldb    int
	packed bool
	pb     kernels.PackedB
}

// prepare sets B for the following muls: op(B) is (k, n), B (n, k) with ldb if transB, else (k, n).
func (r *recurrent) prepare(transB bool, n, k int, b []float32, ldb int) {
	r.transB, r.n, r.k, r.b, r.ldb, r.packed = transB, n, k, b, ldb, precision == PrecisionBF16 && packRecurrent
	if r.packed {
		r.pb.Pack(transB, n, k, b, ldb)
	}
}

// mul is Matmul(false, transB, m, n, k, alpha, a, lda, B, ldb, beta, c, ldc) for prepare's B.
func (r *recurrent) mul(m int, alpha float32, a []float32, lda int, beta float32, c []float32, ldc int) {
	if r.packed {
		kernels.BgemmPacked(false, m, alpha, a, lda, &r.pb, beta, c, ldc)
		return
	}
	Matmul(false, r.transB, m, r.n, r.k, alpha, a, lda, r.b, r.ldb, beta, c, ldc)
}
