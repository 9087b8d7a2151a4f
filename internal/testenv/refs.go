package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// LlamaCpp returns the llama.cpp reference checkout that scripts/setup-refs.sh builds
// ($TERN_LLAMA_CPP, default ~/.cache/tern-refs/llama.cpp), or skips the test when it is absent.
func LlamaCpp(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("TERN_LLAMA_CPP")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "tern-refs", "llama.cpp")
	}
	if _, err := os.Stat(filepath.Join(dir, "gguf-py", "gguf", "__init__.py")); err != nil {
		t.Skipf("llama.cpp reference not found at %s (run scripts/setup-refs.sh, or set TERN_LLAMA_CPP)", dir)
	}
	return dir
}

// LlamaBin returns llama.cpp's built tool name (llama-cli, llama-bench, ...), or skips.
func LlamaBin(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(LlamaCpp(t), "build", "bin", name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not built (run scripts/setup-refs.sh)", p)
	}
	return p
}

// GGUFPython returns a command running python3 with llama.cpp's gguf-py importable (numpy needed),
// or skips. Debian's /usr/bin/python3 is preferred: it is where python3-numpy installs.
func GGUFPython(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	dir := LlamaCpp(t)
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		if py, err = exec.LookPath("python3"); err != nil {
			t.Skip("python3 not found")
		}
	}
	if err := exec.Command(py, "-c", "import numpy").Run(); err != nil {
		t.Skipf("%s has no numpy (apt-get install python3-numpy)", py)
	}
	cmd := exec.Command(py, args...)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(dir, "gguf-py"))
	return cmd
}

// BitnetConverter returns bitnet.cpp's Hugging Face -> GGUF converter (utils/convert-hf-to-gguf-bitnet.py
// of microsoft/BitNet) as a file, or skips. $TERN_BITNET_CPP names a checkout of microsoft/BitNet or a
// bare clone of it (the file is then taken from its HEAD with git show into a temporary folder);
// scripts/setup-refs.sh says how to get one. There is no default location: the converter is not built
// or installed by anything, so without the variable the test skips.
func BitnetConverter(t testing.TB) string {
	t.Helper()
	const rel = "utils/convert-hf-to-gguf-bitnet.py"
	dir := os.Getenv("TERN_BITNET_CPP")
	if dir == "" {
		t.Skip("bitnet.cpp's converter: set TERN_BITNET_CPP to a microsoft/BitNet checkout or bare clone (see scripts/setup-refs.sh)")
	}
	if p := filepath.Join(dir, rel); fileExists(p) {
		return p
	}
	b, err := exec.Command("git", "--git-dir", dir, "show", "HEAD:"+rel).Output()
	if err != nil {
		t.Skipf("TERN_BITNET_CPP=%s: no %s in it or in its git HEAD (%v)", dir, rel, err)
	}
	p := filepath.Join(t.TempDir(), "convert-hf-to-gguf-bitnet.py")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func fileExists(p string) bool { st, err := os.Stat(p); return err == nil && st.Mode().IsRegular() }
