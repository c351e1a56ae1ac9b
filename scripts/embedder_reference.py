"""Reference embeddings for all-MiniLM-L6-v2, computed with torch + transformers.

Run by ``make-embedder-gguf.sh`` inside its converter venv:
``embedder_reference.py MODEL_DIR OUT.json``. Mean pooling over the attention mask and
L2 normalisation, as the model's sentence-transformers configuration prescribes.
"""

from __future__ import annotations

import json
import sys

import torch
from transformers import AutoModel, AutoTokenizer

REFERENCE_SENTENCES = [
    "turn off wifi",
    "set a timer for ten minutes",
    "send a text message to Alice saying I'm late",
    "Change a setting: toggles take true/false, brightness and volume a percent.",
    "Find files in the user's folders by name words and kind.",
    "what is on the screen right now?",
    "The quick brown fox jumps over the lazy dog.",
    "Wie spät ist es?",
]


def main(model_dir: str, out: str) -> None:
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()
    batch = tokenizer(REFERENCE_SENTENCES, padding=True, truncation=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    vectors = torch.nn.functional.normalize(pooled, dim=1)
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"model": "sentence-transformers/all-MiniLM-L6-v2",
                   "pooling": "mean", "normalized": True,
                   "torch": torch.__version__,
                   "sentences": REFERENCE_SENTENCES,
                   "vectors": [[round(x, 7) for x in v] for v in vectors.tolist()]}, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
