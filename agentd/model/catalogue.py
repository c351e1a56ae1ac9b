"""Recommended instruct models for phones, for users with internet (`agentctl model catalogue`).

The URLs are the publishers' own GGUF repositories. Sizes are approximate and the
sha256 digests were NOT verified when this list was written (no network here): entries
leave ``sha256`` empty and ``agentctl model install URL`` records the digest it
computed. Pass ``--sha256`` yourself when you have it from the publisher's page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CatalogueModel:
    name: str
    url: str
    size_mb: int  # approximate download size
    ram_mb: int  # approximate memory to run with a 4,096-token context
    licence: str
    sha256: str = ""  # empty: not verified, see the module docstring
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "url": self.url, "size_mb": self.size_mb,
                "ram_mb": self.ram_mb, "licence": self.licence,
                "sha256": self.sha256 or None, "note": self.note}


_HF = "https://huggingface.co"

RECOMMENDED: tuple[CatalogueModel, ...] = (
    CatalogueModel("qwen2.5-0.5b-instruct-q4_k_m",
                   f"{_HF}/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/"
                   "qwen2.5-0.5b-instruct-q4_k_m.gguf",
                   size_mb=400, ram_mb=700, licence="Apache-2.0",
                   note="fastest; good enough for single tool calls"),
    CatalogueModel("qwen2.5-1.5b-instruct-q4_k_m",
                   f"{_HF}/Qwen/Qwen2.5-1.5B-Instruct-GGUF/resolve/main/"
                   "qwen2.5-1.5b-instruct-q4_k_m.gguf",
                   size_mb=1000, ram_mb=1400, licence="Apache-2.0",
                   note="better multi-step plans; needs a 3 GB phone"),
    CatalogueModel("llama-3.2-1b-instruct-q4_k_m",
                   f"{_HF}/bartowski/Llama-3.2-1B-Instruct-GGUF/resolve/main/"
                   "Llama-3.2-1B-Instruct-Q4_K_M.gguf",
                   size_mb=810, ram_mb=1200, licence="Llama 3.2 Community License"),
)
