"""Step 0 of the chain: input screening. A sample no IMU can produce is a glitch.

A value beyond any IMU's range (a bit flip, a corrupt line, an overflowing
conversion) or one that is not a number is not a measurement: the whole sample
is dropped, which leaves a one-sample hole the resampler interpolates over like
any short dropout. Each sample is judged on its own, so the result does not
depend on how the stream is chunked.
"""

from __future__ import annotations

import numpy as np

#: beyond the widest accelerometer range on sale (+-32 g; the MPU-6050 reads +-16 g)
ACC_LIMIT_G = 32.0
#: beyond the widest gyro range on sale (+-4000 deg/s; the MPU-6050 reads +-2000 deg/s)
GYR_LIMIT_DPS = 4000.0


class Screen:
    """Drops glitches from a stream and keeps count of them (``count``, first and last
    ``t_s``) for the report."""

    def __init__(self, acc_limit_g: float = ACC_LIMIT_G, gyr_limit_dps: float = GYR_LIMIT_DPS):
        self.acc_limit_g = acc_limit_g
        self.gyr_limit_dps = gyr_limit_dps
        self.count = 0
        self.first_t_s: float | None = None
        self.last_t_s: float | None = None

    def apply(self, t_s: np.ndarray, acc_g: np.ndarray, gyr_dps: np.ndarray):
        """The samples that are not glitches (the arrays themselves when all are fine)."""
        # The max of |x| is NaN if any value is: one comparison each in the common case.
        if np.abs(acc_g).max() <= self.acc_limit_g and np.abs(gyr_dps).max() <= self.gyr_limit_dps:
            return t_s, acc_g, gyr_dps
        good = (np.abs(acc_g) <= self.acc_limit_g).all(axis=1)
        good &= (np.abs(gyr_dps) <= self.gyr_limit_dps).all(axis=1)
        bad = np.flatnonzero(~good)
        self.count += len(bad)
        if self.first_t_s is None:
            self.first_t_s = float(t_s[bad[0]])
        self.last_t_s = float(t_s[bad[-1]])
        return t_s[good], acc_g[good], gyr_dps[good]

    def to_json(self) -> dict:
        return {"count": self.count, "first_t_s": _r(self.first_t_s), "last_t_s": _r(self.last_t_s)}


def _r(x):
    return None if x is None else round(x, 3)
