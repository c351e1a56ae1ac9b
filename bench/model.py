"""The model tier's benchmark: figures as ratios against baselines measured in the same run.

    .venv/bin/python bench/model.py [--hidden 768 --layers 12 --ff 2048] [--rounds 3]
    .venv/bin/python bench/model.py --model "$(scripts/fetch-smollm2.sh)" \
        --embedder "$(scripts/make-embedder-gguf.sh)"       # any GGUF; a real model

Uses a generated llama-architecture model (~150 MB Q8_0, random weights, Phi-3 tokenizer;
built once into ~/.cache/agentd/bench/) and the whole catalogue in the prompt (~1,100
tokens of system text and tool schemas), no ToolRAG, so the prefix is a realistic size.

1. Threads: decode and prompt tok/s and peak RSS per thread setting, each in a fresh
   process (OpenMP reads OMP_WAIT_POLICY once, at start).
2. End-to-end planner step over raw llama-cpp-python ``generate`` for the same prompt
   tokens, grammar and output tokens (cold context both times).
3. Prompt phase of a second request (prefix in memory) and after a restart (new model
   object, prefix from the disk cache) against the cold prompt phase.
4. With ``--embedder``: the guard's cost per request (routing over the sentences sampled
   from the templates, and the abstain decision), p50/p95 over the evaluation set,
   against a bare planner step; no model call is needed for it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROBE = r"""
import json, os, resource, sys, time
from pathlib import Path
from agentd.model.runtime import Threads, load_llama
decode, batch = int(sys.argv[2]), int(sys.argv[3])
t = time.monotonic()
llama = load_llama(Path(sys.argv[1]), n_ctx=2048, threads=Threads(decode, batch))
load_s = time.monotonic() - t
prompt = llama.tokenize(("The phone's settings, tools and files. " * 40).encode())[:400]
t = time.monotonic(); llama.eval(prompt); prompt_s = time.monotonic() - t
t = time.monotonic(); n = 0
for tok in llama.generate(prompt, temp=0.0):
    n += 1
    if n == 64: break
