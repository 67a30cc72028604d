"""Step 3: tilt of the shoe relative to neutral, fusing gyro and accelerometer.

Tilt is kept as a 2-D rotation vector ``r`` (degrees) in the horizontal plane of
neutral, on an arbitrary orthonormal basis (e1, e2) perpendicular to "up". For a
rotation about any horizontal axis the accelerometer gives ``r`` exactly (the
rotation taking the measured gravity direction back to neutral) and the gyro
gives its rate exactly, so a complementary filter fuses them linearly:

    r[k] = a (r[k-1] + w[k] dt) + (1 - a) r_acc[k],     a = tau / (tau + dt)

which runs as one IIR filter over a chunk, its state carried between chunks.
Pitch and roll are projections of ``r`` on the pitch axis (found from the data,
see :mod:`heelraise.chain.axis`) and on the foot's long axis.
"""

from __future__ import annotations

import numpy as np

DYNAMIC_G = 0.15  # accelerometer this far off 1 g: not a tilt reading
DYNAMIC_DPS = 60.0  # turning this fast, lever-arm acceleration spoils the tilt reading
RESYNC_S = 0.3  # free motion this long: restart from the accelerometer once quiet
QUIET_G = 0.03  # quiet: the accelerometer within this of 1 g ...
QUIET_DPS = 10.0  # ... and hardly turning


