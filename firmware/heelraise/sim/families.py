"""Motion families: what people do with the instrumented foot, heel raises and not.

``SessionSpec.family`` picks one (``heelraise simulate --family``):

rep families (their truth holds the reps)
    ``classic``    the project's original motion (``session.py``; unchanged, so old figures
                   stay comparable): 0.7-2.2 s near-symmetric phases, flat holds.
    ``brisk``      raises as people do them: rise 0.25-0.6 s leaving rest at 150-250 deg/s
                   within ~0.1 s (``profiles.fast_onset``), lowering 1.1-2x slower
                   (0.5-2.2 s), a 1-2 deg overshoot then a 0.4-1.5 s plateau sagging
                   ~3 deg, bottom pauses 0.3-0.9 s or continuous cycling, ~7 deg/s RMS
                   of 5-25 Hz balance ripple, peaks 30-55 deg, no dip before the rise.
    ``slow``       controlled raises (rise 0.8-2.5 s, lowering 1-3 s) with every phase's
                   speed profile drawn from :data:`profiles.PROFILE_NAMES` (or the one
                   ``SessionSpec.profile`` names): steady middles, linear onsets, skews.
    ``deep_drop``  step sets that open with a heel drop / calf stretch deeper (18-32 deg)
                   than the raises then go above neutral (8-18 deg), and end with the
                   return from the last bottom to neutral (not a rep).

non-rep families (truth: zero reps; what the foot and shoe really do)
    ``slow_walk``  walking at 0.5-1 m/s: heel-off under 300 deg/s to just under 60 deg,
                   each slow stride right after a faster one now and then.
    ``shuffle``    shuffling: short, low strides, 10-25 deg of heel-off, turning on the spot.
    ``squat``      double-leg, single-leg and decline squats: the shoe stays flat (a few
                   deg of heel lift at depth, balance wobble on one leg) while the shank
                   moves; on the decline board the foot is pitched 15-30 deg heel-up for
                   the whole set, stepped onto and off.
    ``lunge``      lunges (the foot stepping forward, or back onto the ball of the foot
                   with the heel high) and split squats (rear foot on its toes for the set,
                   its pitch swinging 6-15 deg per rep around 30-50 deg).
    ``jump``       countermovement jumps: push-off plantarflexion at 250-450 deg/s, free
                   flight 0.3-0.55 s, landing on the ball then the heel, 3-8 g impacts.
    ``hop``        single-leg hops in place or forward, continuous, 0.2-0.35 s contacts.
    ``step_up``    step-ups and step-downs on a 0.15-0.35 m box, leading and trailing leg,
                   toe-first landings coming down.
    ``run``        running: 0.67-0.75 s strides, toe-off to 55-85 deg at 600-1000 deg/s,
                   heel or forefoot strike, 4-10 g impacts (clipped at the +-4 g range).

Ground truth: a rep's phase instants (``start_s``, ``top_start_s``, ``top_end_s``,
``end_s``) are the boundaries of the scripted movement segments, where the true angular
velocity of the rise / lowering starts and stops: the speed profiles start and end at rest
exactly there. Balance ripple, postural sway and sensor errors are added on top and do not
move them. The top plateau (overshoot settle and sag, slow) belongs to ``top_hold_s``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heelraise.sim import profiles
from heelraise.sim.script import HEEL_OFF_SHAPE, Script

REP_FAMILIES = ("classic", "brisk", "slow", "deep_drop")
NON_REP_FAMILIES = ("slow_walk", "shuffle", "squat", "lunge", "jump", "hop", "step_up", "run")
FAMILIES = REP_FAMILIES + NON_REP_FAMILIES
PROFILED_FAMILIES = ("brisk", "slow", "deep_drop")  # the ones SessionSpec.profile shapes

#: Sensor sites for the new families: a direction in the foot frame (origin at the ball of
#: the foot); the lever arm is drawn 5-15 cm along it (LEVER_RANGE_M).
SITE_DIRECTIONS = {
    "laces": (-0.7, 0.0, 0.7),
    "midfoot_lateral": (-0.9, -0.4, 0.35),
    "heel_counter": (-0.95, 0.0, 0.3),
    "ankle_strap": (-0.85, 0.3, 0.45),
}
LEVER_RANGE_M = (0.05, 0.15)  # what clip-on and strap sensors give, ball of the foot to chip


@dataclass
class Built:
    """What a family script produced: the true reps (instants only) and sets."""

    reps: list
    sets: list
    tempo_text: str = "X-X-X-X"  # targets the truth's too_fast / too_slow are judged by


def check(family: str, profile: str, surface: str = "step") -> None:
    """Refuse a family, profile or surface the simulator does not make, saying which."""
    if family not in FAMILIES:
        raise ValueError(f"unknown motion family {family!r}: choose from {', '.join(FAMILIES)}")
    if family == "deep_drop" and surface != "step":
        raise ValueError("the deep_drop family drops the heels below a step: surface 'step'")
    if profile != "mixed" and profile not in profiles.PROFILE_NAMES:
        raise ValueError(
            f"unknown speed profile {profile!r}: choose from mixed, "
            + ", ".join(profiles.PROFILE_NAMES)
        )
    if profile != "mixed" and family not in PROFILED_FAMILIES:
        raise ValueError(
            f"the speed profile applies to the {', '.join(PROFILED_FAMILIES)} families, "
            f"not to {family!r}"
        )


def sensor_position(rng: np.random.Generator, site: str = "random") -> tuple[str, np.ndarray]:
    """Where the sensor sits in the foot frame: along a site's direction, 5-15 cm out."""
    if site == "random":
        site = str(rng.choice(list(SITE_DIRECTIONS)))
    elif site not in SITE_DIRECTIONS:
        raise ValueError(
            f"unknown sensor site {site!r}: choose from random, {', '.join(SITE_DIRECTIONS)}"
        )
    d = np.asarray(SITE_DIRECTIONS[site], float)
    d = d / np.linalg.norm(d) + rng.normal(0, 0.1, 3)
    return site, d / np.linalg.norm(d) * rng.uniform(*LEVER_RANGE_M)


