"""Simulated sessions with ground truth: the workout, what is not a rep, and the sensor.

>>> from heelraise.sim import SessionSpec, simulate_session
>>> sim = simulate_session(SessionSpec(sets=3, reps=10, tempo="3-1-2-0", surface="step", seed=1))
>>> sim.t_s.shape, sim.acc_g.shape, sim.gyr_dps.shape      # the recording
((25829,), (25829, 3), (25829, 3))
>>> sim.truth["rep_count"], sim.truth["reps"][0]["raise_s"]   # what really happened
(30, 2.031)
>>> sim.truth["not_reps"][0]                                  # and what was not a rep
{'kind': 'walking', 'start_s': 2.716, 'end_s': 11.067}

``SessionSpec.family`` picks the motion (:mod:`heelraise.sim.families`, where the ground
truth of the phase instants is defined: the boundaries of the scripted movement segments,
where the true angular velocity starts and stops); "classic", the default, is the original
motion, made here exactly as before the families existed.

Truth faults are judged on the true kinematics with the same rules the
analysis documents (a rolled ankle is >= 8 degrees of true roll, and so on), so
a fault the simulator did not intend but the motion shows still counts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from heelraise.events import REP_DECIMALS
from heelraise.settings import AnalyzerSettings
from heelraise.sim import families
from heelraise.sim.kinematics import Motion, random_rotation
from heelraise.sim.script import FINE_HZ, Script
from heelraise.sim.sensor import SensorModel
from heelraise.tempo import Tempo, phase_verdict

#: Where on the shoe a sensor may sit, in the foot frame (origin at the ball of the foot).
MOUNT_SITES_M = {
    "laces": (-0.07, 0.0, 0.07),
    "midfoot_lateral": (-0.10, -0.045, 0.04),
    "heel_counter": (-0.21, 0.0, 0.06),
    "ankle_strap": (-0.17, 0.04, 0.09),
}


#: Each shoe draws from its own random stream: ``default_rng([seed, SIDE_STREAMS[side]])``.
SIDE_STREAMS = {"left": 1, "right": 2}
#: Crystal-free MEMS clocks and loggers stay within this; more is a mistake in the spec.
MAX_CLOCK_DRIFT_PPM = 20000.0


@dataclass
class SessionSpec:
    sets: int = 3
    reps: int = 10
    tempo: str = "3-0-2-1"
    surface: str = "step"  # "floor" or "step"
    rate_hz: float = 100.0
    seed: int = 0
    fault_rate: float = 0.15  # chance a rep (after the first of a set) carries a form fault
    walking: bool = True  # walk before, between and after the sets
    distractors: bool = True  # toe taps, weight shifts during rests
    walk_only: bool = False  # no reps at all: standing, walking, stepping, taps
    stretch_first: bool = False  # on a step, drop the heels and hold a calf stretch before a set
    rest_s: tuple[float, float] = (15.0, 35.0)
    mount: str = "random"  # a MOUNT_SITES_M key, or "random"
    ideal_sensor: bool = False
    foot_length_m: float = 0.26
    ball_fraction: float = 0.73
    family: str = "classic"  # a heelraise.sim.families.FAMILIES name
    profile: str = "mixed"  # speed profile of the brisk / slow / deep_drop movements
    side: str | None = None  # "left" / "right": which shoe (its own random stream), or None
    heel_scale: float = 1.0  # a weaker side's heel height, a fraction of the drawn peaks
    rest_before_s: float = 0.0  # standing still before the workout (the other side's turn)
    rest_after_s: float = 0.0  # standing still after it
    clock_offset_s: float = 0.0  # the sensor clock's reading at true time 0
    clock_drift_ppm: float = 0.0  # the sensor clock's rate error (ppm, + runs fast)


@dataclass
class SimulatedSession:
    spec: SessionSpec
    t_s: np.ndarray
    acc_g: np.ndarray
    gyr_dps: np.ndarray
    motion: Motion
    truth: dict = field(default_factory=dict)


def simulate_session(spec: SessionSpec | None = None, **overrides) -> SimulatedSession:
    spec = spec or SessionSpec()
    if overrides:
        spec = SessionSpec(**{**asdict(spec), **overrides})
    if spec.surface not in ("floor", "step"):
        raise ValueError(f"surface must be 'floor' or 'step', not {spec.surface!r}")
    families.check(spec.family, spec.profile, spec.surface)
    if spec.mount != "random" and spec.mount not in MOUNT_SITES_M:
        raise ValueError(
            f"unknown sensor site {spec.mount!r}: choose from random, {', '.join(MOUNT_SITES_M)}"
        )
    if spec.side is not None and spec.side not in SIDE_STREAMS:
        raise ValueError(f"side must be 'left', 'right' or None, not {spec.side!r}")
    if not 0 < spec.heel_scale <= 1:
        raise ValueError(f"heel_scale must be above 0 and at most 1, not {spec.heel_scale!r}")
    if spec.rest_before_s < 0 or spec.rest_after_s < 0:
        raise ValueError("rest_before_s and rest_after_s must be 0 or more")
    if abs(spec.clock_drift_ppm) > MAX_CLOCK_DRIFT_PPM:
        raise ValueError(
            f"clock_drift_ppm {spec.clock_drift_ppm!r} is beyond +-{MAX_CLOCK_DRIFT_PPM:g} ppm"
        )
    rng, sc, reps, sets, tempo, extra = _script(spec)
    if spec.family == "classic":
        site = spec.mount if spec.mount != "random" else rng.choice(list(MOUNT_SITES_M))
        sensor_pos = np.array(MOUNT_SITES_M[site]) + rng.normal(0, 0.01, 3)
    else:
        site, sensor_pos = families.sensor_position(rng, spec.mount)
    mount = random_rotation(rng)
    motion = sc.render(sensor_pos, mount)
    sensor = SensorModel(rate_hz=spec.rate_hz, ideal=spec.ideal_sensor)
    errors: dict = {}
    t_s, acc_g, gyr_dps = sensor.record(motion, rng, errors)

    _finish_truth(reps, motion, spec, tempo)
    truth = {
        "spec": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(spec).items()},
        **extra,
        "mount_site": str(site),
        "mount_matrix": mount.round(6).tolist(),
        "sensor_pos_m": sensor_pos.round(4).tolist(),
        # the sensor's drawn gains and offsets (reading = matrix @ true + offset), the bias
        # before its drift and thermal swing
        "sensor_errors": {k: np.round(v, 6).tolist() for k, v in errors.items()},
    }
    if extra:
        truth["lever_m"] = round(float(np.linalg.norm(sensor_pos)), 4)
    truth.update(rep_count=len(reps), sets=sets, reps=reps, not_reps=sc.segments)
    if spec.side is not None:
        truth["side"] = spec.side
    if spec.clock_offset_s or spec.clock_drift_ppm:
        t_s = _sensor_clock(t_s, spec)
        _truth_on_sensor_clock(truth, spec)
    return SimulatedSession(spec, t_s, acc_g, gyr_dps, motion, truth)


def script_duration_s(spec: SessionSpec) -> float:
    """How long ``spec``'s session lasts (true time), without rendering or sampling it."""
    return _script(spec)[1].t_s


