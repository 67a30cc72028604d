"""Step 2: calibration without user effort: still periods, neutral, gyro bias.

The grid is cut into blocks of ``neutral_still_s`` aligned to the absolute grid
index (so chunking cannot move them). A block is still when the gyro and the
accelerometer barely vary and the accelerometer reads about 1 g. The first
still block gives neutral (the direction of "up" in sensor axes with the shoe
flat); every still block refreshes the gyro bias: what the gyro read beyond the
rotation the accelerometer saw when that is a movement (``SEEN_TURN_DPS``). A still block
may still turn: the slow end of a 3 s lowering at 1-2 deg/s has a spread under the still
limit; taken whole as bias, it put up to 1.5 deg/s into it and ended later lowerings 0.2 s
early. Gravity's
direction turns with the foot whatever the gyro's bias, so the rotation rate across it is
the turn between the block's two halves' mean accelerations over the time between their
centres (the rate along gravity, a turn about the vertical, it cannot see).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np


@dataclass
class CalibrationUpdate:
    apply_from: int  # absolute grid index from which it applies
    bias_dps: np.ndarray
    up: np.ndarray | None  # unit "up" in sensor axes, on the first still block only
    g_ref: float = 1.0  # accelerometer magnitude at rest (its own "1 g")


def _seen_rate_dps(a1: np.ndarray, a2: np.ndarray, dt_s: float) -> np.ndarray:
    """The rotation rate (deg/s, sensor axes, shape (3, blocks)) across gravity that turns
    the mean acceleration ``a1`` into ``a2`` (3, blocks) in ``dt_s``: a vector fixed in the
    world turns in the body as da/dt = -w x a, so a1 x a2 = -|a|^2 w_perp dt."""
    cross = np.cross(a1, a2, axis=0)
    norms = np.linalg.norm(a1, axis=0) * np.linalg.norm(a2, axis=0)
    return -np.degrees(cross / np.where(norms > 0, norms, 1.0)) / dt_s


#: deg/s: a still block's seen rotation at or above this is a movement's slow end (0.5 deg
#: between the halves' centres, far above the ~0.03 deg of sensor noise) and is taken off
#: the gyro's mean; below it (standing sway) the mean is the bias as it was: correcting sway
#: too moved a classic pair's heel-rise LSI from -1.7 to -3.1 pp (dev seed 1000).
SEEN_TURN_DPS = 1.0


class StillCalibrator:
    def __init__(
        self, block_len: int, still_gyr_dps: float, still_acc_g: float, block_s: float = 1.0
    ):
        self.block_len = block_len
        self.row_s = block_s / block_len  # grid period (the seen rotation's time base)
        self.still_gyr_dps = still_gyr_dps
        self.still_acc_g = still_acc_g
        self.block = None  # the block whose first ``filled`` rows are in ``rows``
        self.rows = np.empty((block_len, 6))  # gyr(3) acc(3) of the block in progress
        self.filled = 0
        self.bias_dps: np.ndarray | None = None
        self.up: np.ndarray | None = None
        self.g_ref = 1.0
        self.still_blocks = 0

    def update(self, k: np.ndarray, acc_g: np.ndarray, gyr_dps: np.ndarray):
        """Feed grid rows (absolute indices ``k``, increasing); returns CalibrationUpdates
        in order."""
        updates: list[CalibrationUpdate] = []
        if len(k) == 0:
            return updates
        x = np.concatenate((gyr_dps, acc_g), axis=1)
        if k[-1] - k[0] == len(k) - 1:  # consecutive, as the analyzer feeds them: one run
            runs = [0, len(k)]
        else:
            runs = [0, *(np.flatnonzero(np.diff(k) != 1) + 1).tolist(), len(k)]
        for a, b in pairwise(runs):
            self._feed_run(int(k[a]), x[a:b], updates)
        return updates

    def reset_block(self):
        """A gap: the block in progress cannot be still."""
        self.block = None
        self.filled = 0

    def _feed_run(self, k0: int, x: np.ndarray, updates: list) -> None:
        """Consecutive gyr+acc rows from grid index ``k0``. The whole blocks among them are
        judged together; the rows before the first block boundary and after the last are
        kept across calls until their block is whole."""
        n, b = len(x), self.block_len
        head = min(n, -k0 % b)  # rows up to the end of the block k0 falls in
        if head:
            self._keep(k0 // b, x[:head], updates)
        whole_end = head + (n - head) // b * b
        if whole_end > head:
            self.reset_block()  # an open earlier block did not get all its rows
            self._judge_blocks((k0 + head) // b, x[head:whole_end], updates)
        if whole_end < n:
            self._keep((k0 + whole_end) // b, x[whole_end:], updates)

    def _keep(self, block: int, x: np.ndarray, updates: list) -> None:
        """Add rows of ``block``; judge it when it is whole. An open earlier block did not
        get all its rows (a gap cut it), so it is dropped."""
        if self.block != block:
            self.block = block
            self.filled = 0
        self.rows[self.filled : self.filled + len(x)] = x
        self.filled += len(x)
        if self.filled == self.block_len:
            self._judge_blocks(block, self.rows, updates)
            self.reset_block()

    def _judge_blocks(self, first_block: int, x: np.ndarray, updates: list) -> None:
        """Whole blocks ``first_block``, ``first_block + 1``, ...: all their gyr+acc rows,
        in order."""
        b = self.block_len
        nb = len(x) // b
        # Laid out (row in block, channel, block): the sums over a block's rows then run
        # along the first axis, in row order, a whole row of blocks at a time.
        x = x.reshape(nb, b, 6).transpose(1, 2, 0).copy()
        half = b // 2
        seen = _seen_rate_dps(
            x[:half, 3:].mean(axis=0), x[half : 2 * half, 3:].mean(axis=0), half * self.row_s
        ).T  # (block, 3)
        mean = x.mean(axis=0)
        x -= mean  # x is a copy: the deviations, in place
        var = np.square(x, out=x).mean(axis=0)
        mean, var = mean.T.copy(), var.T.copy()  # (block, channel)
        for j in np.flatnonzero(self._still(mean, var)).tolist():
            updates.append(self._take(first_block + j, mean[j], seen[j]))

    def _still(self, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
        """Per block (rows of gyro+acc means and variances): was the foot still?"""
        mean, var = np.atleast_2d(mean), np.atleast_2d(var)
        return (
            (np.sqrt(var[:, :3].max(axis=1)) < self.still_gyr_dps)
            & (np.sqrt(var[:, 3:].max(axis=1)) < self.still_acc_g)
            & (np.abs(np.linalg.norm(mean[:, 3:], axis=1) - 1.0) < 0.2)
        )

    def _take(self, block: int, mean: np.ndarray, seen_dps: np.ndarray) -> CalibrationUpdate:
        """A still ``block`` with gyro+acc ``mean`` that the accelerometer saw turn at
        ``seen_dps``: refresh the bias; the first gives neutral."""
        moving = np.linalg.norm(seen_dps) >= SEEN_TURN_DPS
        g_mean, a_mean = (mean[:3] - seen_dps if moving else mean[:3]), mean[3:]
        self.still_blocks += 1
        if self.bias_dps is None:
            self.bias_dps = g_mean
        else:
            self.bias_dps = 0.7 * self.bias_dps + 0.3 * g_mean
        up = None
        if self.up is None:
            self.g_ref = float(np.linalg.norm(a_mean))
            self.up = up = a_mean / self.g_ref
        apply_from = (block + 1) * self.block_len
        return CalibrationUpdate(apply_from, self.bias_dps.copy(), up, self.g_ref)
