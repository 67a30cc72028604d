"""Step 6: form faults of one rep, from the guide the product was made from.

- ``ankle_roll``: the ankle turned in or out by ``roll_fault_deg`` or more, across the
  direction the foot's straight raises go (see :class:`RaiseDirection`).
- ``bounce``: the lowering ended in a rebound instead of a controlled stop: the heel
  hit bottom and sprang back up (see :func:`rebound_dps`).
- ``partial``: peak (along the same direction) below ``partial_fraction`` of the best rep
  of the set so far.
- ``not_past_neutral``: on a step, the heel did not go ``past_neutral_deg`` below
  the step.
- ``rocked_back``: on the floor, the toes lifted: the foot went ``rocked_back_deg`` or
  more past flat, the level the rep started from (see :func:`floor_depth_deg`).
- ``too_fast`` / ``too_slow``: the raise or the lowering off the target tempo
  (see :func:`heelraise.tempo.phase_verdict`).

The surface (floor or step) is a setting, or judged per set: on a step the
lowering sweeps through neutral at speed; on the floor it stops there.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass

import numpy as np

from heelraise.tempo import phase_verdict


@dataclass(frozen=True)
class FaultSettings:
    """Step 6's tuning beyond AnalyzerSettings: the bounce and the step-or-floor vote."""

    #: deg/s: a rebound at least this fast ...
    bounce_min_dps: float = 15.0
    #: ... and this fraction of the lowering's peak rate is a bounce
    bounce_fraction: float = 0.3
    #: deg: a rebound lifts the heel at least this far back up (5-25 Hz balance ripple of
    #: ~7 deg/s RMS moves it under 1 deg; a heel springing off the ground 2-6 deg)
    rebound_min_deg: float = 1.5
    #: s: a rebound's rate peaks this soon after the stop (the impact turns the heel round
    #: at once; the next rep's rise starts after a pause and speeds up for ~0.1 s)
    rebound_peak_s: float = 0.05
    #: rate at the decision over the rebound's peak below this: it has peaked and is dying
    #: away (a rebound, caught); at or above it is still speeding up (the next rise)
    rebound_falling: float = 0.95
    #: reps: roll and height are judged along the median direction of this many latest
    #: reps' tops (a rolled ankle is at most a third of them at a 30% fault rate) ...
    reference_reps: int = 9
    #: ... once there are this many (before that, along the pitch axis)
    reference_min_reps: int = 3
    #: on a step the lowering sweeps through neutral at this fraction of its peak rate ...
    through_neutral_fraction: float = 0.3
    #: deg: ... and goes at least this far below it
    step_depth_deg: float = 4.0


FAULT = FaultSettings()


class RaiseDirection:
    """The direction a straight raise of this foot tilts it (a unit 2-vector on the neutral
    basis, like the pitch axis), along which the form faults judge roll and heel height.

    An ankle roll turns the foot about its long axis, across the raise. The pitch axis
    (:mod:`heelraise.chain.axis`) folds every counted rep in, a rolled one too, so after a
    rolled ankle it leans towards that rep for the next few and reads part of their pitch
    as roll (4-5 deg at 40 deg of pitch: false ``ankle_roll``), and part of a rolled rep's
    roll as pitch (a low heel: false ``partial``). The straight reps show where the raise
    goes: the median direction of the latest ``reference_reps`` reps' tops, rolled reps
    being the few outliers."""

    def __init__(self):
        self.tops: collections.deque[np.ndarray] = collections.deque(maxlen=FAULT.reference_reps)

    def axis(self, p: np.ndarray) -> np.ndarray:
        """The reference direction, given the pitch axis ``p`` (same sign as ``p``). The
        axis as first found (before any rep was folded in) is the first vote, so the third
        rep is judged on three: a rolled second rep is outvoted at once."""
        if not self.tops:
            self.tops.append(p / np.linalg.norm(p))
        if len(self.tops) < FAULT.reference_min_reps:
            return p
        q = np.array([-p[1], p[0]])
        sides = [d if d @ p >= 0 else -d for d in self.tops]  # each top on p's side
        turn = float(np.median([np.arctan2(d @ q, d @ p) for d in sides]))
        return np.cos(turn) * p + np.sin(turn) * q

    def add(self, tilt_top: np.ndarray) -> None:
        """Fold in one counted rep's tilt at its top."""
        size = float(np.hypot(tilt_top[0], tilt_top[1]))
        if size > 0.0:
            self.tops.append(np.asarray(tilt_top, dtype=float) / size)


