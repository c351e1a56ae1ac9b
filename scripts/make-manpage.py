#!/usr/bin/env python3
"""agentctl's man page and shell completions, generated from its own argument parser.

One source: ``agentd.cli.agentctl.build_parser()``. argparse-manpage writes the roff
page, shtab the bash and zsh completions. ``scripts/build-deb.sh`` ships them:

    python scripts/make-manpage.py OUTDIR   # OUTDIR/agentctl.1, agentctl.bash, _agentctl
"""

from __future__ import annotations

import sys
from pathlib import Path

import shtab
from argparse_manpage.manpage import Manpage

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agentd import __version__  # noqa: E402
from agentd.cli.agentctl import SUMMARY, build_parser  # noqa: E402


def main() -> int:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    parser = build_parser()
    page = Manpage(parser, _data={"project_name": "agentd", "version": __version__,
                                  "manual_title": "agentd manual",
                                  "description": SUMMARY})
    (out / "agentctl.1").write_text(str(page), encoding="utf-8")
    (out / "agentctl.bash").write_text(shtab.complete(parser, "bash"), encoding="utf-8")
    (out / "_agentctl").write_text(shtab.complete(parser, "zsh"), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