def _script(spec: SessionSpec):
    """The motion script of ``spec``: (rng, script, true reps, sets, tempo, family truth)."""
    seed = spec.seed if spec.side is None else [spec.seed, SIDE_STREAMS[spec.side]]
    rng = np.random.default_rng(seed)
    sc = Script(rng, spec.foot_length_m, spec.ball_fraction)
    if spec.rest_before_s > 0:
        sc.stand(spec.rest_before_s, 0.05)
    if spec.family == "classic":
        tempo = Tempo.parse(spec.tempo)
        reps, sets = _classic_script(sc, rng, spec, tempo)
        extra = {}
    else:
        built = families.build(sc, rng, spec)
        reps, sets = built.reps, built.sets
        tempo = Tempo.parse(built.tempo_text)
        extra = {
            "family": spec.family,
            "counts_reps": spec.family in families.REP_FAMILIES,
            "truth_tempo": built.tempo_text,
        }
    if spec.rest_after_s > 0:
        sc.stand(spec.rest_after_s, 0.05)
    return rng, sc, reps, sets, tempo, extra


def _classic_script(sc: Script, rng, spec: SessionSpec, tempo: Tempo):
    """The classic motion (unchanged: the same sessions for the same seeds): reps, sets."""
    step_h = rng.uniform(0.12, 0.2)
    reps: list[dict] = []
    sets: list[dict] = []

    sc.stand(rng.uniform(2.5, 4.0), 0.05)
    if spec.walking or spec.walk_only:
        sc.walk(int(rng.integers(4, 9)), turn_at_end=True)
        sc.stand(rng.uniform(1.0, 2.5), 0.08)
    on_step = False
    n_sets = 0 if spec.walk_only else spec.sets
    for set_index in range(1, n_sets + 1):
        if spec.surface == "step" and not on_step:
            sc.step_onto(step_h)
            on_step = True
        sc.stand(rng.uniform(1.0, 2.5), 0.1)
        reps += _one_set(sc, rng, spec, tempo, set_index)
        set_reps = [r for r in reps if r["set"] == set_index]
        sets.append(
            {
                "index": set_index,
                "rep_count": len(set_reps),
                "start_s": set_reps[0]["start_s"],
                "end_s": set_reps[-1]["end_s"],
            }
        )
        if set_index < n_sets:
            _rest(sc, rng, spec, step_h, on_step)
            on_step = on_step and not sc.segments[-1]["kind"] == "walking"
            if spec.surface == "step" and sc.cur_origin[2] < step_h / 2:
                on_step = False
    if spec.walk_only:
        for _ in range(3):
            _rest(sc, rng, spec, step_h, on_step=False)
            if rng.random() < 0.5:
                sc.step_onto(step_h)
                sc.stand(rng.uniform(2, 5), 0.1)
                sc.step_off(step_h)
    sc.stand(rng.uniform(2.0, 4.0), 0.08)
    if spec.walking or spec.walk_only:
        if on_step:
            sc.step_off(step_h)
        sc.walk(int(rng.integers(3, 7)))
        sc.stand(1.0, 0.05)
    return reps, sets


