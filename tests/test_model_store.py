"""Model management: atomic, verified installs; list/use/rm; the CLI without a daemon."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentd.errors import ModelUnavailable
from agentd.model.store import ModelStore

pytestmark = pytest.mark.model


def _leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*") if p.is_file() and p.name != "current")


def test_install_list_use_remove(tiny_gguf: Path, tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models")
    digest = hashlib.sha256(tiny_gguf.read_bytes()).hexdigest()
    model = store.install(str(tiny_gguf), sha256=digest, name="tiny")
    assert model.sha256 == digest and model.gguf["architecture"] == "llama"
    assert [m.name for m in store.list()] == ["tiny"] and store.current() is None
    assert store.use("tiny").current
    assert store.current_name() == "tiny"
    store.remove("tiny")
    assert store.list() == [] and store.current() is None
    assert _leftovers(store.root) == []


@pytest.mark.parametrize("damage", ["truncated", "not-gguf", "wrong-sha256"])
def test_bad_files_are_refused_and_leave_nothing(tiny_gguf: Path, tmp_path: Path,
                                                 damage: str) -> None:
    source, sha = tmp_path / "model.gguf", None
    data = tiny_gguf.read_bytes()
    if damage == "truncated":
        source.write_bytes(data[: len(data) - 4096])
    elif damage == "not-gguf":
        source.write_bytes(b"<html>404 Not Found</html>" * 100)
    else:
        source.write_bytes(data)
        sha = "0" * 64
    store = ModelStore(tmp_path / "models")
    with pytest.raises(ModelUnavailable) as info:
        store.install(str(source), sha256=sha)
    assert {"truncated": "truncated", "not-gguf": "GGUF magic",
            "wrong-sha256": "sha256 is"}[damage] in info.value.message
    assert _leftovers(store.root) == []


class _Handler(http.server.BaseHTTPRequestHandler):
    payload = b""
    broken = False

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.payload)))
        self.end_headers()
        body = self.payload[: len(self.payload) // 2] if self.broken else self.payload
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server(tiny_gguf: Path) -> Iterator[tuple[str, type[_Handler]]]:
    handler = type("H", (_Handler,), {"payload": tiny_gguf.read_bytes()})
    httpd = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/tiny-model.gguf", handler
    httpd.shutdown()


def test_install_from_url_and_broken_download(server: tuple[str, type[_Handler]],
                                              tmp_path: Path) -> None:
    url, handler = server
    store = ModelStore(tmp_path / "models")
    assert store.install(url).name == "tiny-model"
    handler.broken = True
    with pytest.raises(ModelUnavailable, match="broke off"):
        store.install(url, name="again")
    assert _leftovers(store.root) == ["tiny-model.gguf", "tiny-model.json"]


def _cli(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agentd.cli.model", "model", *argv],
                          env=env, capture_output=True, text=True, timeout=60)


def test_cli_works_on_the_store_directly(tiny_gguf: Path, tmp_path: Path) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path)}
    assert _cli(env, "install", str(tiny_gguf), "--name", "tiny", "--use").returncode == 0
    listed = [json.loads(line) for line in _cli(env, "list", "--json").stdout.splitlines()]
    assert [(m["name"], m["current"]) for m in listed] == [("tiny", True)]
    bad = _cli(env, "install", str(tiny_gguf), "--sha256", "xyz")
    assert bad.returncode == 2 and "64 hex digits" in bad.stderr
    missing = _cli(env, "use", "nope")
    assert missing.returncode == 1 and "no model named 'nope'" in missing.stderr
    catalogue = _cli(env, "catalogue", "--json").stdout.splitlines()
    assert all(json.loads(line)["url"].startswith("https://") for line in catalogue)
    assert _cli(env, "rm", "tiny").returncode == 0
    assert _cli(env, "list", "--json").stdout == ""


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"),
                    reason="needs root and unshare for a private tmpfs")
def test_full_disk_leaves_nothing_half_written(tiny_gguf: Path, tmp_path: Path) -> None:
    """A 2 MB tmpfs in a private mount namespace: the 5 MB model cannot fit."""
    data = tmp_path / "data"
    data.mkdir()
    script = (f"mount -t tmpfs -o size=2m tmpfs {data} && "
              f"XDG_DATA_HOME={data} {sys.executable} -m agentd.cli.model model install "
              f"{tiny_gguf} --name tiny; echo rc=$?; find {data} -type f")
    probe = subprocess.run(["unshare", "--mount", "sh", "-c", "mount -t tmpfs tmpfs /mnt"],
                           capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {probe.stderr.decode().strip()}")
    out = subprocess.run(["unshare", "--mount", "sh", "-c", script], capture_output=True,
                         text=True, timeout=60)
    assert "rc=1" in out.stdout, out
    assert "not enough disk space" in out.stderr or "disk filled up" in out.stderr
    files = [line for line in out.stdout.splitlines()[1:] if line.strip()]
    assert files == [], f"left behind: {files}"
