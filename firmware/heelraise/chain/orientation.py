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
from scipy.signal import lfilter

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
        self.dt_s = dt_s
        self.alpha = tau_s / (tau_s + dt_s)
        self.r_deg: np.ndarray | None = None  # filter state (last output)
        self.free_n = 0  # samples of free motion since the foot was last quiet
        self.resync_pending = False

    def reset(self):
        """After a gap: restart from the accelerometer alone."""
        self.r_deg = None
        self.free_n = 0
        self.resync_pending = False

    def tilt_from_acc(self, acc_g: np.ndarray) -> np.ndarray:
        """Rotation vector (deg, on e1/e2) taking each measured 'up' back to neutral."""
        cross = np.cross(acc_g, self.up)  # a x u: axis * sin(angle) * |a|
        sin = np.linalg.norm(cross, axis=1)
        cos = acc_g @ self.up
        angle = np.degrees(np.arctan2(sin, cos))
        scale = np.divide(angle, sin, out=np.zeros_like(sin), where=sin > 1e-12)
        return (cross * scale[:, None]) @ self.basis

    def update(self, acc_g: np.ndarray, gyr_dps: np.ndarray):
        """Bias-corrected gyro rows -> (r_deg (N,2), w_dps (N,2)).

        While the foot is in free motion (the accelerometer off 1 g: a stride, a
        stamp) or turning fast (lever-arm acceleration), the accelerometer says
        nothing reliable about tilt, so the tilt follows the gyro alone. After
        ``RESYNC_S`` of free motion the filter restarts from the accelerometer at
        the first truly quiet sample (foot flat and still, as in mid-stance).
        """
        r_acc = self.tilt_from_acc(acc_g)
        w = gyr_dps @ self.basis
        amag = np.linalg.norm(acc_g, axis=1)
        wmag = np.linalg.norm(gyr_dps, axis=1)
        free = np.abs(amag - self.g_ref) > DYNAMIC_G
        fast = wmag > DYNAMIC_DPS
        quiet = (np.abs(amag - self.g_ref) < QUIET_G) & (wmag < QUIET_DPS)
        # 1: free motion or impact, 3: fast turn (gyro only), 2: restarted from the accelerometer
        self.flags = np.where(free, 1.0, np.where(fast, 3.0, 0.0))
        out = np.empty_like(r_acc)
        if self.r_deg is None:
            self.r_deg = r_acc[0].copy()
        i, n = 0, len(r_acc)
        while i < n:
            if self.resync_pending:
                q = np.flatnonzero(quiet[i:])
                stop = n if len(q) == 0 else i + int(q[0])
                self._integrate(out, w, i, stop)
                if stop < n:
                    self.r_deg = r_acc[stop].copy()
                    out[stop] = self.r_deg
                    self.flags[stop] = 2.0
                    self.resync_pending = False
                    self.free_n = 0
                    stop += 1
                i = stop
                continue
            dyn = free[i] or fast[i]
            change = np.flatnonzero((free[i:] | fast[i:]) != dyn)
            stop = n if len(change) == 0 else i + int(change[0])
            if dyn:
                self._integrate(out, w, i, stop)
                self.free_n += int(free[i:stop].sum())
                if self.free_n * self.dt_s > RESYNC_S:
                    self.resync_pending = True
            else:
                if quiet[i:stop].any():
                    self.free_n = 0
                out[i:stop] = self._blend(r_acc[i:stop], w[i:stop])
            i = stop
        return out, w

    def _integrate(self, out, w, a, b):
        if b > a:
            out[a:b] = self.r_deg + np.cumsum(w[a:b] * self.dt_s, axis=0)
            self.r_deg = out[b - 1].copy()

    def _blend(self, r_acc, w):
        a = self.alpha
        x = a * self.dt_s * w + (1 - a) * r_acc
        if self.r_deg is None:
            self.r_deg = r_acc[0].copy()
        if len(x) <= 8:
            out = np.empty_like(x)
            r0, r1 = self.r_deg
            for i in range(len(x)):
                r0 = a * r0 + x[i, 0]
                r1 = a * r1 + x[i, 1]
                out[i, 0] = r0
                out[i, 1] = r1
        else:
            zi = (a * self.r_deg)[None, :]
            out, _ = lfilter([1.0], [1.0, -a], x, axis=0, zi=zi)
        self.r_deg = out[-1].copy()
        return out
