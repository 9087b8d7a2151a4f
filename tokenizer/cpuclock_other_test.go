//go:build !linux

package tokenizer

import "testing"

type cpuClock struct{}

func startCPU() cpuClock                          { return cpuClock{} }
func (cpuClock) report(b *testing.B, bytes int64) {}
