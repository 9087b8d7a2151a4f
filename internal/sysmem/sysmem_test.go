package sysmem

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	if Total() < 0 {
		t.Fatalf("Total %d", Total())
	}
	if Total() == 0 {
		t.Skip("memory size unknown here")
	}
	if err := Check("a small thing", 1<<20); err != nil {
		t.Errorf("1 MB: %v", err)
	}
	err := Check("the model", 1e30)
	if err == nil || !strings.Contains(err.Error(), "the model needs") {
		t.Errorf("1e30 bytes: %v", err)
	}
}

func TestSize(t *testing.T) {
	for b, want := range map[float64]string{34.4e9: "34.4 GB", 2.5e6: "2.5 MB", 512: "512 bytes"} {
		if got := Size(b); got != want {
			t.Errorf("Size(%g) = %q, want %q", b, got, want)
		}
	}
}
