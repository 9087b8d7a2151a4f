//go:build !linux

// bench_tokenize_other.go: without per-thread CPU time, `tern bench tokenize` falls back to wall
// time for its per-CPU-second figure.

package main

import "time"

var cpuStart = time.Now()

func threadCPU() time.Duration { return time.Since(cpuStart) }

func processCPU() time.Duration { return time.Since(cpuStart) }
