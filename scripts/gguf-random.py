#!/usr/bin/python3
"""Writes a random-weight GGUF in llama.cpp's `llama` architecture with ternary TQ2_0 projections, to
compare serving against llama-server with a model of a tern decode preset's size (tern bench serve).

Usage: /usr/bin/python3 scripts/gguf-random.py --preset 100m|700m --out model.gguf [--gguf-py DIR]

Shapes follow tern's BitNet-shaped decode presets (hidden, layers, heads, vocab 32000, F16 token table,
tied head); llama's FFN is gated (three matrices), so its width is 2/3 of tern's FFN, rounded to a
multiple of 256 (TQ2_0's block), which keeps the ternary weights per layer within 4% of tern's.
Weights are uniform over {-1, 0, 1} with one scale per 256-block (TQ2_0); norms are ones. A
SentencePiece-style vocabulary (<unk>, <s>, </s>, 256 byte tokens, then filler pieces) lets
llama-server tokenize prompts. Needs numpy (Debian's python3-numpy) and llama.cpp's gguf-py.
"""
import argparse
import os
import sys

PRESETS = {  # hidden, layers, heads, tern FFN
    "100m": (768, 12, 12, 2048),
    "700m": (1536, 24, 16, 4096),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", choices=sorted(PRESETS), default="100m")
    ap.add_argument("--out", required=True)
    ap.add_argument("--ctx", type=int, default=2048)
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--gguf-py", default=os.path.expanduser("~/.cache/tern-refs/llama.cpp/gguf-py"))
    a = ap.parse_args()
    sys.path.insert(0, a.gguf_py)
    import numpy as np
    import gguf

    C, L, H, F = PRESETS[a.preset]
    FG = max(256, round(2 * F / 3 / 256) * 256)  # gated FFN width
    V = a.vocab
    rng = np.random.default_rng(a.seed)
    w = gguf.GGUFWriter(a.out + ".tmp", "llama")
    w.add_name(f"tern-random-{a.preset}")
    w.add_context_length(a.ctx)
    w.add_embedding_length(C)
    w.add_block_count(L)
    w.add_feed_forward_length(FG)
    w.add_head_count(H)
    w.add_head_count_kv(H)
    w.add_rope_dimension_count(C // H)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_vocab_size(V)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_TQ2_0)

    tokens, scores, types = ["<unk>", "<s>", "</s>"], [0.0, 0.0, 0.0], [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    for b in range(256):
        tokens.append(f"<0x{b:02X}>")
        scores.append(0.0)
        types.append(gguf.TokenType.BYTE)
    letters = "abcdefghijklmnopqrstuvwxyz"
    i = 0
    while len(tokens) < V:
        s, n = "", i
        while True:
            s = letters[n % 26] + s
            n //= 26
            if n == 0:
                break
        tokens.append(("\u2581" if i % 2 else "") + s)
        scores.append(-float(i))
        types.append(gguf.TokenType.NORMAL)
        i += 1
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)

    def ternary(rows, cols):
        t = rng.integers(-1, 2, size=(rows, cols)).astype(np.float32)
        return gguf.quants.quantize(t, gguf.GGMLQuantizationType.TQ2_0)

    w.add_tensor("token_embd.weight", (rng.standard_normal((V, C), dtype=np.float32) * 0.02).astype(np.float16))
    w.add_tensor("output_norm.weight", np.ones(C, dtype=np.float32))
    for l in range(L):
        p = f"blk.{l}."
        w.add_tensor(p + "attn_norm.weight", np.ones(C, dtype=np.float32))
        w.add_tensor(p + "ffn_norm.weight", np.ones(C, dtype=np.float32))
        for name, (r, c) in [("attn_q", (C, C)), ("attn_k", (C, C)), ("attn_v", (C, C)), ("attn_output", (C, C)),
                             ("ffn_gate", (FG, C)), ("ffn_up", (FG, C)), ("ffn_down", (C, FG))]:
            w.add_tensor(p + name + ".weight", ternary(r, c), raw_dtype=gguf.GGMLQuantizationType.TQ2_0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.replace(a.out + ".tmp", a.out)
    tern_w, llama_w = 4 * C * C + 2 * C * F, 4 * C * C + 3 * C * FG
    print(f"gguf-random: wrote {a.out} ({os.path.getsize(a.out) / 2**20:.1f} MiB): llama, d {C}, {L} layers, {H} heads, gated FFN {FG}, "
          f"vocab {V}; ternary weights per layer {llama_w} (tern's preset: {tern_w})")


if __name__ == "__main__":
    main()