decode_s = time.monotonic() - t
print(json.dumps({"omp": os.environ.get("OMP_WAIT_POLICY", "(default)"), "decode": decode,
                  "batch": batch, "load_s": round(load_s, 3),
                  "prompt_tok_s": round(len(prompt) / prompt_s, 1),
                  "decode_tok_s": round(n / decode_s, 1),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))
"""


def bench_model(args: argparse.Namespace) -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "agentd/bench"
    path = cache / f"random-h{args.hidden}-l{args.layers}-ff{args.ff}-q8_0.gguf"
    if not path.is_file():
        print(f"generating {path.name} (once)...", file=sys.stderr)
        subprocess.run([sys.executable, str(ROOT / "scripts/make-tiny-gguf.py"), "--out",
                        str(path), "--hidden", str(args.hidden), "--layers", str(args.layers),
                        "--ff", str(args.ff), "--heads", "12", "--name", "agentd-bench"],
                       check=True, stdout=subprocess.DEVNULL)
    return path


def threads_table(model: Path) -> None:
    print("\n1. threads (fresh process each; 400-token prompt, 64 decoded tokens)")
    cores = len(os.sched_getaffinity(0))
    configs = [("PASSIVE", 1, 1), ("PASSIVE", 1, cores), ("PASSIVE", cores, cores),
               (None, cores, cores)]
    for omp, decode, batch in configs:
        env = dict(os.environ)
        env.pop("OMP_WAIT_POLICY", None)
        if omp:
            env["OMP_WAIT_POLICY"] = omp
        else:
            env["OMP_WAIT_POLICY"] = "ACTIVE"  # OpenMP's spin-wait, what a default may do
        out = subprocess.run([sys.executable, "-c", PROBE, str(model), str(decode), str(batch)],
                             env=env, capture_output=True, text=True, timeout=600, check=True)
        print("  " + out.stdout.strip().splitlines()[-1])


def planner_ratios(model: Path, rounds: int) -> None:
    from agentd.model.engine import Sampling
    from agentd.model.manager import ModelManager
    from agentd.model.planner import ModelPlanner, PlannerConfig
    from agentd.model.prompt import conversation, system_text
    from agentd.model.runtime import Threads, import_llama
    from agentd.tools.catalogue import CATALOGUE

    threads = Threads.choose()
    config = PlannerConfig(max_string_chars=32, reply_chars=32,
                           sampling=Sampling(temperature=0.0))
    request = "turn off wifi and tell me when it's done"
    llama_cpp = import_llama()

    with tempfile.TemporaryDirectory() as tmp:
        planner = ModelPlanner(ModelManager(model, n_ctx=4096, threads=threads,
                                            idle_unload_s=0), CATALOGUE, config=config)
        planner.decide(request, [], lambda event: None)  # load, warm up
        ours, raw = [], []
        for _ in range(rounds):
            with planner.manager.use() as llama:
                llama.reset()  # cold context: no prefix reuse on either side
            t = time.monotonic()
            planner.decide(request, [], lambda event: None)
            ours.append(time.monotonic() - t)
            stats = planner.last_stats
            assert stats is not None
            with planner.manager.use() as llama:
                assert planner._renderer is not None
                prompt = planner._renderer.render(system_text(CATALOGUE),
                                                  conversation(request, []))
                action, _ = planner._grammar(CATALOGUE)
                grammar = llama_cpp.LlamaGrammar.from_string(action.gbnf, verbose=False)
                llama.reset()
                t = time.monotonic()
                for n, _tok in enumerate(llama.generate(prompt.tokens, temp=0.0,
                                                        grammar=grammar), start=1):
                    if n == stats.output_tokens:
                        break
                raw.append(time.monotonic() - t)
        e2e, base = statistics.median(ours), statistics.median(raw)
        print(f"\n2. end-to-end planner step over raw llama-cpp-python generate "
              f"({stats.prompt_tokens} prompt tokens, {stats.output_tokens} output tokens, "
              f"threads {threads.decode}/{threads.batch}):")
        print(f"  planner {e2e * 1000:.0f} ms, raw {base * 1000:.0f} ms, "
              f"ratio {e2e / base:.3f}x (target <= 1.10x)")

        cache = Path(tmp) / "prefix"
        cold_planner = ModelPlanner(ModelManager(model, n_ctx=4096, threads=threads,
                                                 idle_unload_s=0), CATALOGUE,
                                    cache_dir=cache, config=config)
        cold_planner.decide(request, [], lambda event: None)
        cold = cold_planner.last_stats
        cold_planner.decide("is bluetooth on?", [], lambda event: None)
        warm = cold_planner.last_stats
        cold_planner.manager.unload()
        restarted = ModelPlanner(ModelManager(model, n_ctx=4096, threads=threads,
                                              idle_unload_s=0), CATALOGUE,
                                 cache_dir=cache, config=config)
        restarted.decide("what's the battery level?", [], lambda event: None)
        disk = restarted.last_stats
        assert cold and warm and disk
        print(f"\n3. prompt phase ({cold.prompt_tokens} tokens, prefix {cold.prefix_tokens}):")
        for label, s in (("cold", cold), ("second request", warm), ("after restart", disk)):
            print(f"  {label:15} {s.prompt_seconds * 1000:8.1f} ms  prefix from "
                  f"{s.prefix_source:9}  evaluated {s.prompt_evaluated:5} tokens  "
                  f"speed-up {cold.prompt_seconds / s.prompt_seconds:6.1f}x")
        print(json.dumps({"second_request_speedup": round(cold.prompt_seconds /
                                                          warm.prompt_seconds, 1),
                          "restart_speedup": round(cold.prompt_seconds /
                                                   disk.prompt_seconds, 1),
                          "e2e_ratio": round(e2e / base, 3)}))


def guard_cost(embedder: Path, rounds: int) -> None:
    """The router + abstain decision every model-tier request pays before the model."""
    from agentd.model.grounding import Evidence
    from agentd.model.guard import Guard
    from agentd.model.router import SentenceRouter
    from agentd.model.toolrag import Embedder
    from agentd.tools.catalogue import CATALOGUE
    from agentd.understanding import sampling
    from agentd.understanding.templates import load_intents

    sys.path.insert(0, str(ROOT / "bench"))
    from judgment import load_cases

    intents = load_intents("en")
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        router = SentenceRouter(Embedder(embedder), sampling.sample_sentences(intents),
                                Path(tmp), intents.skip_words)
        guard = Guard(CATALOGUE, Evidence.from_intents(intents, CATALOGUE), router)
        guard.route("warm up")  # embeds the sampled sentences once (then kept on disk)
        build_s = time.monotonic() - started
        times: list[float] = []
        abstained = 0
        for _ in range(rounds):
            for case in load_cases():
                t = time.perf_counter()
                route = guard.route(case.say)
                times.append(time.perf_counter() - t)
                abstained += route is not None and not route.tools
        times.sort()
        p50, p95 = times[len(times) // 2], times[int(len(times) * 0.95)]
        print(f"\n4. guard per request (routing + abstain), {len(times)} requests: "
              f"p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms (target p50 <= 10 ms); "
              f"{abstained // rounds} of {len(times) // rounds} routed to no tool; "
              f"first use (embedding {len(router.sentences)} sentences) {build_s:.1f} s")
        print(json.dumps({"guard_p50_ms": round(p50 * 1000, 2),
                          "guard_p95_ms": round(p95 * 1000, 2)}))


def prefix_hits(model: Path, embedder: Path) -> None:
    """How often a request's prompt finds its prefix cached, with the router choosing the
    tools (each tool set has its own prefix): every request of the evaluation set sent
    to the model tier (no templates), as ``bench/judgment.py --no-templates`` does."""
    sys.path.insert(0, str(ROOT / "bench"))
    from judgment import ModelSetup, load_cases

    with tempfile.TemporaryDirectory() as tmp:
        setup = ModelSetup(model, embedder, Path(tmp))
        sources: dict[str, int] = {}
        seconds: list[float] = []
        for case in load_cases():
            before = setup.tier.last_stats
            t = time.monotonic()
            setup.plan(case.say)
            stats = setup.tier.last_stats
            if stats is None or stats is before:
                continue  # the guard answered without the model
            seconds.append(time.monotonic() - t)
            sources[stats.prefix_source] = sources.get(stats.prefix_source, 0) + 1
        setup.close()
    asked = sum(sources.values())
    hits = asked - sources.get("evaluated", 0)
    print(f"\n5. prefix cache with the router choosing tools: {asked} requests reached the "
          f"model; prefix from {sources}; hit rate {hits / max(asked, 1):.0%}; "
          f"request p50 {statistics.median(seconds or [0]) * 1000:.0f} ms")
    print(json.dumps({"prefix_hit_rate": round(hits / max(asked, 1), 3),
                      "model_requests": asked}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hidden", type=int, default=768)
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--ff", type=int, default=2048)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-threads", action="store_true")
    parser.add_argument("--model", type=Path, help="a GGUF to measure instead of the "
                        "generated one (e.g. SmolLM2: scripts/fetch-smollm2.sh)")
    parser.add_argument("--embedder", type=Path, help="the ToolRAG embedder GGUF: also "
                        "measure the guard (scripts/make-embedder-gguf.sh)")
    args = parser.parse_args()
    model = args.model or bench_model(args)
    print(f"model: {model.name}, {model.stat().st_size / 2**20:.0f} MB; "
          f"{len(os.sched_getaffinity(0))} cores")
    if not args.skip_threads:
        threads_table(model)
    planner_ratios(model, args.rounds)
    if args.embedder:
        guard_cost(args.embedder, args.rounds)
        if args.model:
            prefix_hits(model, args.embedder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
