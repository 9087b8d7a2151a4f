// Command mkvocab converts tiktoken's r50k_base.json (from the npm package tiktoken, MIT) into the
// compact file that package tokenizer embeds. Run by hand from the repository root after
// scripts/setup-refs.sh:
//
//	go run ./tokenizer/internal/mkvocab .refs/node_modules/tiktoken/encoders/r50k_base.json tokenizer/r50k_base.bin.gz
//
// Output (gzip of): "TERNBPE1", uvarint token count N, then for ranks 0..N-1: uvarint length, bytes.
// The source ranks must be exactly 0..N-1; special tokens are not stored (the package knows
// <|endoftext|> = 50256).
package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: mkvocab r50k_base.json out.bin.gz")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "mkvocab:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	raw, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var src struct {
		ExplicitNVocab int            `json:"explicit_n_vocab"`
		PatStr         string         `json:"pat_str"`
		Special        map[string]int `json:"special_tokens"`
		Ranks          string         `json:"bpe_ranks"`
	}
	if err := json.Unmarshal(raw, &src); err != nil {
		return err
	}
	// bpe_ranks: lines of "<name> <first rank> <base64 token> <base64 token> ...".
	tokens := map[int][]byte{}
	for _, line := range strings.Split(src.Ranks, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		off, err := strconv.Atoi(f[1])
		if err != nil {
			return fmt.Errorf("bad offset %q", f[1])
		}
		for i, t := range f[2:] {
			b, err := base64.StdEncoding.DecodeString(t)
			if err != nil {
				return fmt.Errorf("bad token %q: %v", t, err)
			}
			tokens[off+i] = b
		}
	}
	n := len(tokens)
	var buf bytes.Buffer
	buf.WriteString("TERNBPE1")
	buf.Write(binary.AppendUvarint(nil, uint64(n)))
	for r := 0; r < n; r++ {
		b, ok := tokens[r]
		if !ok {
			return fmt.Errorf("rank %d missing (ranks not contiguous)", r)
		}
		buf.Write(binary.AppendUvarint(nil, uint64(len(b))))
		buf.Write(b)
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(buf.Bytes())
	if err := zw.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(out, gz.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Printf("tokens %d, explicit_n_vocab %d, special %v, pattern %q\n", n, src.ExplicitNVocab, src.Special, src.PatStr)
	fmt.Printf("source sha256 %x (%d bytes)\n", sha256.Sum256(raw), len(raw))
	fmt.Printf("payload sha256 %x (%d bytes), gzip %d bytes\n", sha256.Sum256(buf.Bytes()), buf.Len(), gz.Len())
	return nil
}
