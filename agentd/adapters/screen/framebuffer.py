"""Backend "fb0": the Linux framebuffer ``/dev/fb0``, for devices without a compositor
that can be asked (a text console, a bare DRM/fbdev UI, an early boot splash).

Geometry from ``/sys/class/graphics/fb0/``: ``virtual_size`` ("W,H"), ``bits_per_pixel``
and ``stride`` (bytes per row). The pixel formats are the kernel's usual little-endian
ones: 32 bpp XRGB8888, 24 bpp RGB888, 16 bpp RGB565. Pillow converts and encodes. With
panning (double buffering) ``virtual_size`` may be taller than the screen; the
visible height is read from ``modes`` where the driver lists one.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from agentd.adapters.base import Availability
from agentd.adapters.screen import CAPABILITY
from agentd.errors import AgentError, Unavailable

RAW_MODES = {32: "BGRX", 24: "BGR", 16: "BGR;16"}  # little-endian XRGB8888, RGB888, RGB565


@dataclass(frozen=True)
class FramebufferLayout:
    width: int
    height: int
    bits_per_pixel: int
    stride: int

    @classmethod
    def read(cls, sysfs_dir: Path) -> FramebufferLayout:
        """The layout from ``/sys/class/graphics/fbN``; ``Unavailable`` if unreadable."""
        try:
            width, height = (int(v) for v in
                             (sysfs_dir / "virtual_size").read_text().strip().split(","))
            bpp = int((sysfs_dir / "bits_per_pixel").read_text())
            stride = int((sysfs_dir / "stride").read_text())
            modes = sysfs_dir / "modes"
            mode = re.search(r"(\d+)x(\d+)", modes.read_text()) if modes.exists() else None
        except (OSError, ValueError) as exc:
            raise Unavailable(f"cannot read the framebuffer's layout in {sysfs_dir} "
                              f"({exc})") from None
        if mode is not None and int(mode[1]) == width and int(mode[2]) <= height:
            height = int(mode[2])  # the visible part of a panned framebuffer
        if bpp not in RAW_MODES:
            raise Unavailable(f"the framebuffer has {bpp} bits per pixel; agentd reads "
                              f"{', '.join(str(b) for b in RAW_MODES)}")
        if stride < width * bpp // 8:
            raise Unavailable(f"the framebuffer's stride {stride} is shorter than a row "
                              f"of {width} pixels at {bpp} bpp")
        return cls(width, height, bpp, stride)

    @property
    def size(self) -> int:
        return self.stride * self.height


def framebuffer_image(data: bytes, layout: FramebufferLayout) -> Image.Image:
    """The framebuffer's bytes as an RGB image."""
    if len(data) < layout.size:
        raise AgentError(f"read {len(data)} bytes of the framebuffer, expected {layout.size}")
    return Image.frombuffer("RGB", (layout.width, layout.height), data, "raw",
                            RAW_MODES[layout.bits_per_pixel], layout.stride, 1)


class FramebufferScreen:
    name = "fb0"
    capability = CAPABILITY
    test = False

    def __init__(self, sysfs: Path = Path("/sys"), device: Path = Path("/dev/fb0")) -> None:
        self.device = device
        self.sysfs_dir = sysfs / "class" / "graphics" / device.name

    def _layout(self) -> FramebufferLayout:
        if not self.device.exists():
            raise Unavailable(f"no framebuffer device {self.device}")
        if not os.access(self.device, os.R_OK):
            raise Unavailable(f"{self.device} is not readable for agentd (group video)")
        return FramebufferLayout.read(self.sysfs_dir)

    async def availability(self) -> Availability:
        try:
            layout = self._layout()
        except Unavailable as exc:
            return Availability.no(str(exc))
        return Availability.yes(f"{self.device}: {layout.width}x{layout.height}, "
                                f"{layout.bits_per_pixel} bpp")

    def capture_png(self) -> bytes:
        layout = self._layout()
        with open(self.device, "rb", buffering=0) as fb:
            data = fb.read(layout.size)
        out = io.BytesIO()
        framebuffer_image(data, layout).save(out, format="PNG", compress_level=1)
        return out.getvalue()
