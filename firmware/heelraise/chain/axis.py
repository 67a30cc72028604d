"""Step 4: the pitch (plantar/dorsiflexion) axis, found from the data.

The sensor may be strapped on any way round, so which horizontal direction is
"heel up" is learnt: the first rep-like excursion (tilt of 12 degrees or more,
held for 0.4 s turning slowly, with no walking-speed rotation around it) gives
the axis direction and, provisionally, its sign: the heel goes *up* first (the guide's
raise starts by rising onto the toes). The analyzer checks the sign on the
first rep: one that goes further below neutral than above it means the first
held excursion was heels dropped on a step (a calf stretch), so the axis is
turned round and the same data looked at again. Toe taps and weight shifts
are too short or too small to qualify; walking is too fast, and a stride's heel-off
is slow only at its apex. Each counted rep
then refines the axis as the principal direction of its tilt excursion, so a
first estimate skewed by a rolled ankle is corrected.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass

import numpy as np

from heelraise.chain.phases import first_true


@dataclass(frozen=True)
class AxisSettings:
    """Step 4's tuning: which excursion may give the pitch axis."""

    #: deg: a tilt this big ... (weight shifts and sway stay under 4)
    qualify_deg: float = 12.0
    #: s: ... held this long gives the axis (toe taps are shorter)
    qualify_s: float = 0.4
    #: deg/s: held: turning slower than this (a raise's top, and the slow ends of its rise
    #: and lowering). A stride's heel-off (a step off a box: 56 deg and back in 0.5 s, at
    #: 150-330 deg/s, under the stride rate) is 12 deg up for 0.4 s but slow only at its
    #: apex, for 0.06 s: it gave the axis, toes-up came out heel up, and a walking-only
    #: session's toe taps were counted (dev classic seed 68160, 50 Hz: 5 reps)
    held_dps: float = 60.0
    #: s: and no walking or free motion for this long before it
    quiet_s: float = 2.0
    #: deg: the excursion starts where the tilt was last under this
    excursion_start_deg: float = 3.0
    #: reps whose directions give the axis (their median): enough that rolled ankles
    #: (up to a third of a set's reps) stay outliers, few enough to follow a re-strap
    refine_reps: int = 15
    #: deg: a rep whose lowest point is this far below neutral (a step's bottom), and
    #: farther below it than its top is above, gives its direction from that bottom: on
    #: tiptoe the ankle wobbles 2-3 deg in roll whatever the height, while the hanging heel
    #: turns about the pitch axis alone (the ball loaded on the step), so the farther end
    #: turns the error into the smaller angle. A weak side's 6 deg tops out of 8-12 deg
    #: bottoms were 20-30 deg off and their median 7-11 deg (dev deep_drop pair 60078 L); a
    #: brisk 50 deg top is nearer than its 12 deg bottom (dev brisk 2045: a false roll)
    bottom_min_deg: float = 3.0
    #: deg: the bottom is the rep's rows within this of its lowest pitch
    bottom_band_deg: float = 1.0


AXIS = AxisSettings()


