"""The model tier (tier 2): a local GGUF model, through llama.cpp, that plans tool calls.

Data flow: ``store`` keeps the installed models; ``manager`` loads one lazily (within the
free memory) and unloads it when idle; ``toolrag`` picks the tools relevant to a request
with an embedding model; ``prompt`` renders them with the model's own chat template;
``prefix_cache`` keeps the evaluated fixed prefix on disk; ``grammar`` constrains the
output to one valid tool call or a reply; ``planner`` ties them into a ``StepPlanner``.

Nothing here imports llama.cpp at import time: ``runtime`` does, on first use, after it
has set the thread environment.
"""
