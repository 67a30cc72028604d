"""Step 6: form faults of one rep, from the guide the product was made from.

- ``ankle_roll``: the ankle turned in or out by ``roll_fault_deg`` or more.
- ``bounce``: the lowering ended in a rebound instead of a controlled stop: the heel
  hit bottom and sprang back up (see :func:`rebound_dps`).
- ``partial``: peak below ``partial_fraction`` of the best rep of the set so far.
- ``not_past_neutral``: on a step, the heel did not go ``past_neutral_deg`` below
  the step.
- ``rocked_back``: on the floor, the toes lifted (``rocked_back_deg`` or more
  below neutral).
- ``too_fast`` / ``too_slow``: the raise or the lowering off the target tempo
  (see :func:`heelraise.tempo.phase_verdict`).

The surface (floor or step) is a setting, or judged per set: on a step the
lowering sweeps through neutral at speed; on the floor it stops there.
"""

from __future__ import annotations

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
    #: on a step the lowering sweeps through neutral at this fraction of its peak rate ...
    through_neutral_fraction: float = 0.3
    #: deg: ... and goes at least this far below it
    step_depth_deg: float = 4.0


FAULT = FaultSettings()


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
) -> list[str]:
    faults = []
    if abs(roll_deg) >= settings.roll_fault_deg:
        faults.append("ankle_roll")
    if rebound_dps >= max(FAULT.bounce_min_dps, FAULT.bounce_fraction * lower_peak_dps):
        faults.append("bounce")
    if peak_deg < settings.partial_fraction * best_peak_deg:
        faults.append("partial")
    if surface == "step" and depth_deg < settings.past_neutral_deg:
        faults.append("not_past_neutral")
    if surface == "floor" and depth_deg >= settings.rocked_back_deg:
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


def looks_like_step(depth_deg: float, neutral_speed_dps: float, lower_peak_dps: float) -> bool:
    """One rep's evidence: did the lowering sweep through neutral at speed, well below it?"""
    return (
        depth_deg >= FAULT.step_depth_deg
        and neutral_speed_dps >= FAULT.through_neutral_fraction * lower_peak_dps
    )
