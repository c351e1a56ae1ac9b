"""Check a GGUF file before trusting it: header, metadata, tensor bounds, memory it needs.

``inspect_gguf`` reads the header with the ``gguf`` package (memory-mapped, so a 2 GB
model costs no 2 GB of RAM) and checks that every tensor's data lies inside the file,
which catches truncated downloads without reading the weights.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentd.errors import ModelUnavailable

GGUF_MAGIC = b"GGUF"
# Compute buffers, logits and the runtime itself, on top of weights and KV cache.
RUNTIME_OVERHEAD_BYTES = 96 * 2**20


@dataclass(frozen=True)
class GGUFInfo:
    """What agentd needs to know about a model file."""

    path: Path
    size: int
    architecture: str
    name: str
    n_layers: int
    n_embd: int
    n_head: int
    n_head_kv: int
    context_length: int
    chat_template: str
    n_tensors: int

    def ram_needed(self, n_ctx: int) -> int:
        """Bytes of memory to run with ``n_ctx`` tokens: weights + f16 KV cache + overhead."""
        kv_width = self.n_embd * self.n_head_kv // max(self.n_head, 1)
        kv_cache = 2 * self.n_layers * n_ctx * kv_width * 2
        return self.size + kv_cache + RUNTIME_OVERHEAD_BYTES

    def to_json(self) -> dict[str, Any]:
        return {"architecture": self.architecture, "name": self.name, "size": self.size,
                "layers": self.n_layers, "embedding": self.n_embd,
                "context_length": self.context_length,
                "chat_template": bool(self.chat_template)}


def _bad(path: Path, why: str) -> ModelUnavailable:
    return ModelUnavailable(f"{path} is not a usable GGUF model: {why}")


def inspect_gguf(path: Path) -> GGUFInfo:
    """Read and check ``path``'s header; raise ``ModelUnavailable`` saying what is wrong."""
    try:
        with path.open("rb") as f:
            magic = f.read(4)
        size = path.stat().st_size
    except OSError as exc:
        raise _bad(path, exc.strerror or str(exc)) from None
    if magic != GGUF_MAGIC:
        raise _bad(path, f"it does not start with the GGUF magic (found {magic!r})")
    try:
        from gguf import GGUFReader
    except ImportError:
        raise ModelUnavailable("the gguf package is not installed; install agentd's "
                               "model extras (`pip install 'agentd[model]'`)") from None
    try:
        reader = GGUFReader(path)
    except (ValueError, IndexError, KeyError, OSError) as exc:
        raise _bad(path, f"its header is damaged or the file is truncated ({exc})") from None
    for tensor in reader.tensors:
        end = int(tensor.data_offset) + int(tensor.n_bytes)
        if end > size:
            raise _bad(path, f"truncated: tensor {tensor.name} ends at byte {end} but the "
                       f"file has {size} bytes")
    fields = {key: field.contents() for key, field in reader.fields.items()
              if not key.startswith("tokenizer.ggml.")}
    arch = fields.get("general.architecture")
    if not isinstance(arch, str):
        raise _bad(path, "it has no general.architecture")
    if "tokenizer.ggml.model" not in reader.fields:
        raise _bad(path, "it has no tokenizer")
    if not reader.tensors:
        raise _bad(path, "it holds no tensors (a vocabulary-only file?)")

    def num(key: str, default: int = 0) -> int:
        value = fields.get(f"{arch}.{key}", default)
        return int(value) if isinstance(value, int | float) else default

    n_head = num("attention.head_count", 1)
    return GGUFInfo(path=path, size=size, architecture=arch,
                    name=str(fields.get("general.name", path.stem)),
                    n_layers=num("block_count"), n_embd=num("embedding_length"),
                    n_head=n_head, n_head_kv=num("attention.head_count_kv", n_head),
                    context_length=num("context_length"),
                    chat_template=str(fields.get("tokenizer.chat_template", "")),
                    n_tensors=len(reader.tensors))


def fingerprint(path: Path) -> str:
    """A cheap content fingerprint: size, first 8 MiB and last 1 MiB (for cache keys)."""
    digest = hashlib.sha256()
    size = path.stat().st_size
    digest.update(str(size).encode())
    with path.open("rb") as f:
        digest.update(f.read(8 * 2**20))
        f.seek(max(0, size - 2**20))
        digest.update(f.read())
    return digest.hexdigest()[:32]


def mem_available(meminfo: Path = Path("/proc/meminfo")) -> int | None:
    """MemAvailable in bytes, or None when the kernel does not say."""
    try:
        for line in meminfo.read_text(encoding="ascii").splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None