def build(sc: Script, rng: np.random.Generator, spec) -> Built:
    """Script the whole session of ``spec.family`` (not classic) into ``sc``."""
    check(spec.family, spec.profile, spec.surface)
    return _BUILDERS[spec.family](sc, rng, spec)


# -- shared pieces --------------------------------------------------------------------------


def _named_curve(name: str, fn):
    fn.profile_name = name  # recorded in the rep's truth
    return fn


def _curve(rng, spec):
    """The speed profile of one movement: the spec's, or one drawn per movement."""
    name = spec.profile if spec.profile != "mixed" else str(rng.choice(profiles.PROFILE_NAMES))
    return name, _named_curve(name, lambda n: profiles.named(name, n, rng))


def _walk_in(sc: Script, rng, spec) -> None:
    """Stand still (the chain's neutral), maybe walk a few ordinary strides to the spot
    (on half of the sessions; never with ``spec.walking`` off)."""
    sc.stand(rng.uniform(2.5, 4.0), 0.05)
    if spec.walking and rng.random() < 0.5:
        sc.walk(int(rng.integers(3, 6)), turn_at_end=True)
        sc.stand(rng.uniform(1.5, 2.5), 0.08)


def _faults_ok(floor: bool, family: str) -> list[str]:
    if floor:
        return ["ankle_roll", "bounce", "partial", "rocked_back"]
    if family == "deep_drop":  # raises of 8-18 deg have no room for a partial one
        return ["ankle_roll", "not_past_neutral"]
    return ["ankle_roll", "partial", "not_past_neutral"]


