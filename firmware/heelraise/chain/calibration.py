"""Step 2: calibration without user effort: still periods, neutral, gyro bias.

The grid is cut into blocks of ``neutral_still_s`` aligned to the absolute grid
index (so chunking cannot move them). A block is still when the gyro and the
accelerometer barely vary and the accelerometer reads about 1 g. The first
still block gives neutral (the direction of "up" in sensor axes with the shoe
flat); every still block refreshes the gyro bias.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class CalibrationUpdate:
    apply_from: int  # absolute grid index from which it applies
    bias_dps: np.ndarray
    up: np.ndarray | None  # unit "up" in sensor axes, on the first still block only
    g_ref: float = 1.0  # accelerometer magnitude at rest (its own "1 g")


class StillCalibrator:
    def __init__(self, block_len: int, still_gyr_dps: float, still_acc_g: float):
        self.block_len = block_len
        self.still_gyr_dps = still_gyr_dps
        self.still_acc_g = still_acc_g
        self.block = None
        self.sums = np.zeros(13)  # count, gyr(3) acc(3), then their squares
        self.bias_dps: np.ndarray | None = None
        self.up: np.ndarray | None = None
        self.still_blocks = 0

    def update(self, k: np.ndarray, acc_g: np.ndarray, gyr_dps: np.ndarray):
        """Feed grid rows (absolute indices ``k``); returns CalibrationUpdates in order."""
        updates: list[CalibrationUpdate] = []
        if len(k) == 0:
            return updates
        blocks = k // self.block_len
        if blocks[0] == blocks[-1]:  # streaming: (part of) one block
            bounds = np.array([0, len(k)])
        else:
            cuts = np.flatnonzero(np.diff(blocks)) + 1
            bounds = np.concatenate(([0], cuts, [len(k)]))
        # Whole blocks inside this call are judged together; the first and last may be
        # partial and are accumulated across calls.
        seg_n = np.diff(bounds)
        inner = [
            i
            for i in range(len(seg_n))
            if seg_n[i] == self.block_len and not (i == 0 and self.block == blocks[0])
        ]
        stats = {}
        if inner:
            x = np.hstack([gyr_dps, acc_g])
            starts = bounds[inner]
            idx = starts[:, None] + np.arange(self.block_len)[None, :]
            xb = x[idx]  # (nb, block_len, 6)
            mean = xb.mean(axis=1)
            var = xb.var(axis=1)
            still = self._still(mean, var)
            for j, i in enumerate(inner):
                stats[i] = (mean[j], var[j]) if still[j] else None
        for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
            self._enter(int(blocks[a]), updates)
            if i in stats:
                u = None if stats[i] is None else self._judge(*stats[i])
                self.block = None
                self.sums[:] = 0
                if u is not None:
                    updates.append(u)
            else:
                self._accumulate(gyr_dps[a:b], acc_g[a:b], updates)
        return updates

    def _enter(self, blk: int, updates: list) -> None:
        """Rows of block ``blk`` follow: an unfinished other block is closed first."""
        if self.block is not None and blk != self.block:
            u = self._close()
            if u is not None:
                updates.append(u)
        if self.block != blk:
            self.block = blk
            self.sums[:] = 0

    def _accumulate(self, gyr_dps, acc_g, updates) -> None:
        """Add rows of the open block; judge it when it is whole."""
        x = np.concatenate((gyr_dps, acc_g), axis=1)
        self.sums[0] += len(x)
        self.sums[1:7] += x.sum(0)
        self.sums[7:13] += (x * x).sum(0)
        if self.sums[0] == self.block_len:
            u = self._close()
            self.block = None
            if u is not None:
                updates.append(u)

    def reset_block(self):
        """A gap: the block in progress cannot be still."""
        self.block = None
        self.sums[:] = 0

    def _close(self):
        n = self.sums[0]
        if n != self.block_len:
            return None
        mean = self.sums[1:7] / n
        var = np.maximum(self.sums[7:13] / n - mean**2, 0)
        return self._judge(mean, var)

    def _still(self, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
        """Per block (rows of gyro+acc means and variances): was the foot still?"""
        mean, var = np.atleast_2d(mean), np.atleast_2d(var)
        return (
            (np.sqrt(var[:, :3].max(axis=1)) < self.still_gyr_dps)
            & (np.sqrt(var[:, 3:].max(axis=1)) < self.still_acc_g)
            & (np.abs(np.linalg.norm(mean[:, 3:], axis=1) - 1.0) < 0.2)
        )

    def _judge(self, mean: np.ndarray, var: np.ndarray):
        if not self._still(mean, var)[0]:
            return None
        g_mean, a_mean = mean[:3], mean[3:]
        apply_from = (self.block + 1) * self.block_len
        self.still_blocks += 1
        if self.bias_dps is None:
            self.bias_dps = g_mean
        else:
            self.bias_dps = 0.7 * self.bias_dps + 0.3 * g_mean
        up = None
        if self.up is None:
            self.g_ref = float(np.linalg.norm(a_mean))
            self.up = a_mean / self.g_ref
            up = self.up
        return CalibrationUpdate(apply_from, self.bias_dps.copy(), up, getattr(self, "g_ref", 1.0))
