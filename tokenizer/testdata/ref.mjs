// ref.mjs: runs a reference tokenizer for tern's tests (tokenizer/ref_test.go) and benchmarks.
// Reads one JSON request on stdin, writes one JSON reply on stdout:
//   {"lib": "tiktoken" | "js-tiktoken" | "hf" | "hf-rust", "tokenizer": "path/to/tokenizer.json" (hf*),
//    "special": "text" | "allow" | "disallow" | "add" (hf-rust: apply the post-processor), "texts": ["<base64 of UTF-8>", ...],
//    "bench": 0}                  (bench > 0: time that many encode passes instead)
//   -> {"ids": [[...], ...], "errors": [null | "message", ...]}
//   or, benchmarking, {"seconds": [wall per pass], "cpu_seconds": [process CPU per pass], "bytes": N, "tokens": N}
// The packages come from $TERN_REFS/node_modules (scripts/setup-refs.sh installs them).
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const refs = process.env.TERN_REFS;
if (!refs) throw new Error("TERN_REFS is not set");
const require = createRequire(path.join(refs, "package.json"));
const req = JSON.parse(readFileSync(0, "utf8"));
const texts = req.texts.map((b) => Buffer.from(b, "base64").toString("utf8"));

let encode;
if (req.lib === "tiktoken") {
  const { get_encoding } = require("tiktoken");
  const enc = get_encoding("r50k_base");
  encode = (t) => Array.from(
    req.special === "allow" ? enc.encode(t, "all") :
    req.special === "disallow" ? enc.encode(t) : enc.encode_ordinary(t));
} else if (req.lib === "js-tiktoken") {
  const { getEncoding } = require("js-tiktoken");
  const enc = getEncoding("r50k_base");
  encode = (t) =>
    req.special === "allow" ? enc.encode(t, "all") :
    req.special === "disallow" ? enc.encode(t) : enc.encode(t, [], []);
} else if (req.lib === "hf") {
  const mod = await import(pathToFileURL(path.join(refs, "node_modules/@huggingface/tokenizers/dist/tokenizers.mjs")).href);
  const tok = new mod.Tokenizer(JSON.parse(readFileSync(req.tokenizer, "utf8")), {});
  encode = (t) => tok.encode(t, { add_special_tokens: false }).ids;
} else if (req.lib === "hf-rust") {
  // Hugging Face's Rust tokenizers through its Node bindings (the npm package "tokenizers"): the
  // reference for tokenizer.json files that tokenizers.js cannot read the same way (LLaMA-3's Split).
  // Special-token text in the input is always matched, as Hugging Face does; "add" also applies the
  // post-processor (add_special_tokens, e.g. LLaMA-3's BOS).
  const { Tokenizer } = require("tokenizers");
  const tok = Tokenizer.fromFile(req.tokenizer);
  const opts = { addSpecialTokens: req.special === "add" };
  encode = async (t) => (await tok.encode(t, null, opts)).getIds();
} else {
  throw new Error("unknown lib " + req.lib);
}

if (req.bench > 0) {
  let bytes = 0;
  for (const t of texts) bytes += Buffer.byteLength(t, "utf8");
  const seconds = [], cpu_seconds = [];
  let tokens = 0;
  for (let r = 0; r < req.bench; r++) {
    const t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
    tokens = 0;
    for (const t of texts) tokens += (await encode(t)).length;
    const c = process.cpuUsage(c0);
    seconds.push(Number(process.hrtime.bigint() - t0) / 1e9);
    cpu_seconds.push((c.user + c.system) / 1e6);
  }
  process.stdout.write(JSON.stringify({ seconds, cpu_seconds, bytes, tokens }));
} else {
  const ids = [], errors = [];
  for (const t of texts) {
    try { ids.push(await encode(t)); errors.push(null); }
    catch (e) { ids.push(null); errors.push(String(e && e.message || e)); }
  }
  process.stdout.write(JSON.stringify({ ids, errors }));
}
