"""system/: the user unit, the activation file and the default config are valid and agree."""

from __future__ import annotations

import ast
import configparser
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from agentd.bus.names import BUS_NAME
from agentd.config import Settings, load_settings
from agentd.policy import identity

pytestmark = pytest.mark.unit

ROOT = Path(__file__).parent.parent
SYSTEM = ROOT / "system"


def _ini(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path)
    return parser


def test_unit_and_activation_file_agree() -> None:
    unit = _ini(SYSTEM / "systemd" / "agentd.service")
    activation = _ini(SYSTEM / "dbus-1" / "services" / f"{BUS_NAME}.service")
    assert unit["Service"]["Type"] == "dbus"
    assert unit["Service"]["BusName"] == BUS_NAME
    assert unit["Service"]["Restart"] == "on-failure"
    assert activation["D-BUS Service"]["Name"] == BUS_NAME
    assert activation["D-BUS Service"]["SystemdService"] == "agentd.service"
    assert activation["D-BUS Service"]["Exec"] == unit["Service"]["ExecStart"]


def test_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze is missing (apt install systemd)")
    unit = (SYSTEM / "systemd" / "agentd.service").read_text()
    # Point ExecStart at this checkout's agentd: verify checks that the binary exists.
    (tmp_path / "agentd.service").write_text(
        unit.replace("/usr/bin/agentd", str(Path(sys.executable).parent / "agentd")))
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    out = subprocess.run([analyze, "verify", "--user", str(tmp_path / "agentd.service")],
                         capture_output=True, text=True,
                         env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)})
    assert out.returncode == 0, out.stderr
    assert "agentd.service" not in out.stderr, out.stderr


EXPOSURE = 1.6  # docs/reliability.md, "The unit's sandbox" (was 6.3, and 9.1 before that)


def test_unit_exposure_does_not_regress(tmp_path: Path) -> None:
    """systemd-analyze's exposure score of the user unit stays at most EXPOSURE (docs/
    reliability.md: PrivateUsers=yes and the mount-namespace settings; who calls agentd
    is read by agentd-uinput.service, outside the sandbox)."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze is missing (apt install systemd)")
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    out = subprocess.run([analyze, "security", "--offline=true", "--user",
                          str(SYSTEM / "systemd" / "agentd.service")],
                         capture_output=True, text=True,
                         env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)})
    match = re.search(r"Overall exposure level for agentd.service: ([0-9.]+)", out.stdout)
    assert match, out.stdout[-2000:] + out.stderr
    assert float(match.group(1)) <= EXPOSURE, out.stdout[-3000:]


def test_systemd_analyze_verify_the_uinput_broker(tmp_path: Path) -> None:
    """The system units of the uinput broker (socket-activated, root, /dev/uinput only)."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze is missing (apt install systemd)")
    broker = tmp_path / "uinput-broker"
    broker.write_text("#!/bin/sh\n")
    broker.chmod(0o755)
    for name in ("agentd-uinput.socket", "agentd-uinput.service"):
        unit = (SYSTEM / "systemd" / name).read_text()
        (tmp_path / name).write_text(unit.replace("/usr/libexec/agentd/uinput-broker",
                                                  str(broker)))
    socket_unit = _ini(SYSTEM / "systemd" / "agentd-uinput.socket")
    assert socket_unit["Socket"]["ListenStream"] == "/run/agentd-uinput.sock"
    assert str(identity.SERVICE) == socket_unit["Socket"]["ListenStream"]  # root's /run
    service = _ini(SYSTEM / "systemd" / "agentd-uinput.service")
    assert service["Service"]["DeviceAllow"] == "/dev/uinput rw"
    out = subprocess.run([analyze, "verify", str(tmp_path / "agentd-uinput.socket"),
                          str(tmp_path / "agentd-uinput.service")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "agentd-uinput" not in out.stderr, out.stderr
    rule = (SYSTEM / "udev" / "70-agentd-uinput.rules").read_text()
    assert 'MODE="0600"' in rule and "uaccess" not in rule.split("\n")[-2]


def test_default_config_is_every_setting_with_its_default(tmp_path: Path) -> None:
    shipped = tomllib.loads((SYSTEM / "etc" / "agentd.toml").read_text())
    defaults = Settings()
    paths = {"state_dir", "models_dir", "cache_dir"}  # XDG defaults, per user
    assert set(shipped) == set(Settings.describe()) - paths - {"test_fixture"}
    for key, value in shipped.items():
        assert getattr(defaults, key) == value, key


def test_settings_sources_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    etc = tmp_path / "etc"
    (etc / "agentd.toml.d").mkdir(parents=True)
    (etc / "agentd.toml").write_text("max_active_tasks = 4\nlanguage = 'en'\n")
    (etc / "agentd.toml.d" / "10-phone.toml").write_text("max_active_tasks = 5\n")
    user = tmp_path / "config" / "agentd"
    user.mkdir(parents=True)
    (user / "agentd.toml").write_text("confirmation_timeout_s = 30\n")
    monkeypatch.setenv("AGENTD_SYSCONFDIR", str(etc))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("AGENTD_CONFIRMATION_TIMEOUT_S", "45")
    settings = load_settings()
    assert settings.max_active_tasks == 5
    assert settings.confirmation_timeout_s == 45.0


def test_bad_config_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    monkeypatch.setenv("AGENTD_SYSCONFDIR", str(etc))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "none"))
    (etc / "agentd.toml").write_text("max_activ_tasks = 3\n")
    out = subprocess.run([str(Path(sys.executable).parent / "agentd"), "--print-config"],
                         capture_output=True, text=True, env=dict(os.environ))
    assert out.returncode == 2
    assert f"{etc / 'agentd.toml'}: unknown setting 'max_activ_tasks'" in out.stderr
    (etc / "agentd.toml").write_text("max_active_tasks = 'many'\n")
    out = subprocess.run([str(Path(sys.executable).parent / "agentd"), "--print-config"],
                         capture_output=True, text=True, env=dict(os.environ))
    assert out.returncode == 2 and "must be int" in out.stderr