class TiltFusion:
    def __init__(self, up: np.ndarray, dt_s: float, tau_s: float, g_ref: float = 1.0):
        self.up = up / np.linalg.norm(up)
        # What this accelerometer reads at rest (scale and bias errors included): "1 g".
        self.g_ref = g_ref
        helper = np.eye(3)[np.argmin(np.abs(self.up))]
        e1 = np.cross(self.up, helper)
        e1 /= np.linalg.norm(e1)
        e2 = np.cross(self.up, e1)
        self.basis = np.column_stack([e1, e2])  # (3, 2)
        self.frame = np.column_stack([e1, e2, self.up])  # (3, 3)

        self.dt_s = dt_s
        self.alpha = tau_s / (tau_s + dt_s)
        self._powers = self.alpha ** np.arange(1, PIECE + 1)  # alpha^1 .. alpha^PIECE
        self._zeros = np.zeros(PIECE)
        self.r_deg: np.ndarray | None = None  # filter state (last output)
        self.free_n = 0  # samples of free motion since the foot was last quiet

    def reset(self):
        """After a gap: restart from the accelerometer alone."""
        self.r_deg = None
        self.free_n = 0

    def tilt_from_acc(self, acc_g: np.ndarray) -> np.ndarray:
        """Rotation vector (deg, on e1/e2) taking each measured 'up' back to neutral.

        With p = (a.e1, a.e2, a.u), the axis a x u projects to (p2, -p1) on (e1, e2),
        |a x u| = hypot(p1, p2), and the angle is atan2(|a x u|, p3).
        """
        p = acc_g @ self.frame
        sin = np.hypot(p[:, 0], p[:, 1])
        scale = np.degrees(np.arctan2(sin, p[:, 2])) / np.maximum(sin, 1e-12)
        return np.column_stack((p[:, 1] * scale, -p[:, 0] * scale))

    def update(self, acc_g: np.ndarray, gyr_dps: np.ndarray):
        """Bias-corrected gyro rows -> (r_deg (N,2), w_dps (N,2)).

        While the foot is in free motion (the accelerometer off its 1 g: a stride, a
        stamp) or turning fast (lever-arm acceleration), the accelerometer says
        nothing reliable about tilt, so the tilt follows the gyro alone. After
        ``RESYNC_S`` of free motion the filter restarts from the accelerometer at
        the first truly quiet sample (foot flat and still, as in mid-stance).

        All of it is one first-order recursion ``r[k] = a[k] r[k-1] + x[k]`` with
        a[k] = alpha (blend), 1 (gyro only) or 0 (restart), solved in closed form
        over short pieces, so its cost does not depend on how often the mode changes.
        """
        n = len(acc_g)
        amag = np.sqrt(np.einsum("ij,ij->i", acc_g, acc_g))
        wmag = np.sqrt(np.einsum("ij,ij->i", gyr_dps, gyr_dps))
        self.amag, self.wmag = amag, wmag
        r_acc = self.tilt_from_acc(acc_g)
        w = gyr_dps @ self.basis
        dev = np.abs(amag - self.g_ref)
        free = dev > DYNAMIC_G
        fast = wmag > DYNAMIC_DPS
        quiet = (dev < QUIET_G) & (wmag < QUIET_DPS)
        limit = RESYNC_S / self.dt_s
        if self.r_deg is not None and n <= PIECE and not free.any() and self.free_n <= limit:
            # The common case (standing, reps): no free motion, so no restart pending.
            if self.free_n and quiet.any():
                self.free_n = 0
            x = self.alpha * self.dt_s * w + (1 - self.alpha) * r_acc
            if not fast.any():  # blend throughout: constant coefficient, cached powers
                p = self._powers[:n, None]
                out = p * (self.r_deg + np.cumsum(x / p, axis=0))
                self.flags = self._zeros[:n]
            else:
                a = np.where(fast, 1.0, self.alpha)
                x[fast] = self.dt_s * w[fast]
                out = np.empty_like(r_acc)
                _recursion(a, x, self.r_deg, out)
                self.flags = np.where(fast, 3.0, 0.0)
            self.r_deg = out[-1].copy()
            return out, w
        # Free samples since the last quiet one (carried across calls).
        cf = np.cumsum(free) + self.free_n
        qi = np.flatnonzero(quiet)
        base = np.zeros(n, dtype=np.int64)
        if len(qi):
            base[qi] = cf[qi]
        base = np.maximum.accumulate(base) if len(qi) else base
        since = np.where(
            np.maximum.accumulate(np.where(quiet, np.arange(n), -1)) >= 0, cf - base, cf
        )
        before = np.concatenate(([self.free_n], since[:-1]))  # count before each sample
        resync = quiet & (before > limit)
        pending = (since > limit) & ~quiet
        self.free_n = int(since[-1])
        gyro_only = free | fast | pending
        a = np.where(gyro_only, 1.0, self.alpha)
        x = np.where(
            gyro_only[:, None], self.dt_s * w, self.alpha * self.dt_s * w + (1 - self.alpha) * r_acc
        )
        a[resync] = 0.0
        x[resync] = r_acc[resync]
        # 1: free motion or impact, 3: fast turn (gyro only), 2: restarted from the accelerometer
        self.flags = np.where(free, 1.0, np.where(fast | pending, 3.0, 0.0))
        self.flags[resync] = 2.0
        if self.r_deg is None:
            a[0], x[0] = 0.0, r_acc[0]
        out = np.empty_like(r_acc)
        cuts = np.concatenate((np.flatnonzero(a == 0.0), np.arange(0, n, PIECE)))
        cuts = np.unique(np.concatenate((cuts, [n])))
        r = self.r_deg if self.r_deg is not None else np.zeros(2)
        for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
            r = _recursion(a[lo:hi], x[lo:hi], r, out[lo:hi])
        self.r_deg = r.copy()
        return out, w


PIECE = 500  # closed-form pieces: alpha**-500 (about 2e4) costs no precision that matters


def _recursion(a, x, r0, out):
    """out[k] = a[k] out[k-1] + x[k], out[-1] = r0; a > 0 except possibly a[0] == 0."""
    if a[0] == 0.0:
        r0 = x[0]
        out[0] = r0
        a, x, out = a[1:], x[1:], out[1:]
        if len(a) == 0:
            return r0
    logp = np.cumsum(np.log(a))  # log of prod a[0..k]
    p = np.exp(logp)
    acc = np.cumsum(x / p[:, None], axis=0)
    out[:] = p[:, None] * (r0[None, :] + acc)
    return out[-1].copy()