def _sensor_clock(t_true_s, spec: SessionSpec):
    """True time -> the sensor's clock: its own origin and an oscillator off by ppm."""
    return spec.clock_offset_s + np.asarray(t_true_s) * (1.0 + spec.clock_drift_ppm * 1e-6)


#: Truth fields that are instants (moved onto the sensor clock) and durations (scaled by it).
_INSTANTS = ("start_s", "top_start_s", "top_end_s", "end_s")
_DURATIONS = ("raise_s", "top_hold_s", "lower_s", "bottom_hold_s")


def _truth_on_sensor_clock(truth: dict, spec: SessionSpec) -> None:
    """Put every time of the truth in the recording's time base (the sensor's clock)."""
    scale = 1.0 + spec.clock_drift_ppm * 1e-6
    for item in truth["reps"] + truth["sets"] + truth["not_reps"]:
        for key in _INSTANTS:
            if item.get(key) is not None:
                item[key] = round(float(_sensor_clock(item[key], spec)), 6)
        for key in _DURATIONS:
            if item.get(key) is not None:
                item[key] = round(item[key] * scale, 6)
    truth["clock"] = clock_truth(spec)


def clock_truth(spec: SessionSpec) -> dict:
    """The sensor clock a session's recording is on: its offset at true time 0 and drift."""
    return {"offset_s": spec.clock_offset_s, "drift_ppm": spec.clock_drift_ppm}


def _jitter(rng, target, spread=0.08):
    return max(0.25, target * rng.normal(1.0, spread))