def _rep(
    sc: Script,
    rng,
    *,
    set_index,
    index,
    floor,
    peak,
    bottom,
    rise_s,
    rise_curve,
    top_s,
    overshoot,
    sag,
    lower_s,
    lower_curve,
    bottom_s,
    ripple,
    inject,
):
    """One raise: rise, top (overshoot settle + sag), lowering, bottom pause. Returns truth."""
    roll_top = rng.uniform(-3, 3)
    about_low = "ball"
    if inject == "ankle_roll":
        roll_top = rng.choice([-1, 1]) * rng.uniform(10, 15)
    elif inject == "not_past_neutral":
        bottom = rng.uniform(-0.5, 2.5)
    elif inject == "rocked_back":
        bottom = -rng.uniform(6, 12)
        about_low = "ball_then_heel"
    start = sc.t_s
    sc.move(rise_s, peak, roll_top, sway_deg=0.1, curve=rise_curve, ripple_dps=ripple)
    top_start = sc.t_s
    settle_s = min(rng.uniform(0.15, 0.25), 0.4 * top_s)
    sc.move(settle_s, peak - overshoot, sway_deg=0.2, curve=profiles.min_jerk, ripple_dps=ripple)
    sc.move(
        top_s - settle_s,
        peak - overshoot - sag,
        sway_deg=0.2,
        curve=profiles.cosine,
        ripple_dps=ripple,
    )
    top_end = sc.t_s
    if inject == "bounce":
        sc.move(lower_s, bottom, 0.0, sway_deg=0.0, shape=(2.0, 1.0), ripple_dps=ripple)
        end = sc.t_s
        sc.add_impact(rng.uniform(0.5, 1.2), 30.0)
        sc.move(rng.uniform(0.1, 0.14), bottom + rng.uniform(3.5, 6), sway_deg=0.0, shape=(1, 2.5))
        sc.move(rng.uniform(0.15, 0.22), bottom, sway_deg=0.0)
        sc.hold(max(0.05, bottom_s - 0.3), 0.05)
    else:
        sc.move(
            lower_s,
            bottom,
            0.0,
            sway_deg=0.1,
            about=about_low,
            curve=lower_curve,
            ripple_dps=ripple,
        )
        end = sc.t_s
        if about_low == "ball_then_heel":
            sc.hold(rng.uniform(0.1, 0.3), 0.05)
            sc.move(rng.uniform(0.4, 0.7), 0.0, about="heel", sway_deg=0.05)
        sc.hold(bottom_s, 0.03 if floor else 0.15, ripple_dps=0.0 if floor else 0.6 * ripple)
    return {
        "set": set_index,
        "index": index,
        "start_s": start,
        "top_start_s": top_start,
        "top_end_s": top_end,
        "end_s": end,
        "injected": inject,
        "rise_profile": rise_curve.profile_name,
        "lower_profile": "bounce" if inject == "bounce" else lower_curve.profile_name,
    }


def _set_record(reps, set_index):
    mine = [r for r in reps if r["set"] == set_index]
    return {
        "index": set_index,
        "rep_count": len(mine),
        "start_s": mine[0]["start_s"],
        "end_s": mine[-1]["end_s"],
    }


def _raise_sets(sc: Script, rng, spec, draw_rep, before_set=None, after_set=None) -> Built:
    """Sets of raises on the spec's surface; ``draw_rep(i, set_state)`` gives a rep's knobs."""
    floor = spec.surface == "floor"
    reps, sets = [], []
    _walk_in(sc, rng, spec)
    step_h = rng.uniform(0.12, 0.2)
    if not floor:
        sc.step_onto(step_h)
    for set_index in range(1, spec.sets + 1):
        sc.stand(rng.uniform(1.5, 2.5), 0.1)
        state = {"spec": spec, "floor": floor, "depth": 0.0 if floor else rng.uniform(5, 15)}
        state["continuous"] = rng.random() < 0.3
        if before_set is not None:
            before_set(sc, rng, state)
        for i in range(1, spec.reps + 1):
            inject = None
            if i > 1 and rng.random() < spec.fault_rate:
                inject = str(rng.choice(_faults_ok(floor, spec.family)))
            state["start_deg"] = sc.cur_pitch  # the rise starts from the last bottom
            knobs = draw_rep(rng, spec, state, i, inject)
            reps.append(
                _rep(sc, rng, set_index=set_index, index=i, floor=floor, inject=inject, **knobs)
            )
        if after_set is not None:
            after_set(sc, rng, state)
        sets.append(_set_record(reps, set_index))
        sc.stand(rng.uniform(9.0, 15.0) if set_index < spec.sets else rng.uniform(2, 3), 0.08)
    if not floor:
        sc.step_off(step_h)
        sc.stand(rng.uniform(1.0, 2.0), 0.05)
    return Built(reps, sets)


def _bottom(rng, state) -> float:
    return -state["depth"] * rng.normal(1.0, 0.08) if not state["floor"] else 0.0


def _pause(rng, state, lo=0.3, hi=0.9) -> float:
    return rng.uniform(0.02, 0.1) if state["continuous"] else rng.uniform(lo, hi)


# -- rep families ---------------------------------------------------------------------------


def _set_peak(rng, state, lo, hi) -> float:
    """Each set has its height; reps vary 4% around it (the truth's ``partial`` rule
    compares a rep with the set's best)."""
    if "peak0" not in state:
        state["peak0"] = rng.uniform(lo, hi)
    return float(np.clip(state["peak0"] * rng.normal(1.0, 0.04), lo, hi))


