// Command tern trains, packs, evaluates and serves 1.58-bit (ternary) language models.
//
// main only dispatches: each verb lives in its own file (train.go, bench.go, ...) and registers
// itself with register in an init function.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

type command struct {
	name  string
	short string // one line for `tern help`
	run   func(ctx context.Context, args []string) error
}

var commands = map[string]command{}

func register(name, short string, run func(ctx context.Context, args []string) error) {
	if _, dup := commands[name]; dup {
		panic("tern: command registered twice: " + name)
	}
	commands[name] = command{name, short, run}
}

func usage() {
	fmt.Fprintf(os.Stderr, "tern: train, compress, evaluate and serve 1.58-bit language models.\n\nUsage: tern <command> [flags]\n\nCommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-11s %s\n", n, commands[n].short)
	}
	fmt.Fprintf(os.Stderr, "\nRun 'tern <command> --help' for a command's flags.\n")
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "help" || os.Args[1] == "-h" || os.Args[1] == "--help" {
		usage()
		if len(os.Args) < 2 {
			os.Exit(2)
		}
		return
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "tern: unknown command %q (run 'tern help')\n", os.Args[1])
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runSafely(ctx, cmd, os.Args[2:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintf(os.Stderr, "tern %s: %v\n", cmd.name, err)
		os.Exit(1)
	}
}

// runSafely turns a panic that escapes a command into an error line, so no stack trace reaches a
// user; TERN_PANIC=1 lets it through for debugging.
func runSafely(ctx context.Context, cmd command, args []string) (err error) {
	if os.Getenv("TERN_PANIC") == "" {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("internal error: %v (rerun with TERN_PANIC=1 for a stack trace, and please report it)", r)
			}
		}()
	}
	return cmd.run(ctx, args)
}

// newFlags returns a FlagSet whose errors are returned (not printed-and-exited), with usage text.
func newFlags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("tern "+name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: tern %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and rejects stray positional arguments unless allowed.
func parseFlags(fs *flag.FlagSet, args []string, allowArgs bool) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !allowArgs && fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return nil
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
