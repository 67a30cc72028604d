"""Helpers for exercising IMU drivers against emulators (tests, benches, examples).

``WobbleMotion`` makes every sample differ from its neighbours, so a dropped or
repeated sample shows; ``read_for`` reads at uneven intervals on a
:class:`~heelraise.clock.ManualClock`; ``joined`` concatenates blocks.
"""

from __future__ import annotations

import numpy as np

from heelraise.imu.base import SampleBlock


class WobbleMotion:
    """Smooth motion whose every sample differs from its neighbours (catches drops/dups)."""

    duration_s = float("inf")

    def sample(self, t_s):
        t = np.asarray(t_s, dtype=float)
        acc = np.column_stack(
            [0.4 * np.sin(2 * np.pi * 1.3 * t), 0.3 * np.cos(2 * np.pi * 0.9 * t), 1 + 0.2 * t % 1]
        )
        gyr = np.column_stack(
            [300 * np.sin(2 * np.pi * 0.7 * t), 200 * np.cos(2 * np.pi * 1.1 * t), 37 * t % 50]
        )
        return acc, gyr


def read_for(imu, clock, duration_s, rng, lo_s=0.002, hi_s=0.06):
    """Read at uneven intervals for ``duration_s``; returns the blocks."""
    blocks = []
    end = clock() + duration_s
    while clock() < end:
        clock.advance(rng.uniform(lo_s, hi_s))
        blocks.append(imu.read())
    return blocks


def drain(imu, blocks):
    """Read what is left without letting time pass."""
    while True:
        b = imu.read()
        if not len(b) and b.gap is None:
            return blocks
        blocks.append(b)


def joined(blocks):
    blocks = [b for b in blocks if len(b)]
    if not blocks:
        return SampleBlock.empty()
    return SampleBlock(
        np.concatenate([b.t_s for b in blocks]),
        np.concatenate([b.acc_g for b in blocks]),
        np.concatenate([b.gyr_dps for b in blocks]),
    )


def expected(emu, acc_lsb, gyr_lsb, mask=None):
    t, acc_raw, gyr_raw = emu.history()
    if mask is not None:
        t, acc_raw, gyr_raw = t[mask], acc_raw[mask], gyr_raw[mask]
    return t, acc_raw / acc_lsb, gyr_raw / gyr_lsb
