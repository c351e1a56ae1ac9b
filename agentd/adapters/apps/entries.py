"""Desktop entries (freedesktop.org Desktop Entry spec 1.5): discovery and matching.

Applications live in ``$XDG_DATA_HOME/applications`` and ``$XDG_DATA_DIRS/applications``,
earlier directories first; the desktop-file id is the path below ``applications/`` with
``/`` turned into ``-``, and the first file with an id wins (``Hidden=true`` there hides
the app everywhere). ``NoDisplay``, ``OnlyShowIn``/``NotShowIn`` (against
``$XDG_CURRENT_DESKTOP``) and ``TryExec`` decide what the user sees.
"""

from __future__ import annotations

import configparser
import difflib
import shlex
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentd.errors import NotFound

SECTION = "Desktop Entry"


@dataclass(frozen=True)
class DesktopApp:
    """One launchable application."""

    id: str  # "org.gnome.Calculator.desktop"
    path: Path
    name: str
    generic_name: str
    keywords: tuple[str, ...]
    categories: tuple[str, ...]
    exec: str
    visible: bool  # false for NoDisplay=true: opened only by its exact id or name

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "generic_name": self.generic_name,
                "keywords": list(self.keywords), "categories": list(self.categories),
                "path": str(self.path)}


def application_dirs(env: Mapping[str, str]) -> list[Path]:
    home = Path(env.get("HOME") or Path.home())
    data_home = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
    data_dirs = (env.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share").split(":")
    return [data_home / "applications"] + [Path(d) / "applications" for d in data_dirs if d]


def _split_list(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.replace("\\;", "\0").split(";")
                 if v.strip()) if value else ()


def read_entry(path: Path, desktop_id: str, desktops: set[str]) -> DesktopApp | None:
    """The app ``path`` describes, or None where it is hidden, broken or not for here."""
    parser = configparser.RawConfigParser(strict=False, interpolation=None,
                                          delimiters=("=",), comment_prefixes=("#",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError, OSError):
        return None
    if not parser.has_section(SECTION):
        return None
    entry = parser[SECTION]
    if entry.get("Type") != "Application" or entry.get("Hidden", "false") == "true":
        return None
    if not entry.get("Name") or not entry.get("Exec"):
        return None
    only = set(_split_list(entry.get("OnlyShowIn", "")))
    if only and not only & desktops:
        return None
    if set(_split_list(entry.get("NotShowIn", ""))) & desktops:
        return None
    try_exec = entry.get("TryExec", "")
    if try_exec and shutil.which(try_exec) is None:
        return None
    return DesktopApp(desktop_id, path, entry["Name"], entry.get("GenericName", ""),
                      _split_list(entry.get("Keywords", "")),
                      _split_list(entry.get("Categories", "")), entry["Exec"],
                      entry.get("NoDisplay", "false") != "true")


def discover(env: Mapping[str, str]) -> list[DesktopApp]:
    """Every app for this desktop, first directory winning per desktop-file id."""
    desktops = {d for d in (env.get("XDG_CURRENT_DESKTOP") or "").split(":") if d}
    seen: set[str] = set()
    apps: list[DesktopApp] = []
    for directory in application_dirs(env):
        if not directory.is_dir():
            continue
        for path in sorted(directory.rglob("*.desktop")):
            desktop_id = str(path.relative_to(directory)).replace("/", "-")
            if desktop_id in seen:
                continue
            seen.add(desktop_id)  # a Hidden entry here still masks the ones below
            app = read_entry(path, desktop_id, desktops)
            if app is not None:
                apps.append(app)
    return apps


def match_rank(app: DesktopApp, wanted: str) -> int | None:
    """How well ``app`` answers to ``wanted`` (casefolded): 0 best, None not at all."""
    stem = app.id.removesuffix(".desktop").casefold()
    if wanted in (app.name.casefold(), stem, stem.rsplit(".", 1)[-1]):
        return 0
    if not app.visible:  # NoDisplay apps answer only to their exact name or id
        return None
    ranked = ((app.generic_name.casefold() == wanted),
              wanted in (k.casefold() for k in app.keywords),
              wanted in (c.casefold() for c in app.categories),
              wanted in app.name.casefold().split(),
              wanted in app.generic_name.casefold().split())
    return next((rank for rank, hit in enumerate(ranked, start=1) if hit), None)


def find_app(apps: list[DesktopApp], name: str) -> DesktopApp:
    """The app a person means by ``name``: name, then generic name, keywords, categories."""
    wanted = " ".join(name.casefold().removesuffix(" app").split())
    ranked = [(rank, len(a.name), a.id, a) for a in apps
              if (rank := match_rank(a, wanted)) is not None]
    if ranked:
        return min(ranked, key=lambda r: r[:3])[3]
    labels = {a.name.casefold(): a.name for a in apps if a.visible}
    for a in apps:
        if a.visible:
            for word in (a.generic_name, *a.keywords):
                labels.setdefault(word.casefold(), a.name)
    close = difflib.get_close_matches(wanted, list(labels), n=5, cutoff=0.6)
    names = list(dict.fromkeys(labels[c] for c in close))
    hint = f"; did you mean {', '.join(names)}?" if names else "; `apps.list` names them"
    raise NotFound(f"no installed app is called {name!r}{hint}")


def command_line(exec_line: str, app: DesktopApp) -> list[str]:
    """The Exec key as an argv: quoting per the spec, field codes dropped or filled."""
    argv = []
    for arg in shlex.split(exec_line):
        if arg in ("%f", "%F", "%u", "%U", "%d", "%D", "%n", "%N", "%v", "%m", "%i"):
            continue
        arg = arg.replace("%c", app.name).replace("%k", str(app.path)).replace("%%", "%")
        argv.append(arg)
    return argv
