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

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from heelraise.chain.calibration import GainSelfCal
from heelraise.physics import G_MPS2


@dataclass(frozen=True)
class FusionSettings:
    """Step 3's tuning: when the accelerometer is a tilt reading."""

    #: g: accelerometer this far off 1 g beyond what the lever arm explains: free motion
    dynamic_g: float = 0.15
    #: deg/s: turning this fast, lever-arm acceleration spoils the tilt reading
    dynamic_dps: float = 60.0
    #: m: farthest a shoe-mounted sensor sits from the ball of the foot (heel: 0.22)
    lever_max_m: float = 0.25
    #: rows: angular acceleration is the largest step over this many (acc and gyro a sample apart)
    alpha_rows: int = 3
    #: s: ... and its mean over this long decides trust (5-25 Hz balance ripple averages out)
    steady_s: float = 0.1
    #: g: steady lever-arm acceleration above this: gyro only (about 1 deg of tilt)
    lever_trust_g: float = 0.02
    #: s: free motion this long: restart from the accelerometer once quiet
    resync_s: float = 0.3
    #: g: quiet is the accelerometer within this of 1 g ...
    quiet_g: float = 0.03
    #: deg/s: ... and turning slower than this
    quiet_dps: float = 10.0


FUSION = FusionSettings()
#: g per rad/s^2 of |alpha| + |w|^2 at the farthest lever (lever_max_m / g), for lever_g
_LEVER_GAIN = FUSION.lever_max_m / G_MPS2

