package main

import (
	"os"

	"tern/kernels"
)

func setThreads(n int) {
	if n > 0 {
		kernels.SetThreads(n)
	}
}

func stdout() *os.File { return os.Stdout }
