#!/usr/bin/env bash
# setup-refs.sh installs the pinned Node.js reference tokenizers that tern's cross-implementation
# tests compare against (tokenizer package): OpenAI's tiktoken (WebAssembly build), js-tiktoken (pure
# JS, a second opinion) and Hugging Face's JavaScript tokenizers (loads a tern-trained tokenizer.json);
# and the official `openai` client, which the serve package's tests run against tern's HTTP API.
# They go into .refs/ at the repository root (gitignored). Tests skip, with a hint to run this script,
# when node or these packages are missing. Safe to rerun: an install that is already complete is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.refs
pkgs=(tiktoken@1.0.22 js-tiktoken@1.0.21 @huggingface/tokenizers@0.2.0 openai@7.60.0)
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "setup-refs: node and npm are needed (Node.js 18 or newer)" >&2
	exit 1
fi
mkdir -p "$dir"
if [ -f "$dir/.complete" ] && [ "$(cat "$dir/.complete")" = "${pkgs[*]}" ]; then
	echo "setup-refs: $dir already has ${pkgs[*]}"
	exit 0
fi
rm -f "$dir/.complete"
[ -f "$dir/package.json" ] || echo '{"name":"tern-refs","private":true}' >"$dir/package.json"
# Bounded retries and time, so an unreachable registry fails in minutes rather than hanging CI.
timeout 300 npm install --prefix "$dir" --no-audit --no-fund --save-exact \
	--fetch-retries=2 --fetch-timeout=60000 "${pkgs[@]}"
echo "${pkgs[*]}" >"$dir/.complete"
echo "setup-refs: installed ${pkgs[*]} into $dir"
