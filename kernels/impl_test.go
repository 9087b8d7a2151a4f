package kernels

import (
	"slices"
	"testing"
)

// The registry's test helpers: every TestAllImplementations-style test runs its body once per
// implementation in Impls(), pinned with Use (like crypto's cryptotest.TestAllImplementations).

// forEachImpl runs f as a subtest under every implementation this CPU has, fastest first, "go" last.
func forEachImpl(t *testing.T, f func(t *testing.T)) {
	for _, name := range Impls() {
		withImplName(name, func() { t.Run(name, f) })
	}
}

// withImplName runs f with the kernels pinned to the named implementation.
func withImplName(name string, f func()) {
	restore, err := Use(name)
	if err != nil {
		panic(err)
	}
	defer restore()
	f()
}

// distinctImpls lists, of Impls(), the first implementation for each distinct value of path (e.g.
// SgemmPath): the rungs that run different code for that kernel.
func distinctImpls(path func() string) []string {
	var out []string
	seen := map[string]bool{}
	for _, name := range Impls() {
		withImplName(name, func() {
			if p := path(); !seen[p] {
				seen[p] = true
				out = append(out, name)
			}
		})
	}
	return out
}

func TestImpls(t *testing.T) {
	im := Impls()
	if len(im) == 0 || im[len(im)-1] != "go" {
		t.Fatalf("Impls() = %v, want a list ending in go", im)
	}
	if Impl() != im[0] {
		t.Errorf("Impl() = %q at start, want the fastest, %q", Impl(), im[0])
	}
	for _, name := range im {
		withImplName(name, func() {
			if Impl() != name {
				t.Errorf("after Use(%q): Impl() = %q", name, Impl())
			}
		})
	}
	if Impl() != im[0] {
		t.Errorf("restore left Impl() = %q, want %q", Impl(), im[0])
	}
	if _, err := Use("nosuch"); err == nil {
		t.Error(`Use("nosuch") succeeded`)
	}
	if _, err := Use("amx"); (err == nil) != detected.amx {
		t.Errorf(`Use("amx"): %v, with AMX detected: %v`, err, detected.amx)
	}
	if !slices.Contains(im, "avx512bf16") && HasBF16() {
		t.Error("HasBF16 without the avx512bf16 rung")
	}
}