def rep_faults(
    *,
    settings,
    surface: str,
    peak_deg: float,
    depth_deg: float,
    roll_deg: float,
    rebound_dps: float,
    lower_peak_dps: float,
    best_peak_deg: float,
    raise_s: float,
    lower_s: float,
    floor_depth_deg: float | None = None,
) -> list[str]:
    """The rep's faults; ``floor_depth_deg`` (None: ``depth_deg``) judges ``rocked_back``."""
    faults = []
    if abs(roll_deg) >= settings.roll_fault_deg:
        faults.append("ankle_roll")
    if rebound_dps >= max(FAULT.bounce_min_dps, FAULT.bounce_fraction * lower_peak_dps):
        faults.append("bounce")
    if peak_deg < settings.partial_fraction * best_peak_deg:
        faults.append("partial")
    if surface == "step" and depth_deg < settings.past_neutral_deg:
        faults.append("not_past_neutral")
    if floor_depth_deg is None:
        floor_depth_deg = depth_deg
    if surface == "floor" and floor_depth_deg >= settings.rocked_back_deg:
        faults.append("rocked_back")
    tempo = settings.tempo
    if tempo is not None:
        verdicts = {phase_verdict(raise_s, tempo.raise_s), phase_verdict(lower_s, tempo.lower_s)}
        for v in ("too_fast", "too_slow"):
            if v in verdicts:
                faults.append(v)
    return faults


def rebound_dps(t_s: np.ndarray, pitch_deg: np.ndarray, rate_dps: np.ndarray) -> float:
    """The peak pitch rate of the heel's rebound after the lowering stopped (rows from the
    stop to the decision), 0 when there was none: a bounce is a reversal with energy, not
    ripple, and not the next rise. It lifts the heel ``rebound_min_deg`` or more above the
    lowest point after the stop, its rate peaks within ``rebound_peak_s`` of the stop and is
    falling again by the decision (under ``rebound_falling`` of that peak)."""
    if len(rate_dps) < 2:
        return 0.0
    height = float(np.max(pitch_deg - np.minimum.accumulate(pitch_deg)))
    i_peak = int(np.argmax(rate_dps))
    peak = float(rate_dps[i_peak])
    if (
        peak <= 0.0
        or height < FAULT.rebound_min_deg
        or t_s[i_peak] - t_s[0] > FAULT.rebound_peak_s
        or rate_dps[-1] >= FAULT.rebound_falling * peak
    ):
        return 0.0
    return peak


def floor_depth_deg(t_s: np.ndarray, pitch_deg: np.ndarray, start_s: float, top: int) -> float:
    """On the floor, how far past flat the toes rose: the lowest pitch after the top (row
    ``top``) below flat. Flat is neutral, or the pitch at the rep's start when that reads
    below neutral (the foot stood flat there: the tilt reads low since neutral was taken;
    dev seed 3153, brisk: 3 deg low all through a rep made a flat bottom read as rocked
    back). A start above neutral is the heel not yet down, not a new flat."""
    flat = min(0.0, float(np.interp(start_s, t_s, pitch_deg)))
    return max(0.0, flat - float(pitch_deg[top:].min()))


def shown_depth(surface: str, depth_deg: float, floor_depth: float, settings) -> float:
    """A rep's ``depth_deg``: below neutral on a step; on the floor the rise past flat,
    0 under ``rocked_back_deg`` (sway)."""
    if surface != "floor":
        return depth_deg
    return floor_depth if floor_depth >= settings.rocked_back_deg else 0.0


def looks_like_step(depth_deg: float, neutral_speed_dps: float, lower_peak_dps: float) -> bool:
    """One rep's evidence: did the lowering sweep through neutral at speed, well below it?"""
    return (
        depth_deg >= FAULT.step_depth_deg
        and neutral_speed_dps >= FAULT.through_neutral_fraction * lower_peak_dps
    )
