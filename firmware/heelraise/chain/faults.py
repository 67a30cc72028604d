"""Step 6: form faults of one rep, from the guide the product was made from.

- ``ankle_roll``: the ankle turned in or out by ``roll_fault_deg`` or more.
- ``bounce``: the lowering ended in a rebound (the heel sprang back up within
  ``confirm_s`` of stopping) instead of a controlled stop.
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

from heelraise.tempo import phase_verdict


@dataclass(frozen=True)
class FaultSettings:
    """Step 6's tuning beyond AnalyzerSettings: the bounce and the step-or-floor vote."""

    #: deg/s: a rebound at least this fast ...
    bounce_min_dps: float = 15.0
    #: ... and this fraction of the lowering's peak rate is a bounce
    bounce_fraction: float = 0.3
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


def looks_like_step(depth_deg: float, neutral_speed_dps: float, lower_peak_dps: float) -> bool:
    """One rep's evidence: did the lowering sweep through neutral at speed, well below it?"""
    return (
        depth_deg >= FAULT.step_depth_deg
        and neutral_speed_dps >= FAULT.through_neutral_fraction * lower_peak_dps
    )