def _partial(rng, peak, bottom) -> float:
    """A partial rep: 40-60% of the height above neutral, still 8 deg above its bottom."""
    return max(peak * rng.uniform(0.4, 0.6), bottom + 8.0)


def _brisk_knobs(rng, spec, state, i, inject):
    bottom = _bottom(rng, state)
    peak = _set_peak(rng, state, 30, 55)
    amp = peak - state["start_deg"]
    # The rise's peak speed, 150-250 deg/s, within what keeps the rise 0.25-0.6 s long
    # (fast_onset peaks at 2 x the mean speed).
    rate = rng.uniform(max(150.0, 2 * amp / 0.6), min(250.0, 2 * amp / 0.25))
    rise_s = 2.0 * amp / rate
    # Rest to peak speed within ~0.1 s; no faster than 0.07 s, which with a 15 cm lever
    # already gives ~0.95 g of tangential acceleration (alpha x r) at the start.
    up_s = rng.uniform(0.07, 0.12)
    ripple = rng.uniform(5.0, 9.0)
    if inject == "partial":
        peak = _partial(rng, peak, bottom)
    lower_s = float(np.clip(rise_s * rng.uniform(1.1, 2.0), max(0.5, 1.1 * rise_s), 2.2))
    _, lower_curve = _curve(rng, spec)
    return dict(
        peak=peak,
        bottom=bottom,
        rise_s=rise_s,
        rise_curve=_named_curve(
            "fast_onset", lambda n: profiles.fast_onset(n, min(0.45, up_s / rise_s))
        ),
        top_s=rng.uniform(0.4, 1.5),
        overshoot=rng.uniform(1.0, 2.0),
        sag=rng.uniform(2.0, 4.0),
        lower_s=lower_s,
        lower_curve=lower_curve,
        bottom_s=_pause(rng, state),
        ripple=ripple,
    )


def _slow_knobs(rng, spec, state, i, inject):
    bottom = _bottom(rng, state)
    peak = _set_peak(rng, state, 25, 50)
    if inject == "partial":
        peak = _partial(rng, peak, bottom)
    _, rise_curve = _curve(rng, spec)
    _, lower_curve = _curve(rng, spec)
    return dict(
        peak=peak,
        bottom=bottom,
        rise_s=rng.uniform(0.8, 2.5),
        rise_curve=rise_curve,
        top_s=rng.uniform(0.3, 2.0),
        overshoot=rng.uniform(0.0, 1.0),
        sag=rng.uniform(0.0, 3.0),
        lower_s=rng.uniform(1.0, 3.0),
        lower_curve=lower_curve,
        bottom_s=_pause(rng, state, 0.3, 2.0),
        ripple=rng.uniform(3.0, 6.0),
    )


def _deep_knobs(rng, spec, state, i, inject):
    bottom = -rng.uniform(4, 12)
    peak = _set_peak(rng, state, 8, min(18, state["drop"] - 4))
    _, rise_curve = _curve(rng, spec)
    _, lower_curve = _curve(rng, spec)
    return dict(
        peak=peak,
        bottom=bottom,
        rise_s=rng.uniform(0.4, 1.2),
        rise_curve=rise_curve,
        top_s=rng.uniform(0.3, 1.5),
        overshoot=rng.uniform(0.0, 1.5),
        sag=rng.uniform(0.0, 3.0),
        lower_s=rng.uniform(0.6, 2.0),
        lower_curve=lower_curve,
        bottom_s=_pause(rng, state, 0.3, 1.2),
        ripple=rng.uniform(4.0, 8.0),
    )


def _heel_drop(sc: Script, rng, state):
    """Drop the heels below the step, deeper than the raises will go up, and stretch."""
    t0 = sc.t_s
    state["drop"] = rng.uniform(18, 32)
    _, curve = _curve(rng, state["spec"])
    sc.move(rng.uniform(0.8, 2.0), -state["drop"], sway_deg=0.2, curve=curve, ripple_dps=3.0)
    sc.hold(rng.uniform(3.0, 12.0), 0.25, ripple_dps=3.0)
    if rng.random() < 0.5:  # back up to neutral and stand before the first raise
        sc.move(rng.uniform(0.8, 1.5), 0.0, sway_deg=0.1, curve=curve)
        sc.stand(rng.uniform(1.0, 2.0), 0.1)
    sc.segments.append({"kind": "heel_drop_stretch", "start_s": t0, "end_s": sc.t_s})


