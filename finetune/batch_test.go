package finetune

import (
	"reflect"
	"testing"
)

// TestBatchReuse: refilling one Batch gives what a fresh MakeBatch gives, whatever the previous
// (longer or shorter) batch held, and allocates nothing once it has seen its longest batch.
func TestBatchReuse(t *testing.T) {
	long := &Feature{IDs: []int32{5, 6, 7, 8, 9}, Types: []int32{0, 0, 1, 1, 1}, Label: 1, Tags: []int32{1, 2, -1, 3, 4}, Start: 2, End: 3}
	short := &Feature{IDs: []int32{3, 4}, Types: []int32{0, 1}, Label: 0, Tags: []int32{7, 8}, Start: 1, End: 1}
	batches := [][]*Feature{{long, short}, {short}, {short, short, long}, {short, short}}
	for _, kind := range []string{"sequence", "token", "span"} {
		var b Batch
		for i, fs := range batches {
			b.Set(kind, fs)
			if want := MakeBatch(kind, fs); !reflect.DeepEqual(&b, want) {
				t.Errorf("%s batch %d: reused %+v, fresh %+v", kind, i, b, *want)
			}
		}
		b.Set(kind, batches[2])
		if a := testing.AllocsPerRun(20, func() { b.Set(kind, batches[0]); b.Set(kind, batches[2]) }); a != 0 {
			t.Errorf("%s: %v allocations per refill", kind, a)
		}
	}
}