#: What each grid row's tilt came from (the ``flag`` column of the history).
FLAG_BLEND = 0.0  # gyro and accelerometer blended
FLAG_FREE = 1.0  # free motion or an impact: gyro only, not a tilt to trust as a bottom
FLAG_RESYNC = 2.0  # restarted from the accelerometer after free motion
FLAG_GYRO = 3.0  # turning fast or under lever-arm acceleration: gyro only


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
        # A blended step adds alpha dt w + (1 - alpha) r_acc; a gyro-only step adds dt w.
        self._blend_gyr_gain = self.alpha * dt_s
        self._blend_acc_gain = 1 - self.alpha
        self._resync_n = FUSION.resync_s / dt_s  # free samples that call for a restart
        # alpha^0 .. alpha^PIECE: over a piece, a is alpha or 1, so the product of a is alpha
        # to the number of blended steps.
        self._powers = self.alpha ** np.arange(PIECE + 1)
        self.r_deg: np.ndarray | None = None  # filter state (last output)
        self.free_n = 0  # samples of free motion since the foot was last quiet
        self._last_gyr: np.ndarray | None = None  # the last rows' rates, for the angular accel
        self._steady_rows = max(1, int(round(FUSION.steady_s / dt_s)))
        self._lever_rows = max(FUSION.alpha_rows, self._steady_rows)  # rows lever_g looks back
        self._per_row = np.radians(1.0) / dt_s  # a step in deg/s over a row -> rad/s^2
        #: the sensor's own gains, fitted from still poses as they come (none until then)
        self.selfcal = GainSelfCal(self.up, self.basis, g_ref, dt_s)
        self.correction = self.selfcal.correction
        self._tail_r = np.empty((0, 2))  # the last pose window's tilt (deg) ...
        self._tail_gyro = np.empty(0, dtype=bool)  # ... and its rows fused on the gyro alone
        #: the still poses the last update() ended, through a fitted correction: [(row, d)],
        #: ``row`` the first row after the pose's window (numbered from this call's first
        #: row) and ``d`` (deg, on e1/e2) what the pose's accelerometer tilt less the filter's
        #: (both averaged over the window): added to a tilt read in the pose's window, the
        #: pose's tilt from gravity with the gyro's short way from it (see Analyzer._accept)
        self.pose_offsets: list[tuple[int, np.ndarray]] = []

    def reset(self):
        """After a gap: restart from the accelerometer alone."""
        self.r_deg = None
        self.free_n = 0
        self._last_gyr = None
        self.selfcal.reset()
        self._tail_r = np.empty((0, 2))
        self._tail_gyro = np.empty(0, dtype=bool)

    def lever_g(self, gyr_dps: np.ndarray, wmag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per row, the most acceleration a foot pivoting about the ball of the foot can give
        a sensor up to ``lever_max_m`` from it, |alpha x r + w x (w x r)| <= (|alpha| + |w|^2)
        |r|, in g: (any, steady). A brisk raise's 0.2 to 1 g swings are this, not free
        motion. ``any`` takes |alpha| as the largest of the last ``FUSION.alpha_rows`` steps (the
        accelerometer and the gyro may be a sample apart after the chip's low-pass and the
        resampling); ``steady`` over ``FUSION.steady_s`` (balance ripple, 5-25 Hz, averages out
        there, so it does not shut the accelerometer out of a whole hold on the toes)."""
        k = self._lever_rows
        prev = np.repeat(gyr_dps[:1], k, axis=0) if self._last_gyr is None else self._last_gyr
        ext = np.concatenate((prev, gyr_dps))
        self._last_gyr = ext[-k:].copy()
        n = len(gyr_dps)
        d = np.subtract(ext[1:], ext[:-1])  # d[k - 1 + i] is row i's step
        step = np.sqrt(np.einsum("ij,ij->i", d, d))
        alpha = step[k - 1 :].copy()
        for j in range(1, FUSION.alpha_rows):
            np.maximum(alpha, step[k - 1 - j : k - 1 - j + n], out=alpha)
        m = self._steady_rows
        dm = ext[k:] - ext[k - m : k - m + n]
        slow = np.sqrt(np.einsum("ij,ij->i", dm, dm)) / m
        per_row = self._per_row
        w2 = np.radians(wmag) ** 2
        gain = _LEVER_GAIN
        return (alpha * per_row + w2) * gain, (slow * per_row + w2) * gain

    def tilt_from_acc(self, acc_g: np.ndarray) -> np.ndarray:
        """Rotation vector (deg, on e1/e2) taking each measured 'up' back to neutral.

        With p = (a.e1, a.e2, a.u), the axis a x u projects to (p2, -p1) on (e1, e2),
        |a x u| = hypot(p1, p2), and the angle is atan2(|a x u|, p3).
        """
        p = acc_g @ self.frame
        sin = np.hypot(p[:, 0], p[:, 1])
        scale = np.arctan2(sin, p[:, 2])
        np.degrees(scale, out=scale)
        scale /= np.maximum(sin, 1e-12)
        r_deg = np.empty((len(p), 2))
        np.multiply(p[:, 1], scale, out=r_deg[:, 0])
        np.multiply(p[:, 0], scale, out=r_deg[:, 1])
        np.negative(r_deg[:, 1], out=r_deg[:, 1])
        return r_deg

    def update(self, acc_g: np.ndarray, gyr_dps: np.ndarray):
        """Raw accelerometer and bias-corrected gyro rows -> (r_deg (N,2), w_dps (N,2)), through
        the sensor's gain correction of the moment (:class:`GainSelfCal`: it changes at the end
        of a still pose, at the same row in any chunking); at the end of each still pose the
        tilt is anchored to the pose's accelerometer (:meth:`_anchor`)."""
        cuts = self.selfcal.feed(acc_g, gyr_dps, gyr_dps @ self.basis)
        poses = self.selfcal.poses
        self.pose_offsets = []
        if not cuts and not poses:
            out = self._corrected_update(acc_g, gyr_dps)
            self._keep_tail(out[0], self.flags)
            return out
        # At a row where both happen, the pose is anchored through the correction its own
        # rows were fused with, then the new correction takes over.
        events = sorted(
            [(row, 0, acc) for row, acc in poses] + [(row, 1, new) for row, new in cuts],
            key=lambda e: (e[0], e[1]),
        )
        parts, lo = [], 0
        for hi, kind, what in [*events, (len(acc_g), 2, None)]:
            if hi > lo:
                out = self._corrected_update(acc_g[lo:hi], gyr_dps[lo:hi])
                self._keep_tail(out[0], self.flags)
                parts.append((out, self.amag, self.wmag, self.free_g, self.flags))
            if kind == 0:
                self._anchor(what, hi)
            elif kind == 1:
                self.correction = what
            lo = hi
        self.amag, self.wmag, self.free_g, self.flags = (
            np.concatenate([p[k] for p in parts]) for k in range(1, 5)
        )
        r = np.concatenate([p[0][0] for p in parts])
        w = np.concatenate([p[0][1] for p in parts])
        return r, w

    def _keep_tail(self, r_deg: np.ndarray, flags: np.ndarray) -> None:
        """The latest rows' tilt and whether the filter blended them: a pose's window."""
        n = self.selfcal.window
        self._tail_r = np.concatenate((self._tail_r, r_deg[-n:]))[-n:]
        self._tail_gyro = np.concatenate((self._tail_gyro, flags[-n:] != FLAG_BLEND))[-n:]

    def _anchor(self, pose_acc_g: np.ndarray, row: int) -> None:
        """A still pose just ended (:class:`GainSelfCal`: not turning on average, not braking,
        |g| as at rest): its mean accelerometer reading is a tilt to trust. Row by row, the
        balance ripple on the toes (5-25 Hz) gives lever-arm accelerations that keep the
        filter on the gyro alone through whole holds and bottom pauses, for a whole set with
        no still second in it, where a gyro bias 0.1-0.3 deg/s off drifts the tilt by degrees
        (deep_drop dev seed 1019: +2.6 deg by the ninth rep); over the pose that ripple
        averages out, and the pose's tests bound what is left (its mean angular acceleration,
        2 deg/s over 0.15 s at 0.25 m: 0.006 g, 0.35 deg), while the gyro's tilt has no
        bound on its drift. So when the filter fused any of the pose's rows on the gyro alone,
        the state takes the difference between the pose's tilt and the filter's (both averaged
        over the pose) whole: the tilt is the pose's, the movement since kept (deep_drop dev
        seeds: 12 of 18 heel-LSI misses within 3 pp, against 10 taking the gyro-only share of
        it and 5 taking what blending those rows would have). Only through a fitted gain
        correction: before it, the accelerometer's own offset (30 mg) bends its angle by 2-3
        deg at a brisk raise's 45 deg top (false rocked_back faults, brisk dev seed 2041)."""
        window = self.selfcal.window
        c = self.correction
        if self.r_deg is None or not c.fitted or len(self._tail_r) < window:
            return
        acc = pose_acc_g @ c.acc_matrix.T + c.acc_offset_g
        drift = self.tilt_from_acc(acc[None, :])[0] - self._tail_r.mean(axis=0)
        self.pose_offsets.append((row, drift))
        if np.any(self._tail_gyro):
            self.r_deg = self.r_deg + drift

    def _corrected_update(self, acc_g: np.ndarray, gyr_dps: np.ndarray):
        c = self.correction
        if c.fitted:
            acc_g = acc_g @ c.acc_matrix.T + c.acc_offset_g
            gyr_dps = gyr_dps / c.gyr_gain
        return self._update(acc_g, gyr_dps)

    def _update(self, acc_g: np.ndarray, gyr_dps: np.ndarray):
        """Corrected rows -> (r_deg (N,2), w_dps (N,2)).

        While the foot is in free motion (the accelerometer off its 1 g: a stride, a
        stamp) or turning fast (lever-arm acceleration), the accelerometer says
        nothing reliable about tilt, so the tilt follows the gyro alone. After
        ``FUSION.resync_s`` of free motion the filter restarts from the accelerometer at
        the first truly quiet sample (foot flat and still, as in mid-stance).

        All of it is one first-order recursion ``r[k] = a[k] r[k-1] + x[k]`` with
        a[k] = alpha (blend), 1 (gyro only) or 0 (restart), solved in closed form
        over short pieces, so its cost does not depend on how often the mode changes.
        """
        self.amag = amag = np.sqrt(np.einsum("ij,ij->i", acc_g, acc_g))
        self.wmag = wmag = np.sqrt(np.einsum("ij,ij->i", gyr_dps, gyr_dps))
        r_acc = self.tilt_from_acc(acc_g)
        w = gyr_dps @ self.basis
        x = self._blend_gyr_gain * w  # the blended steps' x; gyro-only steps' set below
        x += self._blend_acc_gain * r_acc
        lever, steady = self.lever_g(gyr_dps, wmag)
        dev = np.abs(amag - self.g_ref)
        #: acceleration the lever arm cannot explain (g): the foot is not pivoting on the ball
        self.free_g = np.maximum(dev - lever, 0.0)
        free = self.free_g > FUSION.dynamic_g
        fast = (wmag > FUSION.dynamic_dps) | (steady > FUSION.lever_trust_g)
        quiet = (dev < FUSION.quiet_g) & (wmag < FUSION.quiet_dps)
        blend_only = not (free.any() or fast.any()) and self.free_n <= self._resync_n
        if blend_only and self.r_deg is not None and len(x) <= PIECE:
            # Blended throughout (standing, most of a rep), no restart pending: the same
            # recursion in one line. Buys 0.6 ms CPU per s of 1 kHz data streamed in 20 ms
            # reads (2.7 instead of 3.3 ms; issue 10's budget is 3).
            if quiet.any():  # what _restarts does with no free samples
                self.free_n = 0
            p = self._powers[1 : len(x) + 1, None]
            out = p * (self.r_deg + np.cumsum(x / p, axis=0))
            self.flags = np.full(len(x), FLAG_BLEND)
            self.r_deg = out[-1].copy()
            return out, w
        pending, resync = self._restarts(free, quiet)
        gyro_only = free | fast | pending
        a = np.where(gyro_only, 1.0, self.alpha)
        x[gyro_only] = self.dt_s * w[gyro_only]
        resync = np.flatnonzero(resync)
        a[resync] = 0.0
        x[resync] = r_acc[resync]
        # 1: free motion or impact, 3: fast turn (gyro only), 2: restarted from the accelerometer
        self.flags = np.where(free, FLAG_FREE, np.where(gyro_only, FLAG_GYRO, FLAG_BLEND))
        self.flags[resync] = FLAG_RESYNC
        if self.r_deg is None:
            a[0], x[0] = 0.0, r_acc[0]
        out = np.empty_like(x)
        self.r_deg = self._solve(a, x, out)
        return out, w

    def _restarts(self, free: np.ndarray, quiet: np.ndarray):
        """Per sample: (pending, resync). Pending: more than ``FUSION.resync_s`` of free motion
        since the last quiet sample, the tilt follows the gyro alone; resync: the first
        quiet sample after that, where the tilt restarts from the accelerometer. The count
        of free samples since the last quiet one is carried across calls."""
        n_free = np.count_nonzero(free)
        if self.free_n + n_free <= self._resync_n:  # too little free motion for a restart
            if quiet.any():
                after_quiet = len(quiet) - int(np.argmax(quiet[::-1]))
                self.free_n = int(np.count_nonzero(free[after_quiet:]))
            else:
                self.free_n += n_free
            none = np.zeros(len(free), dtype=bool)
            return none, none
        since = np.cumsum(free) + self.free_n  # free samples so far ...
        at_quiet = np.where(quiet, since, 0)
        np.maximum.accumulate(at_quiet, out=at_quiet)
        since -= at_quiet  # ... since the last quiet sample
        before = np.empty_like(since)  # ... and before each sample
        before[0] = self.free_n
        before[1:] = since[:-1]
        self.free_n = int(since[-1])
        limit = self._resync_n
        return (since > limit) & ~quiet, quiet & (before > limit)

    def _solve(self, a: np.ndarray, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        """The recursion from the state into ``out``; returns its last row.

        In closed form over pieces that end before each restart (a == 0) and every
        ``PIECE`` samples: from r0 at a piece's start, out[k] = p[k] (r0 + sum x[j] / p[j])
        over j <= k, with p[k] the product of a[j]. Past a piece's start a is alpha or 1,
        so p[k] is alpha to the number of blended steps since the start.
        """
        n = len(a)
        restarts = np.flatnonzero(a == 0.0)
        cuts = sorted({*restarts.tolist(), *range(0, n, PIECE), n})
        lengths = np.diff(cuts)
        blended = np.zeros(n + 1, dtype=np.int64)  # blended steps before each sample
        np.cumsum(a == self.alpha, out=blended[1:])
        p = self._powers[blended[1:] - np.repeat(blended[cuts[:-1]], lengths)]
        terms = x.T.copy()  # x / p, (2, n): each operation runs along the samples
        terms /= p
        r0 = np.empty((2, len(lengths)))
        r = self.r_deg
        is_restart = set(restarts.tolist())
        for i, (lo, hi) in enumerate(pairwise(cuts)):
            if lo in is_restart:
                r = x[lo]
                lo += 1
            r0[:, i] = r
            if lo < hi:
                np.add.accumulate(terms[:, lo:hi], axis=1, out=terms[:, lo:hi])  # running sums
                r = p[hi - 1] * (r + terms[:, hi - 1])
        terms += np.repeat(r0, lengths, axis=1)
        np.multiply(p, terms, out=out.T)
        out[restarts] = x[restarts]
        return r.copy()


PIECE = 500  # closed-form pieces: alpha**-500 (about 2e4) costs no precision that matters