def _back_to_neutral(sc: Script, rng, state):
    t0 = sc.t_s
    sc.move(rng.uniform(0.6, 1.2), 0.0, sway_deg=0.1, curve=profiles.min_jerk)
    sc.segments.append({"kind": "return_to_neutral", "start_s": t0, "end_s": sc.t_s})


def _brisk(sc, rng, spec):
    return _raise_sets(sc, rng, spec, _brisk_knobs)


def _slow(sc, rng, spec):
    return _raise_sets(sc, rng, spec, _slow_knobs)


def _deep_drop(sc, rng, spec):
    return _raise_sets(
        sc, rng, spec, _deep_knobs, before_set=_heel_drop, after_set=_back_to_neutral
    )


_BUILDERS = {"brisk": _brisk, "slow": _slow, "deep_drop": _deep_drop}


# -- non-rep families -----------------------------------------------------------------------
# Each scripts a short session: stand still first (the chain's neutral), maybe walk to the
# spot, one or two bouts of the activity with a rest, stand. Their truth holds no reps.

_HEEL_OFF_PEAK = profiles.peak_rate(profiles.beta_profile(2000, *HEEL_OFF_SHAPE))
_SWING_PEAK = profiles.peak_rate(profiles.beta_profile(2000, 2.5, 2.5))


def _heel_off_s(deg: float, rate_dps: float) -> float:
    """Duration of a gait heel-off of ``deg`` whose pitch rate peaks at ``rate_dps``."""
    return _HEEL_OFF_PEAK * deg / rate_dps


def _segment(sc: Script, kind: str, t0: float, **extra) -> None:
    sc.segments.append({"kind": kind, "start_s": t0, "end_s": sc.t_s, **extra})


def _bouts(sc: Script, rng, spec, activity, kind: str) -> Built:
    _walk_in(sc, rng, spec)
    for bout in range(int(rng.integers(1, 3))):
        if bout:
            sc.stand(rng.uniform(4.0, 9.0), 0.1)
        t0 = sc.t_s
        extra = activity(sc, rng) or {}
        _segment(sc, kind, t0, **extra)
    sc.stand(rng.uniform(2.0, 3.0), 0.05)
    return Built([], [])


def _slow_stride(sc: Script, rng, turn_rad=0.0) -> None:
    """0.5-1 m/s: heel-off to just under 60 deg, every pitch rate under 300 deg/s."""
    speed = rng.uniform(0.5, 1.0)
    heel_off = rng.uniform(50.0, 59.0)
    heel_s = _heel_off_s(heel_off, rng.uniform(200.0, 290.0))
    strike = -rng.uniform(5.0, 15.0)
    swing_min = _SWING_PEAK * (heel_off - strike) / 285.0  # the swing stays under 300 too
    period = max(rng.uniform(1.15, 1.6), 0.3 * 1.6 + heel_s + swing_min + 0.12)
    sc.gait_stride(
        period,
        speed * period,
        heel_off,
        heel_s,
        lift_m=rng.uniform(0.04, 0.08),
        strike_deg=strike,
        impact_g=rng.uniform(1.0, 2.5),
        turn_rad=turn_rad,
        stance_s=0.3 * 1.6,
    )


def _slow_walk(sc, rng, spec):
    def walk(sc, rng):
        strides = int(rng.integers(8, 15))
        fast_at = set(rng.choice(np.arange(1, strides - 1), size=2, replace=False).tolist())
        out = []
        for i in range(strides):
            turn = rng.choice([-1, 1]) * rng.uniform(2.0, 3.0) if i == strides // 2 else 0.0
            t0 = sc.t_s
            if i in fast_at:  # a faster stride, then straight back to slow ones
                sc.stride(rng.uniform(0.95, 1.1), rng.uniform(1.2, 1.5), turn)
            else:
                _slow_stride(sc, rng, turn + rng.uniform(-0.2, 0.2))
            out.append([round(t0, 4), round(sc.t_s, 4), "fast" if i in fast_at else "slow"])
        return {"strides": out}

    return _bouts(sc, rng, spec, walk, "slow_walk")


def _shuffle(sc, rng, spec):
    def shuffle(sc, rng):
        for _ in range(int(rng.integers(8, 18))):
            heel = rng.uniform(8.0, 25.0)
            sc.gait_stride(
                rng.uniform(0.8, 1.3),
                rng.uniform(0.15, 0.4),
                heel,
                _heel_off_s(heel, rng.uniform(60.0, 200.0)),
                lift_m=rng.uniform(0.01, 0.03),
                strike_deg=-rng.uniform(0.0, 6.0),
                impact_g=rng.uniform(0.4, 1.2),
                turn_rad=rng.uniform(-0.8, 0.8),
            )
            if rng.random() < 0.2:
                sc.stand(rng.uniform(0.3, 1.0), 0.1)

    return _bouts(sc, rng, spec, shuffle, "shuffle")


