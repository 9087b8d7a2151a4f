# ref.py OUT.gguf REFDIR: writes a GGUF with llama.cpp's gguf-py (random tensors of every type tern
# converts, metadata of every value type) and, for each tensor, gguf-py's own dequantization as raw
# little-endian float32 in REFDIR/<name>.f32 and its quantized bytes in REFDIR/<name>.raw. The Go
# test (gguf_py_test.go) reads the same file and must give the same bytes and values.
import sys
import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q
from gguf.quants import quantize, dequantize

out, refdir = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(7)
w = gguf.GGUFWriter(out, "bitnet")
w.add_uint32("t.u32", 4000000000)
w.add_int32("t.i32", -7)
w.add_float32("t.f32", 0.25)
w.add_float64("t.f64", -1.5)
w.add_uint64("t.u64", 1 << 40)
w.add_int64("t.i64", -(1 << 40))
w.add_int8("t.i8", -3)
w.add_uint16("t.u16", 65000)
w.add_bool("t.bool", True)
w.add_string("t.str", "héllo wörld")
w.add_array("t.strs", ["a", "", "ĠThe", "<|end_of_text|>"])
w.add_array("t.ints", [1, -2, 3])
w.add_array("t.floats", [0.5, -0.25])

tensors = {}
tensors["f32"] = (rng.standard_normal((3, 64)).astype(np.float32), Q.F32)
tensors["f16"] = (rng.standard_normal((2, 96)).astype(np.float32), Q.F16)
tensors["bf16"] = (rng.standard_normal((2, 64)).astype(np.float32), Q.BF16)
tensors["q8_0"] = (rng.standard_normal((4, 64)).astype(np.float32), Q.Q8_0)
s = np.float32(0.0371)
tern = rng.integers(-1, 2, size=(3, 512)).astype(np.float32) * s
tern[1, :256] = 0  # an all-zero block
tensors["tq1_0"] = (tern, Q.TQ1_0)
tensors["tq2_0"] = (tern, Q.TQ2_0)
for name, (x, qt) in tensors.items():
    q = quantize(x, qt)
    w.add_tensor(name, q, raw_dtype=qt)
    dequantize(q, qt).astype("<f4").tofile(f"{refdir}/{name}.f32")
    q.tofile(f"{refdir}/{name}.raw")
    x.astype("<f4").tofile(f"{refdir}/{name}.src")
# Q6_K: gguf-py dequantizes it but does not quantize; random blocks with a finite d test the layout.
blocks = rng.integers(0, 256, size=(2 * 2, 210), dtype=np.uint8)
blocks[:, 208:210] = np.frombuffer(rng.standard_normal(4).astype(np.float16).tobytes(), dtype=np.uint8).reshape(4, 2)
q6 = blocks.reshape(2, 2 * 210)
w.add_tensor("q6_k", q6, raw_dtype=Q.Q6_K)
dequantize(q6, Q.Q6_K).astype("<f4").tofile(f"{refdir}/q6_k.f32")
q6.tofile(f"{refdir}/q6_k.raw")
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()
