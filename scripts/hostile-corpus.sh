#!/usr/bin/env bash
# hostile-corpus.sh regenerates cmd/tern/testdata/hostile: small files, each a way a model, tokenizer,
# config or text file can be wrong (a header declaring a huge model, a flipped header value, NaN
# weights, a tokenizer id of 16777215, "HIDDEN" beside "hidden", ...). `go test ./cmd/tern -run
# HostileCorpus` feeds every file to every loader of its kind, asserting a one-line error and a peak RSS
# below 300 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
TERN_WRITE_HOSTILE=1 go test ./cmd/tern -run '^TestWriteHostileCorpus$' -count=1
ls -l cmd/tern/testdata/hostile | awk 'NR > 1 {n++; b += $5} END {print "hostile corpus: " n " files, " b " bytes"}'