def _squat_reps(sc: Script, rng, *, heel_lift, roll, sway, ripple, base=0.0) -> None:
    """Squats: the shank moves, the shoe stays (nearly) where it is."""
    for _ in range(int(rng.integers(8, 15))):
        lift = base + rng.uniform(0.0, heel_lift)
        r = rng.uniform(-roll, roll)
        sc.move(
            rng.uniform(1.0, 2.0),
            lift,
            r,
            sway_deg=sway,
            curve=profiles.min_jerk,
            ripple_dps=ripple,
        )
        sc.hold(rng.uniform(0.2, 1.0), sway, ripple_dps=ripple)
        sc.move(
            rng.uniform(1.0, 2.0),
            base,
            0.0,
            sway_deg=sway,
            curve=profiles.min_jerk,
            ripple_dps=ripple,
        )
        sc.hold(rng.uniform(0.3, 1.5), sway, ripple_dps=0.5 * ripple)


def _squat(sc, rng, spec):
    variant = str(rng.choice(["double", "single_leg", "decline"]))

    def squat(sc, rng):
        if variant == "double":
            _squat_reps(sc, rng, heel_lift=4.0, roll=1.0, sway=0.1, ripple=1.0)
        elif variant == "single_leg":
            _squat_reps(sc, rng, heel_lift=5.0, roll=4.0, sway=0.4, ripple=rng.uniform(3, 6))
        else:  # onto a decline board (heel high), squat, step off
            board = rng.uniform(15.0, 30.0)
            heel = board + rng.uniform(10.0, 25.0)
            sc.gait_stride(
                1.2,
                rng.uniform(0.3, 0.5),
                heel,
                _heel_off_s(heel, 250.0),
                lift_m=0.06,
                strike_deg=board + rng.uniform(3.0, 8.0),
                impact_g=rng.uniform(0.8, 1.6),
                rise_m=0.03,
                settle_to_deg=board,
            )
            sc.stand(rng.uniform(1.0, 2.0), 0.1)
            _squat_reps(sc, rng, heel_lift=1.5, roll=1.5, sway=0.15, ripple=1.5, base=board)
            heel = board + rng.uniform(10.0, 20.0)
            sc.gait_stride(
                1.2,
                -rng.uniform(0.3, 0.5),
                heel,
                _heel_off_s(heel, 250.0),
                lift_m=0.05,
                strike_deg=rng.uniform(3.0, 10.0),
                impact_g=rng.uniform(0.8, 1.6),
                rise_m=0.0,
            )
        return {"variant": variant}

    return _bouts(sc, rng, spec, squat, "squat")


