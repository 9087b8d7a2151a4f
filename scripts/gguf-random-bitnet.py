#!/usr/bin/env python3
# gguf-random-bitnet.py OUT.gguf [options]: a random-weight model of llama.cpp's "bitnet" architecture
# written with llama.cpp's gguf-py (PYTHONPATH=<llama.cpp>/gguf-py): ternary projections (trits times one
# scale per matrix) quantized by gguf-py to TQ2_0 or TQ1_0, norms F32, the token table (tied head) as
# F16/F32/Q8_0/BF16, and a byte-level GPT-2-style vocabulary padded with control tokens so llama.cpp loads
# it. Used by tern's parity tests against llama.cpp and by the decode benchmark (2B4T shapes:
# --hidden 2560 --ffn 6912 --layers 30 --heads 20 --kv-heads 5 --vocab 128256).
import argparse
import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q
from gguf.quants import quantize

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--hidden", type=int, default=256)
ap.add_argument("--ffn", type=int, default=512)
ap.add_argument("--layers", type=int, default=2)
ap.add_argument("--heads", type=int, default=4)
ap.add_argument("--kv-heads", type=int, default=2)
ap.add_argument("--vocab", type=int, default=512)
ap.add_argument("--ctx", type=int, default=4096)
ap.add_argument("--type", default="tq2_0", choices=["tq2_0", "tq1_0"])
ap.add_argument("--table", default="f16", choices=["f16", "f32", "q8_0", "bf16"])
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--ascii", action="store_true",
                help="printable ASCII tokens only (no byte tokens), so every output is valid UTF-8, which llama-server's reply needs")
a = ap.parse_args()
rng = np.random.default_rng(a.seed)
qt = {"tq2_0": Q.TQ2_0, "tq1_0": Q.TQ1_0}[a.type]

w = gguf.GGUFWriter(a.out, "bitnet")
w.add_name("tern random bitnet")
w.add_context_length(a.ctx)
w.add_embedding_length(a.hidden)
w.add_block_count(a.layers)
w.add_feed_forward_length(a.ffn)
w.add_head_count(a.heads)
w.add_head_count_kv(a.kv_heads)
w.add_rope_freq_base(500000.0)
w.add_layer_norm_rms_eps(1e-5)
w.add_rope_dimension_count(a.hidden // a.heads)
w.add_file_type({"tq2_0": gguf.LlamaFileType.MOSTLY_TQ2_0, "tq1_0": gguf.LlamaFileType.MOSTLY_TQ1_0}[a.type])

# vocabulary: the 256 byte-level symbols of GPT-2, one merge, then control tokens up to --vocab
bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
cs, n = bs[:], 0
for b in range(256):
    if b not in bs:
        bs.append(b)
        cs.append(256 + n)
        n += 1
byte_tok = {b: chr(c) for b, c in zip(bs, cs)}
tokens = [byte_tok[b] for b in range(256)] + ["ĠĠ"]
merges = ["Ġ Ġ"]
if a.ascii:
    tokens, merges = [chr(c) for c in range(33, 127)] + ["!!"], ["! !"]
types = [1] * len(tokens)
while len(tokens) < a.vocab:
    tokens.append(f"<|reserved_{len(tokens)}|>")
    types.append(3)
w.add_tokenizer_model("gpt2")
w.add_tokenizer_pre("gpt-2")
w.add_token_list(tokens)
w.add_token_types(types)
w.add_token_merges(merges)
w.add_bos_token_id(a.vocab - 2)
w.add_eos_token_id(a.vocab - 1)
w.add_add_bos_token(False)


def f32(name, x):
    w.add_tensor(name, x.astype(np.float32))


def table(name, x):
    if a.table == "f32":
        w.add_tensor(name, x.astype(np.float32))
    elif a.table == "f16":
        w.add_tensor(name, x.astype(np.float16))
    else:
        t = {"q8_0": Q.Q8_0, "bf16": Q.BF16}[a.table]
        w.add_tensor(name, quantize(x.astype(np.float32), t), raw_dtype=t)


def tern(name, n, k):
    s = np.float32(rng.uniform(0.02, 0.08))
    x = rng.integers(-1, 2, size=(n, k)).astype(np.float32) * s
    w.add_tensor(name, quantize(x, qt), raw_dtype=qt)


C, F, hs = a.hidden, a.ffn, a.hidden // a.heads
table("token_embd.weight", rng.standard_normal((a.vocab, C)).astype(np.float32) * 0.05)
f32("output_norm.weight", 1 + 0.1 * rng.standard_normal(C))
for l in range(a.layers):
    p = f"blk.{l}."
    f32(p + "attn_norm.weight", 1 + 0.1 * rng.standard_normal(C))
    f32(p + "ffn_norm.weight", 1 + 0.1 * rng.standard_normal(C))
    f32(p + "attn_sub_norm.weight", 1 + 0.1 * rng.standard_normal(C))
    f32(p + "ffn_sub_norm.weight", 1 + 0.1 * rng.standard_normal(F))
    tern(p + "attn_q.weight", C, C)
    tern(p + "attn_k.weight", a.kv_heads * hs, C)
    tern(p + "attn_v.weight", a.kv_heads * hs, C)
    tern(p + "attn_output.weight", C, C)
    tern(p + "ffn_gate.weight", F, C)
    tern(p + "ffn_up.weight", F, C)
    tern(p + "ffn_down.weight", C, F)
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()
