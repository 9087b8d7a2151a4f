package main

import (
	"os"
	"unicode/utf8"

	"tern/kernels"
)

func setThreads(n int) {
	if n > 0 {
		kernels.SetThreads(n)
	}
}

func validUTF8(s string) bool { return utf8.ValidString(s) }

func stdout() *os.File { return os.Stdout }