def _lunge(sc, rng, spec):
    variant = str(rng.choice(["forward", "reverse", "split_squat"]))

    def step_back_onto_toes(sc, rng):
        toes = rng.uniform(30.0, 50.0)
        heel = rng.uniform(15.0, 35.0)
        length = rng.uniform(0.6, 0.9)
        sc.gait_stride(
            rng.uniform(1.0, 1.3),
            -length,
            heel,
            _heel_off_s(heel, 200.0),
            lift_m=rng.uniform(0.04, 0.08),
            strike_deg=toes + rng.uniform(2, 6),
            impact_g=rng.uniform(1.0, 2.0),
            settle_to_deg=toes,
        )
        return toes, length

    def lunge_on_toes(sc, rng, toes, ripple):
        deeper = toes + rng.uniform(6.0, 15.0)  # the rear knee drops, the heel points up
        sc.move(
            rng.uniform(1.0, 2.0), deeper, sway_deg=0.3, curve=profiles.min_jerk, ripple_dps=ripple
        )
        sc.hold(rng.uniform(0.2, 0.8), 0.3, ripple_dps=ripple)
        sc.move(
            rng.uniform(1.0, 2.0), toes, sway_deg=0.3, curve=profiles.min_jerk, ripple_dps=ripple
        )

    def come_forward(sc, rng, length):
        heel = sc.cur_pitch + rng.uniform(5.0, 15.0)
        sc.gait_stride(
            rng.uniform(1.0, 1.3),
            length,
            heel,
            _heel_off_s(heel, 250.0),
            lift_m=rng.uniform(0.04, 0.08),
            strike_deg=-rng.uniform(3.0, 10.0),
            impact_g=rng.uniform(1.0, 2.5),
            stance_s=0.05,
        )

    def lunge(sc, rng):
        ripple = rng.uniform(3.0, 6.0)
        if variant == "forward":  # this foot steps out, the shoe stays flat, then back
            for _ in range(int(rng.integers(6, 11))):
                length = rng.uniform(0.6, 0.9)
                heel = rng.uniform(15.0, 35.0)
                sc.gait_stride(
                    1.2,
                    length,
                    heel,
                    _heel_off_s(heel, 250.0),
                    lift_m=0.06,
                    strike_deg=-rng.uniform(5.0, 15.0),
                    impact_g=rng.uniform(1.5, 3),
                )
                sc.move(rng.uniform(1.0, 2.0), rng.uniform(0.0, 3.0), curve=profiles.min_jerk)
                sc.move(rng.uniform(1.0, 2.0), 0.0, curve=profiles.min_jerk)
                heel = rng.uniform(10.0, 30.0)
                sc.gait_stride(
                    1.1,
                    -length,
                    heel,
                    _heel_off_s(heel, 250.0),
                    lift_m=0.04,
                    strike_deg=rng.uniform(5.0, 15.0),
                    impact_g=rng.uniform(1, 2),
                    stance_s=0.1,
                )
                sc.stand(rng.uniform(0.5, 1.5), 0.1)
        elif variant == "reverse":  # this foot steps back onto its toes, lunge, come back
            for _ in range(int(rng.integers(6, 11))):
                toes, length = step_back_onto_toes(sc, rng)
                lunge_on_toes(sc, rng, toes, ripple)
                come_forward(sc, rng, length)
                sc.stand(rng.uniform(0.5, 1.5), 0.1)
        else:  # split squat: the rear foot stays on its toes for the whole set
            toes, length = step_back_onto_toes(sc, rng)
            for _ in range(int(rng.integers(8, 13))):
                lunge_on_toes(sc, rng, toes, ripple)
                sc.hold(rng.uniform(0.3, 1.0), 0.3, ripple_dps=ripple)
            come_forward(sc, rng, length)
        return {"variant": variant}

    return _bouts(sc, rng, spec, lunge, "lunge")


def _take_off(sc: Script, rng, rate_lo, rate_hi) -> None:
    push = rng.uniform(35.0, 55.0)
    sc.move(
        1.875 * (push - sc.cur_pitch) / rng.uniform(rate_lo, rate_hi),
        push,
        sway_deg=0.0,
        curve=profiles.min_jerk,
    )


def _land(sc: Script, rng, heel_to, impact_lo, impact_hi) -> None:
    sc.add_impact(rng.uniform(impact_lo, impact_hi), rng.uniform(25, 45))  # ball first
    sc.move(rng.uniform(0.08, 0.15), heel_to, sway_deg=0.0, shape=(1.5, 2.5))
    if heel_to <= 0.5:
        sc.add_impact(rng.uniform(1.0, 3.0), rng.uniform(25, 45))  # then the heel


def _jump(sc, rng, spec):
    def jumps(sc, rng):
        for _ in range(int(rng.integers(4, 10))):
            sc.hold(rng.uniform(0.3, 0.6), 0.1)  # the countermovement: knees bend, shoe flat
            _take_off(sc, rng, 250.0, 450.0)
            d = sc.forward() * rng.uniform(0.0, 0.4)
            sc.fly(rng.uniform(0.3, 0.55), d[:2], rng.uniform(10.0, 25.0))
            _land(sc, rng, 0.0, 3.0, 8.0)
            sc.stand(rng.uniform(0.8, 3.0), 0.15)

    return _bouts(sc, rng, spec, jumps, "jump")


def _hop(sc, rng, spec):
    def hops(sc, rng):
        forward = rng.random() < 0.5
        for _ in range(int(rng.integers(8, 20))):
            _take_off(sc, rng, 250.0, 500.0)
            d = sc.forward() * (rng.uniform(0.2, 0.6) if forward else rng.uniform(0.0, 0.1))
            sc.fly(rng.uniform(0.25, 0.4), d[:2], rng.uniform(15.0, 30.0))
            _land(sc, rng, rng.uniform(0.0, 8.0), 2.5, 6.0)
        sc.move(0.15, 0.0, sway_deg=0.0)
        sc.stand(rng.uniform(0.5, 1.0), 0.2)
        return {"forward": forward}

    return _bouts(sc, rng, spec, hops, "hop")