def _one_set(sc: Script, rng, spec: SessionSpec, tempo: Tempo, set_index: int) -> list[dict]:
    floor = spec.surface == "floor"
    peak0 = rng.uniform(26, 40) * spec.heel_scale
    depth0 = 0.0 if floor else rng.uniform(8, 20)
    out = []
    faults_ok = (
        ["ankle_roll", "bounce", "partial", "rocked_back", "too_fast", "too_slow"]
        if floor
        else ["ankle_roll", "bounce", "partial", "not_past_neutral", "too_fast", "too_slow"]
    )
    if spec.stretch_first and not floor:
        # Heels dropped below the step and held: the first big, held movement of the set is
        # a dorsiflexion, not a raise. The first rep then rises from this bottom.
        sc.move(rng.uniform(1.0, 2.0), -depth0 * rng.uniform(1.0, 1.3), sway_deg=0.2)
        sc.hold(rng.uniform(2.0, 4.0), 0.25)
    for i in range(1, spec.reps + 1):
        fatigue = (i - 1) / max(1, spec.reps - 1)
        inject = None
        if i > 1 and rng.random() < spec.fault_rate:
            inject = str(rng.choice(faults_ok))

        def phase(target, explosive=(0.5, 0.9)):
            if target is None:
                return rng.uniform(*explosive)
            return _jitter(rng, target)

        raise_s = phase(tempo.raise_s)
        top_s = max(
            0.05, phase(tempo.top_s, (0.05, 0.2)) if tempo.top_s else rng.uniform(0.05, 0.2)
        )
        lower_s = phase(tempo.lower_s)
        bottom_s = (
            max(0.05, phase(tempo.bottom_s, (0.05, 0.2)))
            if tempo.bottom_s
            else rng.uniform(0.08, 0.25)
        )
        lower_s *= 1 - 0.1 * fatigue  # lowering gets hurried as the calf tires
        peak = peak0 * rng.normal(1.0, 0.04) * (1 - 0.08 * fatigue)
        bottom = -depth0 * rng.normal(1.0, 0.08)
        roll_top = rng.uniform(-3, 3)
        about_low = "ball"
        if inject == "ankle_roll":
            roll_top = rng.choice([-1, 1]) * rng.uniform(10, 15)
        elif inject == "partial":
            peak *= rng.uniform(0.4, 0.6)
        elif inject == "not_past_neutral":
            bottom = rng.uniform(-0.5, 2.5)
        elif inject == "rocked_back":
            bottom = -rng.uniform(6, 12)
            about_low = "ball_then_heel"
        elif inject == "too_fast":
            # Rushed, not ballistic: a heel raise takes 0.4 s at the very least.
            raise_s, lower_s = max(0.4, raise_s * 0.35), max(0.45, lower_s * 0.35)
        elif inject == "too_slow":
            raise_s, lower_s = raise_s * 2.0, lower_s * 2.0
        start = sc.t_s
        sc.move(raise_s, peak, roll_top, sway_deg=0.15)
        top_start = sc.t_s
        sc.hold(top_s, 0.35)
        top_end = sc.t_s
        if inject == "bounce":
            lower_s = rng.uniform(0.6, 0.9)
            sc.move(lower_s, bottom, 0.0, sway_deg=0.0, shape=(2.0, 1.0))
            end = sc.t_s
            sc.add_impact(rng.uniform(0.5, 1.2) if floor else rng.uniform(0.2, 0.4), 30.0)
            sc.move(
                rng.uniform(0.1, 0.14), bottom + rng.uniform(3.5, 6), sway_deg=0.0, shape=(1.0, 2.5)
            )
            sc.move(rng.uniform(0.15, 0.22), bottom, sway_deg=0.0)
            sc.hold(rng.uniform(0.05, 0.15), 0.05)
        else:
            sc.move(lower_s, bottom, 0.0, sway_deg=0.15, about=about_low)
            end = sc.t_s
            if about_low == "ball_then_heel":
                sc.hold(rng.uniform(0.1, 0.3), 0.05)
                sc.move(rng.uniform(0.4, 0.7), 0.0, about="heel", sway_deg=0.05)
            sc.hold(bottom_s, 0.03 if floor else 0.25)
        out.append(
            {
                "set": set_index,
                "index": i,
                "start_s": start,
                "top_start_s": top_start,
                "top_end_s": top_end,
                "end_s": end,
                "injected": inject,
            }
        )
    return out


