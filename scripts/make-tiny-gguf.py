#!/usr/bin/env python3
"""Write a small llama-architecture GGUF with random weights and a real tokenizer.

The model says nothing sensible, but llama.cpp loads and runs it like any other: it is
what the model tier's tests (and, at a larger size, its benchmark) run through the real
llama.cpp. The tokenizer (Phi-3's 32,064-token SentencePiece vocabulary) is copied from
``vendor/llama.cpp/models/ggml-vocab-phi-3.gguf`` in the llama-cpp-python source
distribution, which ``scripts/build-llama-wheel.sh --sdist-only`` downloads and caches.
The same arguments and seed always give the same bytes.

    scripts/make-tiny-gguf.py --out tiny.gguf                  # 64 hidden, 2 layers, ~5 MB
    scripts/make-tiny-gguf.py --out bench.gguf --hidden 768 --layers 12 --ff 2048  # ~150 MB
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import gguf
import numpy as np

VOCAB_MEMBER = "vendor/llama.cpp/models/ggml-vocab-phi-3.gguf"
ROOT = Path(__file__).resolve().parent.parent

# Phi-3.5's format, with a system turn (the vocab file's own template drops system
# messages; agentd copes with that too, but the tests want the common case).
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + '<|end|>\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)

TOKENIZER_ARRAYS = ("tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type")


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "agentd"


def phi3_vocab() -> Path:
    """The vocab-only GGUF, extracted once from the cached sdist."""
    target = cache_dir() / "vocab" / "ggml-vocab-phi-3.gguf"
    if target.is_file():
        return target
    sdist = subprocess.run([str(ROOT / "scripts" / "build-llama-wheel.sh"), "--sdist-only"],
                           check=True, capture_output=True, text=True).stdout.strip()
    with tarfile.open(sdist) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith(VOCAB_MEMBER))
        data = tar.extractfile(member)
        assert data is not None
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(data.read())
        tmp.replace(target)
    return target


def copy_tokenizer(writer: gguf.GGUFWriter, vocab: Path) -> int:
    """Copy every ``tokenizer.*`` key; return the vocabulary size."""
    reader = gguf.GGUFReader(vocab)
    n_vocab = 0
    for key, field in reader.fields.items():
        if not key.startswith("tokenizer.") or key == "tokenizer.chat_template":
            continue
        value = field.contents()
        if key in TOKENIZER_ARRAYS:
            n_vocab = len(value)
            if field.types[1] == gguf.GGUFValueType.STRING:
                writer.add_token_list(value)
            else:
                writer.add_array(key, value)
        else:
            writer.add_key_value(key, value, field.types[0])
    return n_vocab


def tensors(n_vocab: int, args: argparse.Namespace) -> list[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(args.seed)
    h, ff = args.hidden, args.ff

    def w(rows: int, cols: int, scale: float = 0.5) -> np.ndarray:
        return (rng.standard_normal((rows, cols)) * scale / np.sqrt(cols)).astype(np.float32)

    out = [("token_embd.weight", w(n_vocab, h, 1.0 * np.sqrt(h))),
           ("output_norm.weight", np.ones(h, dtype=np.float32)),
           ("output.weight", w(n_vocab, h, 4.0))]
    for i in range(args.layers):
        b = f"blk.{i}."
        out += [(b + "attn_norm.weight", np.ones(h, dtype=np.float32)),
                (b + "attn_q.weight", w(h, h)), (b + "attn_k.weight", w(h, h)),
                (b + "attn_v.weight", w(h, h)), (b + "attn_output.weight", w(h, h)),
                (b + "ffn_norm.weight", np.ones(h, dtype=np.float32)),
                (b + "ffn_gate.weight", w(ff, h)), (b + "ffn_up.weight", w(ff, h)),
                (b + "ffn_down.weight", w(h, ff))]
    return out


def write(args: argparse.Namespace) -> Path:
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    qtype = {"q8_0": gguf.GGMLQuantizationType.Q8_0, "f16": gguf.GGMLQuantizationType.F16}[
        args.type]
    writer = gguf.GGUFWriter(tmp, "llama")
    writer.add_name(args.name)
    writer.add_context_length(args.context)
    writer.add_embedding_length(args.hidden)
    writer.add_block_count(args.layers)
    writer.add_feed_forward_length(args.ff)
    writer.add_head_count(args.heads)
    writer.add_head_count_kv(args.heads)
    writer.add_rope_dimension_count(args.hidden // args.heads)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_freq_base(10000.0)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0 if args.type == "q8_0"
                         else gguf.LlamaFileType.MOSTLY_F16)
    n_vocab = copy_tokenizer(writer, Path(args.vocab) if args.vocab else phi3_vocab())
    writer.add_chat_template(CHAT_TEMPLATE)
    for name, data in tensors(n_vocab, args):
        if data.ndim == 1:
            writer.add_tensor(name, data)
        elif qtype == gguf.GGMLQuantizationType.F16:
            writer.add_tensor(name, data.astype(np.float16))
        else:
            writer.add_tensor(name, gguf.quants.quantize(data, qtype), raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    tmp.replace(out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="where to write the GGUF")
    parser.add_argument("--vocab", help="vocab-only GGUF to copy the tokenizer from "
                        "(default: Phi-3's, from the cached llama-cpp-python sdist)")
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--ff", type=int, default=128)
    parser.add_argument("--context", type=int, default=4096)
    parser.add_argument("--type", choices=("q8_0", "f16"), default="q8_0")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", default="agentd-tiny-random")
    args = parser.parse_args(argv)
    if args.hidden % args.heads or args.hidden % 32 or args.ff % 32:
        parser.error("--hidden must divide by --heads, and --hidden and --ff by 32")
    print(write(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
