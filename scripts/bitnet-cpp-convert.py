#!/usr/bin/env python3
"""Run bitnet.cpp's own Hugging Face -> GGUF converter (microsoft/BitNet utils/convert-hf-to-gguf-bitnet.py,
class BitnetModel, architecture bitnet-b1.58) on a BitNetForCausalLM folder, unmodified, with llama.cpp
v0.4.0's gguf-py: the independent reference that tern's bitnet-b1.58 reader and writer are checked against
(cmd/tern TestBitnetCppConverter).

    PYTHONPATH=~/.cache/tern-refs/llama.cpp/gguf-py /usr/bin/python3 scripts/bitnet-cpp-convert.py \
        CONVERTER.py HF_DIR OUT.gguf [--outtype i2_s|f16|f32] [--pre gpt-2|llama-bpe]

CONVERTER.py is the converter file itself (from a microsoft/BitNet checkout, or `git show
HEAD:utils/convert-hf-to-gguf-bitnet.py` of a clone). Its code runs as it is; this harness only supplies
what its environment would (bitnet.cpp installs its llama.cpp fork's gguf-py, safetensors and
transformers), adding at runtime, never editing any file:

1. gguf-py constants of bitnet.cpp's fork that v0.4.0 lacks: GGMLQuantizationType I2_S = 36, TL1 = 38,
   TL2 = 39 (its ggml.h), each with GGML_QUANT_SIZES (1, 1) (its ggml type traits: blck_size 1,
   type_size 1; the byte count n/4 + 32 is special-cased in ggml_nbytes); MODEL_ARCH.BITNET_B158 named
   "bitnet-b1.58" with the tensor list bitnet.cpp's fork gives it (token_embd, output_norm, output,
   rope_freqs, attn_norm, attn_q/k/v, attn_output, attn_rot_embd, ffn_norm, ffn_gate/down/up,
   attn_sub_norm, ffn_sub_norm); and the Hugging Face names of the 2B4T sub-norms
   (model.layers.N.self_attn.attn_sub_norm, model.layers.N.mlp.ffn_sub_norm), which v0.4.0's map only
   knows in 1bitLLM's spelling (inner_attn_ln, ffn_layernorm).
2. `safetensors.safe_open` (not installed here): a small reader of the container (8-byte header length,
   JSON header, raw little-endian data) giving torch tensors, keys in sorted order as safetensors does.
3. `convert` (bitnet.cpp's utils/convert.py imports sentencepiece at the top): a stub; BitnetModel uses
   only LlamaHfVocab from it, in set_vocab, which is replaced (4).
4. BitnetModel.set_vocab: the converter would try sentencepiece (tokenizer.model; absent), then
   LlamaHfVocab, then _set_vocab_gpt2, which needs transformers' AutoTokenizer (not installed). This
   writes what _set_vocab_gpt2 writes, from tokenizer.json directly: tokenizer.ggml.model "gpt2", the
   pre-tokenizer name given by --pre (the converter finds it by hashing an encoding made with
   transformers), the tokens by id (holes as [PAD<i>] USER_DEFINED, added tokens CONTROL when special,
   USER_DEFINED otherwise, the rest NORMAL), then gguf-py's own SpecialVocab(load_merges=True) for merges
   and special token ids, as _set_vocab_gpt2 does.
"""

import argparse
import contextlib
import enum
import importlib.util
import json
import logging
import sys
import types
from pathlib import Path

import numpy as np
import torch

import gguf


def add_enum_member(cls, name, value):
    """Adds member name = value to an existing IntEnum (the stdlib has no API for it; written against
    CPython 3.11's enum internals, Debian 12's python3, with torch 1.13 and numpy 1.24)."""
    if name in cls.__members__:
        return
    m = int.__new__(cls, value)
    m._name_, m._value_ = name, value
    with contextlib.suppress(AttributeError):
        m.__objclass__ = cls
    m.__init__(value)
    cls._member_map_[name] = m
    cls._member_names_.append(name)
    cls._value2member_map_.setdefault(value, m)
    type.__setattr__(cls, name, m)


