"""Two shoes: a left and a right sensor, one side weaker, each on its own clock.

The clinical single-leg heel-rise test is done on one side, then the other. A pair is
two sessions on one true time line: the first side works while the other shoe stands
still on the floor, then they swap (``order``). Each shoe is an independent sensor: its
own random stream (``SessionSpec.side``), so its own mounting, sensor site, biases, scale
errors and noise; its own clock, reading ``clock_offset_s`` at true time 0 and running
``clock_drift_ppm`` fast or slow. Each side's truth is in its own recording's time base.

The weaker side (``weaker``, the involved one) makes fewer reps per set
(``weak_reps_fraction`` of them, rounded, at least 1) and lower raises: its peak range is
``weak_heel_fraction`` of the session's. Each side draws its own heights within its range
(as it draws everything else), so the weaker side is lower by about that fraction, not
exactly; the truth's ``symmetry`` holds the exact LSIs of what was simulated.

>>> from heelraise.sim.pair import PairSpec, simulate_pair
>>> pair = simulate_pair(PairSpec(SessionSpec(sets=1, reps=10, seed=3), weaker="right"))
>>> pair.sides["left"].t_s, pair.sides["right"].t_s            # doctest: +SKIP
>>> pair.truth["symmetry"]["reps_lsi"]                          # right / left x 100
80.0
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from heelraise.settings import AnalyzerSettings
from heelraise.sim.session import (
    SessionSpec,
    SimulatedSession,
    clock_truth,
    script_duration_s,
    simulate_session,
)
from heelraise.symmetry import SIDES, check_side, side_totals, symmetry

#: Clock origins (s) and rate errors (ppm) drawn for each sensor when not given: boards
#: booted at different times, ceramic resonators and MEMS oscillators (+-0.1 %).
CLOCK_OFFSET_RANGE_S = (0.0, 900.0)
CLOCK_DRIFT_RANGE_PPM = (-1000.0, 1000.0)
#: The random stream of the clocks, apart from both sides' own (SIDE_STREAMS 1 and 2).
_CLOCK_STREAM = 3


@dataclass
class PairSpec:
    session: SessionSpec = field(default_factory=SessionSpec)  # what the stronger side does
    weaker: str = "right"  # the involved side
    weak_reps_fraction: float = 0.8  # its reps per set, a fraction of the stronger side's
    weak_heel_fraction: float = 0.8  # its heel height, a fraction of the stronger side's
    order: tuple[str, str] = ("left", "right")  # which side works first
    clock_offset_s: dict | None = None  # side -> offset; None: drawn (CLOCK_OFFSET_RANGE_S)
    clock_drift_ppm: dict | None = None  # side -> ppm; None: drawn (CLOCK_DRIFT_RANGE_PPM)


@dataclass
class SimulatedPair:
    spec: PairSpec
    sides: dict[str, SimulatedSession]
    truth: dict


def side_specs(spec: PairSpec) -> dict[str, SessionSpec]:
    """Each side's SessionSpec before the other side's turn is added around it."""
    check_side(spec.weaker, "weaker")
    if sorted(spec.order) != sorted(SIDES):
        raise ValueError(f"order must name left and right once each, not {spec.order!r}")
    for name in ("weak_reps_fraction", "weak_heel_fraction"):
        value = getattr(spec, name)
        if not 0 < value <= 1:
            raise ValueError(f"{name} must be above 0 and at most 1, not {value!r}")
    rng = np.random.default_rng([spec.session.seed, _CLOCK_STREAM])
    offsets = spec.clock_offset_s or {s: float(rng.uniform(*CLOCK_OFFSET_RANGE_S)) for s in SIDES}
    drifts = spec.clock_drift_ppm or {s: float(rng.uniform(*CLOCK_DRIFT_RANGE_PPM)) for s in SIDES}
    out = {}
    for side in SIDES:
        weak = side == spec.weaker
        reps = max(1, round(spec.session.reps * spec.weak_reps_fraction)) if weak else None
        out[side] = replace(
            spec.session,
            side=side,
            reps=reps or spec.session.reps,
            heel_scale=spec.weak_heel_fraction if weak else spec.session.heel_scale,
            clock_offset_s=round(offsets[side], 6),
            clock_drift_ppm=round(drifts[side], 3),
        )
    return out


def simulate_pair(spec: PairSpec | None = None) -> SimulatedPair:
    """Both shoes of one session, the ``order[0]`` side working first."""
    spec = spec or PairSpec()
    specs = side_specs(spec)
    first, second = spec.order
    # How long each side works: its session alone (standing time is added around it).
    work_s = {s: script_duration_s(specs[s]) for s in SIDES}
    sides = {
        first: simulate_session(replace(specs[first], rest_after_s=work_s[second])),
        second: simulate_session(replace(specs[second], rest_before_s=work_s[first])),
    }
    settings = AnalyzerSettings(
        foot_length_m=spec.session.foot_length_m, ball_fraction=spec.session.ball_fraction
    )
    totals = {
        s: side_totals([r["heel_rise_mm"] for r in sides[s].truth["reps"]], settings.body_mass_kg)
        for s in SIDES
    }
    truth = {
        "order": list(spec.order),
        "weaker": spec.weaker,
        "sides": {s: totals[s].to_dict() for s in SIDES},
        "symmetry": symmetry(totals, involved=spec.weaker),
        # (a side on true time, offset and drift 0, has no "clock" in its own truth)
        "clock": {s: clock_truth(specs[s]) for s in SIDES},
    }
    return SimulatedPair(spec, sides, truth)
