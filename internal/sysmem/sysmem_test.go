package sysmem

import (
	"os"
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

// TestReadFile: a device (/dev/zero never ends) is refused, a file over the limit is refused from its
// size, and ReadAll stops at limit+1 bytes.
func TestReadFile(t *testing.T) {
	if _, err := ReadFile("/dev/zero", 1<<20); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("/dev/zero: %v", err)
	}
	if z, err := os.Open("/dev/zero"); err == nil {
		if _, err := ReadAll(z, 1<<20); err == nil || !strings.Contains(err.Error(), "limit") {
			t.Errorf("ReadAll(/dev/zero): %v", err)
		}
		z.Close()
	}
	path := t.TempDir() + "/f"
	os.WriteFile(path, []byte("hello"), 0o644)
	if b, err := ReadFile(path, 5); err != nil || string(b) != "hello" {
		t.Errorf("5 bytes, limit 5: %q %v", b, err)
	}
	if _, err := ReadFile(path, 4); err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Errorf("5 bytes, limit 4: %v", err)
	}
	if _, err := ReadFile(t.TempDir(), 4); err == nil {
		t.Errorf("directory: no error")
	}
}