def patch_gguf():
    q = gguf.GGMLQuantizationType
    for name, value in (("I2_S", 36), ("TL1", 38), ("TL2", 39)):
        add_enum_member(q, name, value)
        gguf.GGML_QUANT_SIZES[q[name]] = (1, 1)
    a, t = gguf.MODEL_ARCH, gguf.MODEL_TENSOR
    add_enum_member(a, "BITNET_B158", max(m.value for m in a) + 1)
    gguf.MODEL_ARCH_NAMES[a.BITNET_B158] = "bitnet-b1.58"
    gguf.MODEL_TENSORS[a.BITNET_B158] = [
        t.TOKEN_EMBD, t.OUTPUT_NORM, t.OUTPUT, t.ROPE_FREQS, t.ATTN_NORM, t.ATTN_Q, t.ATTN_K, t.ATTN_V,
        t.ATTN_OUT, t.ATTN_ROT_EMBD, t.FFN_NORM, t.FFN_GATE, t.FFN_DOWN, t.FFN_UP, t.ATTN_SUB_NORM,
        t.FFN_SUB_NORM,
    ]
    m = gguf.TensorNameMap.block_mappings_cfg
    m[t.ATTN_SUB_NORM] = tuple(m.get(t.ATTN_SUB_NORM, ())) + ("model.layers.{bid}.self_attn.attn_sub_norm",)
    m[t.FFN_SUB_NORM] = tuple(m.get(t.FFN_SUB_NORM, ())) + ("model.layers.{bid}.mlp.ffn_sub_norm",)


class SafeOpen:
    """safetensors.safe_open(path, framework="pt", device="cpu") for F32, F16, BF16, I8 and U8 tensors."""

    def __init__(self, path, framework="pt", device="cpu"):
        self.path = Path(path)
        raw = self.path.read_bytes()
        n = int.from_bytes(raw[:8], "little")
        self.header = json.loads(raw[8:8 + n])
        self.header.pop("__metadata__", None)
        self.data = raw[8 + n:]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def keys(self):
        return sorted(self.header)

    def get_tensor(self, name):
        h = self.header[name]
        lo, hi = h["data_offsets"]
        b = self.data[lo:hi]
        dt = h["dtype"]
        if dt == "BF16":
            x = torch.from_numpy(np.frombuffer(b, dtype="<i2").copy()).view(torch.bfloat16)
        else:
            np_dt = {"F32": "<f4", "F16": "<f2", "I8": "i1", "U8": "u1"}[dt]
            x = torch.from_numpy(np.frombuffer(b, dtype=np_dt).copy())
        return x.reshape(h["shape"])


def install_stubs():
    st = types.ModuleType("safetensors")
    st.safe_open = SafeOpen
    sys.modules["safetensors"] = st
    conv = types.ModuleType("convert")

    class LlamaHfVocab:  # BitnetModel reaches it only through set_vocab, replaced below
        def __init__(self, *a, **k):
            raise FileNotFoundError("LlamaHfVocab is not available in this harness")

    def permute(weights, n_head, n_head_kv):
        raise NotImplementedError("permute is not used by BitnetModel")

    conv.LlamaHfVocab, conv.permute = LlamaHfVocab, permute
    sys.modules["convert"] = conv


def gpt2_vocab(pre):
    def set_vocab(self):
        tj = json.loads((self.dir_model / "tokenizer.json").read_text(encoding="utf-8"))
        vocab = dict(tj["model"]["vocab"])
        added = {t["id"]: t for t in tj.get("added_tokens", [])}
        for i, t in added.items():
            vocab[t["content"]] = i
        size = self.hparams.get("vocab_size", len(vocab))
        assert max(vocab.values()) < size
        rev = {i: s for s, i in vocab.items()}
        tokens, toktypes = [], []
        for i in range(size):
            if i not in rev:
                tokens.append(f"[PAD{i}]")
                toktypes.append(gguf.TokenType.USER_DEFINED)
            elif i in added:
                tokens.append(rev[i])
                toktypes.append(gguf.TokenType.CONTROL if added[i].get("special") else gguf.TokenType.USER_DEFINED)
            else:
                tokens.append(rev[i])
                toktypes.append(gguf.TokenType.NORMAL)
        self.gguf_writer.add_tokenizer_model("gpt2")
        self.gguf_writer.add_tokenizer_pre(pre)
        self.gguf_writer.add_token_list(tokens)
        self.gguf_writer.add_token_types(toktypes)
        gguf.SpecialVocab(self.dir_model, load_merges=True).add_to_gguf(self.gguf_writer)

    return set_vocab


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("converter", type=Path)
    ap.add_argument("model", type=Path)
    ap.add_argument("outfile", type=Path)
    ap.add_argument("--outtype", default="i2_s", choices=["i2_s", "f16", "f32"])
    ap.add_argument("--pre", default="gpt-2", help="tokenizer.ggml.pre (gpt-2, llama-bpe)")
    a = ap.parse_args()
    patch_gguf()
    install_stubs()
    sys.path.insert(0, str(a.converter.resolve().parent))  # as running the script from its folder
    spec = importlib.util.spec_from_file_location("convert_hf_to_gguf_bitnet", a.converter)
    conv = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conv)
    conv.BitnetModel.set_vocab = gpt2_vocab(a.pre)
    sys.argv = [str(a.converter), str(a.model), "--outtype", a.outtype, "--outfile", str(a.outfile)]
    conv.args = conv.parse_args()  # the converter reads the module global `args`, as its __main__ sets it
    conv.main()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
