#!/usr/bin/env bash
# bench-serve-ab.sh: two tern builds served alternately in one command, the way the README compares a
# round's start with its end: `tern bench serve --preset 100m|700m --clients 1,16 --requests 2` for
# each build, ROUNDS rounds (default 2), printing tokens/s at 1 and 16 clients, their ratio, and (for
# builds that report it) the mean decode step and its share of the wall.
#
# Usage: scripts/bench-serve-ab.sh OLD_TERN NEW_TERN [OUT.jsonl]   (a quiet machine; ~1 min a round)
# Environment: ROUNDS (2), THREADS (2).
set -euo pipefail
old=${1:?usage: bench-serve-ab.sh OLD_TERN NEW_TERN [OUT.jsonl]}
new=${2:?usage: bench-serve-ab.sh OLD_TERN NEW_TERN [OUT.jsonl]}
out=${3:-/tmp/tern-serve-ab.jsonl}
: >"$out"
echo "load before: $(cat /proc/loadavg)"
for round in $(seq 1 "${ROUNDS:-2}"); do
	for v in old new; do
		bin=$old
		[ "$v" = new ] && bin=$new
		for p in 100m 700m; do
			"$bin" bench serve --preset "$p" --clients 1,16 --requests 2 --threads "${THREADS:-2}" --linear=false --json 2>/dev/null |
				sed "s/^{/{\"bin\": \"$v\", \"round\": $round, /" >>"$out"
		done
	done
done
echo "load after: $(cat /proc/loadavg)"
python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
for p in ("100m", "700m"):
    for v in ("old", "new"):
        for r in sorted({x["round"] for x in rows}):
            rs = {x["clients"]: x for x in rows if x["preset"] == p and x["bin"] == v and x["round"] == r}
            if 1 not in rs or 16 not in rs:
                continue
            steps = ""
            if "step_ms" in rs[16]:
                steps = "; steps %.2f / %.2f ms, %.0f%% / %.0f%% of the wall" % (rs[1]["step_ms"], rs[16]["step_ms"], 100 * rs[1]["step_share"], 100 * rs[16]["step_share"])
            print("%s %s round %d: 1 client %.0f, 16 clients %.0f tokens/s: %.2fx%s" % (p, v, r, rs[1]["tokens_per_s"], rs[16]["tokens_per_s"], rs[16]["tokens_per_s"] / rs[1]["tokens_per_s"], steps))
PY
