package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
)

// `tern bench <what>`: each benchmark lives in bench_<what>.go and registers with registerBench.
// Each prints one human line, or one JSON object with --json.

var benches = map[string]command{}

func registerBench(name, short string, run func(ctx context.Context, args []string) error) {
	if _, dup := benches[name]; dup {
		panic("tern: bench registered twice: " + name)
	}
	benches[name] = command{name, short, run}
}

func init() {
	register("bench", "measure kernels, training and decoding speed (--json for machines)", runBench)
}

func runBench(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(os.Stderr, "Usage: tern bench <benchmark> [flags]\n\nBenchmarks:\n")
		names := make([]string, 0, len(benches))
		for n := range benches {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(os.Stderr, "  %-9s %s\n", n, benches[n].short)
		}
		if len(args) == 0 {
			return fmt.Errorf("missing benchmark name")
		}
		return nil
	}
	b, ok := benches[args[0]]
	if !ok {
		return fmt.Errorf("unknown benchmark %q (run 'tern bench --help')", args[0])
	}
	return b.run(ctx, args[1:])
}

// printResult writes v as one JSON line, or human as a plain line.
func printResult(asJSON bool, v any, human string) error {
	if asJSON {
		return json.NewEncoder(os.Stdout).Encode(v)
	}
	_, err := fmt.Println(human)
	return err
}