def _rest(sc: Script, rng, spec: SessionSpec, step_h: float, on_step: bool):
    target = rng.uniform(*spec.rest_s)
    t_end = sc.t_s + target
    sc.stand(rng.uniform(2.0, 4.0), 0.1)
    if spec.walking and rng.random() < 0.6:
        if on_step:
            sc.step_off(step_h)
        sc.walk(int(rng.integers(2, 5)), turn_at_end=True)
        sc.walk(int(rng.integers(2, 5)), turn_at_end=True)
        sc.stand(rng.uniform(1.0, 2.0), 0.08)
    if spec.distractors:
        for _ in range(int(rng.integers(1, 4))):
            if rng.random() < 0.5:
                sc.weight_shift()
            else:
                sc.toe_taps(int(rng.integers(2, 6)))
            sc.stand(rng.uniform(0.8, 2.0), 0.08)
    if sc.t_s < t_end:
        sc.stand(t_end - sc.t_s, 0.08)


def _finish_truth(reps: list[dict], motion: Motion, spec: SessionSpec, tempo: Tempo):
    """Durations, ranges and rule-based faults from the true kinematics."""
    settings = AnalyzerSettings(foot_length_m=spec.foot_length_m, ball_fraction=spec.ball_fraction)
    pitch, roll, t = motion.pitch_deg, motion.roll_deg, motion.t_s

    def idx(x):
        return int(round(x * FINE_HZ))

    best: dict[int, float] = {}
    for k, r in enumerate(reps):
        nxt = reps[k + 1] if k + 1 < len(reps) and reps[k + 1]["set"] == r["set"] else None
        r["raise_s"] = r["top_start_s"] - r["start_s"]
        r["top_hold_s"] = r["top_end_s"] - r["top_start_s"]
        r["lower_s"] = r["end_s"] - r["top_end_s"]
        r["bottom_hold_s"] = None if nxt is None else nxt["start_s"] - r["end_s"]
        top = pitch[idx(r["top_start_s"]) : idx(r["top_end_s"]) + 1]
        r["peak_deg"] = float(top.max())
        bottom_end = idx(nxt["start_s"]) if nxt else idx(r["end_s"]) + 100
        low = pitch[idx(r["top_end_s"]) : bottom_end + 1]
        depth = max(0.0, -float(low.min()))
        r["depth_deg"] = depth if spec.surface == "step" or depth >= 1.0 else 0.0
        r["heel_rise_mm"] = settings.heel_rise_mm(r["peak_deg"])
        span = roll[idx(r["start_s"]) : idx(r["end_s"]) + 1]
        r["roll_deg"] = float(span[np.argmax(np.abs(span))])
        best[r["set"]] = max(best.get(r["set"], 0.0), r["peak_deg"])
        faults = []
        if abs(r["roll_deg"]) >= settings.roll_fault_deg:
            faults.append("ankle_roll")
        if r["injected"] == "bounce":
            faults.append("bounce")
        if r["peak_deg"] < settings.partial_fraction * best[r["set"]]:
            faults.append("partial")
        if spec.surface == "step" and depth < settings.past_neutral_deg:
            faults.append("not_past_neutral")
        if spec.surface == "floor" and depth >= settings.rocked_back_deg:
            faults.append("rocked_back")
        verdicts = {
            phase_verdict(r["raise_s"], tempo.raise_s),
            phase_verdict(r["lower_s"], tempo.lower_s),
        }
        for v in ("too_fast", "too_slow"):
            if v in verdicts:
                faults.append(v)
        r["faults"] = faults
        for key in REP_DECIMALS:  # the rep's numbers, to 0.1 ms / 0.0001 deg
            if r[key] is not None:
                r[key] = round(float(r[key]), 4)
    del t
