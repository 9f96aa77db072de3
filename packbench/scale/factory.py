"""The scale from the configuration (``[pack] scale``), or None when there is none."""

from __future__ import annotations

from typing import TYPE_CHECKING

from packbench.scale.base import ScalePort

if TYPE_CHECKING:
    from packbench.config import PackSettings


def make_scale(pack: PackSettings) -> ScalePort | None:
    if not pack.scale:
        return None
    from packbench.scale.serialport import SerialScale

    return SerialScale(
        pack.scale,
        baud=pack.scale_baud,
        bytesize=pack.scale_bytesize,
        parity=pack.scale_parity,
        stopbits=pack.scale_stopbits,
        poll=pack.scale_poll.encode("ascii"),
        poll_interval_s=pack.scale_poll_interval_s,
    )