def test_ruff_is_clean() -> None:
    ruff = Path(sys.executable).parent / "ruff"
    out = subprocess.run([str(ruff), "check", "agentd", "tests", "bench", "testing"], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_mypy_strict_is_clean() -> None:
    mypy = Path(sys.executable).parent / "mypy"
    out = subprocess.run([str(mypy), "agentd", "testing/agentd_testing"], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_unit_exposure_is_recorded(tmp_path: Path) -> None:
    """`systemd-analyze security --offline=true`: 1.6 OK for the user unit (was 6.3)."""
    unit = (SYSTEM / "systemd" / "agentd.service").read_text()
    (tmp_path / "agentd.service").write_text(
        unit.replace("/usr/bin/agentd", str(Path(sys.executable).parent / "agentd")))
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    out = subprocess.run(["systemd-analyze", "security", "--offline=true", "--user",
                          str(tmp_path / "agentd.service")], capture_output=True, text=True,
                         env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)})
    match = re.search(r"Overall exposure level for agentd.service: ([\d.]+)", out.stdout)
    assert match, out.stdout + out.stderr
    assert float(match.group(1)) <= EXPOSURE


def _agentd_imports() -> dict[str, set[str]]:
    """Module -> the agentd modules it imports at module level (not under TYPE_CHECKING,
    not inside functions)."""
    modules = {}
    for path in (ROOT / "agentd").rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found = set()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    found.add(full if full in modules else node.module)
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def test_modules_import_without_cycles() -> None:
    graph = _agentd_imports()
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        if module in path:
            raise AssertionError("import cycle: " + " -> ".join((*path, module)))
        if module in done:
            return
        for imported in graph[module]:
            visit(imported, (*path, module))
        done.add(module)

    for module in graph:
        visit(module, ())


# What each layer may import (docs/code-layout.md): lower layers never import higher ones.
LAYERS = [
    ("agentd.store", ("agentd.errors", "agentd.records", "agentd.tools.registry",
                      "agentd.store")),
    ("agentd.records", ("agentd.tools.registry",)),
    ("agentd.policy", ("agentd.errors", "agentd.records", "agentd.store", "agentd.tools.registry",
                       "agentd.bus.names", "agentd.bus.notifications", "agentd.policy")),
    ("agentd.tools", ("agentd.errors", "agentd.records", "agentd.store", "agentd.tools",
                      "agentd.policy.content")),
]


@pytest.mark.parametrize(("layer", "allowed"), LAYERS)
def test_layers_import_only_what_is_below_them(layer: str, allowed: tuple[str, ...]) -> None:
    """The stores below the policy, the policy and the tools below the task runner: no
    tasks <-> policy <-> tools cycles."""
    for module, imported in _agentd_imports().items():
        if module != layer and not module.startswith(layer + "."):
            continue
        for target in imported:
            assert target.startswith(allowed), f"{module} imports {target}"


def test_tables_are_written_only_by_their_store() -> None:
    """Each table of journal.sqlite3 has one module that writes it (agentd/store/)."""
    writes = re.compile(r"\b(?:INSERT INTO|UPDATE|DELETE FROM|CREATE TABLE)\b")
    outside = [str(p.relative_to(ROOT)) for p in (ROOT / "agentd").rglob("*.py")
               if "store" not in p.parts and writes.search(p.read_text(encoding="utf-8"))]
    assert outside == []