class PitchAxis:
    def __init__(self, grid_hz: float, walking_gyr_dps: float):
        self.grid_hz = grid_hz
        self.walking_gyr_dps = walking_gyr_dps
        self.p: np.ndarray | None = None  # unit 2-vector on (e1, e2): +pitch = heel up
        self.run = 0  # consecutive qualifying samples so far
        self.last_vigorous = -(10**9)  # absolute index of the last walking-speed sample
        self.last_low = None  # absolute index of the last sample under AXIS.excursion_start_deg
        self.leans: collections.deque[float] = collections.deque(maxlen=AXIS.refine_reps)

    @property
    def known(self) -> bool:
        return self.p is not None

    def search(self, k0: int, r: np.ndarray, wmag: np.ndarray, history, free=None) -> int | None:
        """Look for the first qualifying excursion in rows starting at absolute index k0.

        Returns the absolute index where the excursion began (detection should
        start there), or None while the axis is still unknown.
        """
        n = len(r)
        if n == 0:
            return None
        k = k0 + np.arange(n)
        mag = np.hypot(r[:, 0], r[:, 1])
        need = int(round(AXIS.qualify_s * self.grid_hz))
        quiet = int(round(AXIS.quiet_s * self.grid_hz))
        # The last walking-speed (or free-motion) sample and the last low sample at or
        # before each row, carried over from earlier calls.
        vigorous = wmag > self.walking_gyr_dps
        if free is not None:
            vigorous |= free
        last_vigorous = _last_index(vigorous, k, self.last_vigorous)
        last_low = _last_index(
            mag < AXIS.excursion_start_deg, k, _NONE if self.last_low is None else self.last_low
        )
        # Qualifying rows, and how many in a row end at each (carried over too).
        qualifies = (mag >= AXIS.qualify_deg) & (k - last_vigorous > quiet)
        qualifies &= wmag < AXIS.held_dps
        run = np.arange(n) - _last_index(~qualifies, np.arange(n), -1 - self.run)
        ready = (run >= need) & (last_low != _NONE)
        i = first_true(ready)
        j = n - 1 if i is None else i  # the loop's state where it stops
        self.last_vigorous = int(last_vigorous[j])
        self.last_low = None if last_low[j] == _NONE else int(last_low[j])
        self.run = int(run[j])
        if i is None:
            return None
        start = self.last_low
        seg = history.rows(start, int(k[i]) + 1)
        rr = seg[:, [history.col["r1"], history.col["r2"]]]
        m = np.hypot(rr[:, 0], rr[:, 1])
        sel = rr[m >= 5.0] / m[m >= 5.0][:, None]
        d = sel.mean(0)
        self.p = d / np.linalg.norm(d)
        return start

    def bottom_direction(self, r_rep: np.ndarray) -> np.ndarray | None:
        """The unit direction of a rep's bottom, when it went ``bottom_min_deg`` or more
        below neutral and farther than its top went above (its rows within
        ``bottom_band_deg`` of the lowest pitch); else None."""
        pitch = r_rep @ self.p
        if not len(pitch):
            return None
        low = float(pitch.min())
        if low > -AXIS.bottom_min_deg or -low <= float(pitch.max()):
            return None
        b = r_rep[pitch <= low + AXIS.bottom_band_deg].mean(0)
        return b / np.linalg.norm(b)

    def refine(self, r_rep: np.ndarray) -> np.ndarray | None:
        """Fold one counted rep's tilt samples into the axis estimate: the direction of
        its bottom below neutral when that is its farther end (:meth:`bottom_direction`),
        or else the principal direction of its excursion. Returns the bottom's direction
        when it was the one used (the rep's raise direction too), else None."""
        bottom = d = self.bottom_direction(r_rep)
        if d is None:
            m = np.hypot(r_rep[:, 0], r_rep[:, 1])
            sel = r_rep[m >= 5.0]
            if len(sel) < 5:
                return None
            d = _principal_axis(sel.T @ sel / len(sel))
        if d is None:  # no preferred direction at all: nothing learnt
            return None
        # Each rep's direction kept as an angle on (e1, e2). A direction has no sign (the
        # axis may be turned round later): angles are taken modulo 180 degrees, within 90
        # of the axis, where their median is a plain median.
        self.leans.append(float(np.arctan2(d[1], d[0])))
        ref = np.arctan2(self.p[1], self.p[0])
        rel = (np.array(self.leans) - ref + np.pi / 2) % np.pi - np.pi / 2
        mid = ref + float(np.median(rel))
        self.p = np.array([np.cos(mid), np.sin(mid)])
        return bottom

    def pitch_roll(self, r: np.ndarray):
        p = self.p
        return r @ p, r @ np.array([-p[1], p[0]])


def _principal_axis(cov: np.ndarray) -> np.ndarray | None:
    """Unit eigenvector of the larger eigenvalue of a symmetric 2x2 matrix; None if
    isotropic (no direction is preferred)."""
    w, v = np.linalg.eigh(cov)  # eigenvalues ascending
    if w[1] - w[0] <= 1e-12 * max(abs(w[1]), 1.0):
        return None
    return v[:, 1]


_NONE = -(2**62)  # "no such sample yet" for _last_index


def _last_index(mask: np.ndarray, index: np.ndarray, before: int) -> np.ndarray:
    """For each row, ``index`` of the last row at or before it where ``mask`` holds
    (``before`` if none has yet)."""
    return np.maximum.accumulate(np.where(mask, index, before))
