#!/usr/bin/env bash
# fuzz.sh runs every Go fuzz target that parses user input for a given time each, one worker each and
# niced, and prints one line per target (executions, new corpus entries, result) and the totals.
# A crash leaves its input under <pkg>/testdata/fuzz/<target>/ (commit it: it becomes a regression
# test of `go test`) and makes the script exit 1.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET (default 30)] [TARGET_REGEX (default: all)]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
only=${2:-.}
targets=(
	"format FuzzReadHeader"      # model, checkpoint and packed files (safetensors header + tern metadata)
	"format FuzzCheckpointIndex" # Hugging Face model.safetensors.index.json beside its shards
	"gguf FuzzParse"             # GGUF files
	"quant FuzzUnpackTrits"      # packed trit bytes
	"model FuzzParseConfig"      # model config JSON
	"tokenizer FuzzLoadJSON"     # tokenizer.json
	"tokenizer FuzzRoundTrip"    # any text through the BPE encoder
	"data FuzzGLUE"              # GLUE TSV (SST-2, CoLA, MRPC)
	"data FuzzCoNLL2003"         # CoNLL-2003
	"data FuzzCoNLLU"            # CoNLL-U
	"data FuzzSquad"             # SQuAD JSON
	"data FuzzWikiText"          # WikiText
	"data FuzzGutenbergSplit"    # the Gutenberg split.tsv
	"train FuzzCheckpointMeta"   # checkpoint metadata (configs, steps, RNG states)
	"serve FuzzRequestBody"      # HTTP request bodies of both generation endpoints
)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
total=0 failed=0
printf '%-10s %-22s %12s %8s  %s\n' package target execs new result
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	[[ "$pkg $name" =~ $only ]] || continue
	if ! grep -q "func $name(" "$pkg"/*_test.go 2>/dev/null; then
		printf '%-10s %-22s %12s %8s  %s\n' "$pkg" "$name" - - "missing"
		continue
	fi
	result=ok
	nice -n 10 go test -run '^$' -fuzz "^$name\$" -fuzztime "${secs}s" -parallel 1 "./$pkg" >"$log" 2>&1 || result=FAIL
	execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
	newi=$(grep -o 'new interesting: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo 0)
	printf '%-10s %-22s %12s %8s  %s\n' "$pkg" "$name" "$execs" "$newi" "$result"
	total=$((total + execs))
	if [ "$result" != ok ]; then
		failed=$((failed + 1))
		grep -v '^fuzz: elapsed' "$log" | head -20 | sed 's/^/    /'
	fi
done
echo "total: $total executions, $failed targets failed (${secs}s each, 1 worker, $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
[ "$failed" -eq 0 ]