def _step_up(sc, rng, spec):
    box = rng.uniform(0.15, 0.35)
    variant = str(rng.choice(["step_up", "step_down"]))

    def up(sc, rng, lead):
        heel = rng.uniform(20.0, 40.0) if lead else rng.uniform(30.0, 50.0)
        sc.gait_stride(
            rng.uniform(1.1, 1.4),
            rng.uniform(0.3, 0.45),
            heel,
            _heel_off_s(heel, rng.uniform(150.0, 300.0)),
            lift_m=box * 0.5 + rng.uniform(0.05, 0.1),
            strike_deg=-rng.uniform(0.0, 8.0),
            impact_g=rng.uniform(1.0, 2.0),
            rise_m=box,
        )

    def down(sc, rng, backward):
        heel = rng.uniform(5.0, 20.0)
        length = -rng.uniform(0.3, 0.45) if backward else rng.uniform(0.3, 0.45)
        sc.gait_stride(
            rng.uniform(1.1, 1.4),
            length,
            heel,
            _heel_off_s(heel, 150.0),
            lift_m=0.03,
            strike_deg=rng.uniform(10.0, 25.0),
            impact_g=rng.uniform(1.5, 3.0),
            rise_m=0.0,
        )

    def steps(sc, rng):
        for _ in range(int(rng.integers(5, 10))):
            if variant == "step_up":  # up forwards, down backwards, leading or trailing
                lead = rng.random() < 0.5
                if not lead:
                    sc.stand(rng.uniform(0.4, 0.8), 0.1)  # the other foot goes up first
                up(sc, rng, lead)
                sc.stand(rng.uniform(0.6, 1.5), 0.1)
                down(sc, rng, backward=True)
            else:  # step-downs: from the box, this foot reaches down to the floor and back
                up(sc, rng, True)
                sc.stand(rng.uniform(0.5, 1.0), 0.1)
                down(sc, rng, backward=False)
                sc.stand(rng.uniform(0.3, 0.8), 0.1)
                heel = rng.uniform(15.0, 35.0)
                sc.gait_stride(
                    1.2,
                    -rng.uniform(0.3, 0.45),
                    heel,
                    _heel_off_s(heel, 200.0),
                    lift_m=box * 0.5 + 0.05,
                    strike_deg=rng.uniform(3.0, 10.0),
                    impact_g=rng.uniform(1.0, 2.0),
                    rise_m=box,
                )
                sc.stand(rng.uniform(0.5, 1.0), 0.1)
                down(sc, rng, backward=True)
            sc.stand(rng.uniform(0.5, 1.5), 0.1)
        return {"variant": variant, "box_m": round(box, 3)}

    return _bouts(sc, rng, spec, steps, "step_up")


def _run(sc, rng, spec):
    def run(sc, rng):
        forefoot = rng.random() < 0.3
        strides = int(rng.integers(10, 24))
        for i in range(strides):
            heel = rng.uniform(55.0, 85.0)
            turn = rng.choice([-1, 1]) * rng.uniform(2.0, 3.0) if i == strides // 2 else 0.0
            # 2.3-3.5 m/s at 160-180 steps a minute: ground contact 0.2-0.35 s (flat, then
            # toe-off), the rest in the air.
            period = rng.uniform(0.67, 0.75)
            sc.gait_stride(
                period,
                period * rng.uniform(2.3, 3.5),
                heel,
                _heel_off_s(heel, rng.uniform(600.0, 1000.0)),
                lift_m=rng.uniform(0.1, 0.2),
                strike_deg=rng.uniform(3.0, 12.0) if forefoot else -rng.uniform(5.0, 15.0),
                impact_g=rng.uniform(4.0, 10.0),
                turn_rad=turn + rng.uniform(-0.1, 0.1),
                stance_s=rng.uniform(0.1, 0.15),
            )
        return {"forefoot": forefoot}

    return _bouts(sc, rng, spec, run, "run")


_BUILDERS.update(
    {
        "slow_walk": _slow_walk,
        "shuffle": _shuffle,
        "squat": _squat,
        "lunge": _lunge,
        "jump": _jump,
        "hop": _hop,
        "step_up": _step_up,
        "run": _run,
    }
)
