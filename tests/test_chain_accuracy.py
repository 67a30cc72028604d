"""Regression guards on the chain's accuracy against simulator ground truth.

Twelve seeded sessions (seeds 500 to 511: outside the benchmark's 10000+ and
the development seeds < 100) with the benchmark's variety of rates, tempos,
surfaces, walking and walking-only sessions. The limits are looser than the
README targets (``bench/accuracy.py`` measures those): these catch a
regression, they do not certify the figures. Plus the real walking recordings
(0 reps) and the same motion under four sensor mounts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from heelraise.chain.offline import analyze_arrays
from heelraise.recording import read_recording
from heelraise.settings import AnalyzerSettings
from heelraise.sim import SensorModel, SessionSpec, simulate_session
from heelraise.sim.kinematics import Motion, rot_x, rot_y, rot_z
from heelraise.sim.scoring import Score, varied_spec

SEEDS = range(500, 512)
REAL_DATA = Path(__file__).resolve().parent / "data"  # shipped with the tests, licence beside them
REAL_WALKS = ["walk_xio_short_walk.csv", "walk_xio_long_walk.csv"]

MIN_EXACT = 10  # of 12 sessions counted exactly
MAX_MEDIAN_RAISE_S = 0.12
MAX_MEDIAN_LOWER_S = 0.12
MAX_MEDIAN_PEAK_DEG = 3.0


class Run:
    def __init__(self, seed: int):
        self.seed = seed
        # The benchmark's variety, without the calf stretch (this guard predates it).
        self.spec = spec = varied_spec(seed, stretch_first=False)
        self.sim = simulate_session(spec)
        tempo = None if "X" in spec.tempo else spec.tempo
        self.result = analyze_arrays(
            self.sim.t_s, self.sim.acc_g, self.sim.gyr_dps, AnalyzerSettings(tempo=tempo)
        )
        self.reps = self.result.summary.reps
        self.score = Score()
        self.score.add(self.name, self.sim.truth, self.reps)

    @property
    def name(self) -> str:
        s = self.spec
        kind = "walk-only" if s.walk_only else f"{s.sets}x{s.reps}"
        return f"seed {self.seed} ({kind}, {s.surface}, {s.rate_hz:g} Hz, {s.tempo})"


@pytest.fixture(scope="module")
def runs() -> list[Run]:
    return [Run(seed) for seed in SEEDS]


@pytest.fixture(scope="module")
def total(runs) -> Score:
    score = Score()
    for r in runs:
        score.merge(r.score)
    return score


def table(runs) -> str:
    return "\n".join(
        f"  {r.name}: {len(r.reps)} counted, {r.sim.truth['rep_count']} true" for r in runs
    )


def test_the_sessions_have_the_intended_variety(runs):
    specs = [r.spec for r in runs]
    assert sum(s.walk_only for s in specs) == 2
    assert {s.surface for s in specs} == {"floor", "step"}
    assert len({s.rate_hz for s in specs}) >= 3
    assert sum(r.sim.truth["rep_count"] for r in runs) > 150


def test_exact_count_in_most_sessions(runs, total):
    assert total.exact >= MIN_EXACT, (
        f"exact rep count in {total.exact}/{total.sessions} sessions (guard {MIN_EXACT}):\n"
        + table(runs)
    )


def test_median_phase_and_peak_errors(total):
    assert total.matched >= 0.9 * total.true_reps
    raise_e = total.median_abs(total.raise_err)
    lower_e = total.median_abs(total.lower_err)
    peak_e = total.median_abs(total.peak_err)
    figures = f"raise {raise_e:.3f} s, lower {lower_e:.3f} s, peak {peak_e:.2f} deg"
    assert raise_e <= MAX_MEDIAN_RAISE_S, figures
    assert lower_e <= MAX_MEDIAN_LOWER_S, figures
    assert peak_e <= MAX_MEDIAN_PEAK_DEG, figures


def test_walking_only_sessions_count_nothing(runs):
    walks = [r for r in runs if r.spec.walk_only]
    assert [len(r.reps) for r in walks] == [0] * len(walks), table(walks)


def test_phases_in_order_and_reps_do_not_overlap(runs):
    """start <= top_start <= top_end <= end <= the next rep's start; bottom_hold_s >= 0."""
    bad = []
    for run in runs:
        for st in run.result.summary.sets:
            for i, r in enumerate(st.reps):
                if not r.start_s <= r.top_start_s <= r.top_end_s <= r.end_s:
                    bad.append(f"{run.name} rep {r.set}.{r.index}: phases out of order")
                if i + 1 < len(st.reps) and st.reps[i + 1].start_s < r.end_s:
                    bad.append(
                        f"{run.name} rep {r.set}.{r.index} ends at {r.end_s:.3f} s, after "
                        f"rep {r.set}.{r.index + 1} starts at {st.reps[i + 1].start_s:.3f} s "
                        f"(bottom_hold_s {r.bottom_hold_s:.3f})"
                    )
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("name", REAL_WALKS)
def test_real_walking_recordings_count_nothing(name):
    rec = read_recording(REAL_DATA / name)
    assert len(rec) > 10000  # the real file, not a stub
    result = analyze_arrays(rec.t_s, rec.acc_g, rec.gyr_dps)
    assert result.summary.rep_count == 0, [
        (r.start_s, round(r.peak_deg, 1)) for r in result.summary.reps
    ]


MOUNTS = {
    "flat": np.eye(3),
    "upside_down": rot_x(np.pi),
    "on_its_edge": rot_x(np.pi / 2),
    "oblique": rot_z(0.7) @ rot_y(2.1) @ rot_x(-0.4),
}


def test_any_sensor_orientation_counts_the_same():
    """One motion, the chip strapped on four ways round (sensor errors applied after)."""
    sim = simulate_session(SessionSpec(sets=1, reps=6, walking=True, rate_hz=100, seed=22))
    m = sim.motion
    truth = sim.truth["reps"]
    counts = {}
    for name, rot in MOUNTS.items():
        turned = Motion(m.t_s, m.acc_g @ rot.T, m.gyr_dps @ rot.T, m.pitch_deg, m.roll_deg)
        t, acc, gyr = SensorModel(rate_hz=100).record(turned, np.random.default_rng(22))
        reps = analyze_arrays(t, acc, gyr).summary.reps
        counts[name] = len(reps)
        if len(reps) == len(truth):
            for r, w in zip(reps, truth, strict=True):
                assert abs(r.start_s - w["start_s"]) < 0.3, name
                assert abs(r.end_s - w["end_s"]) < 0.5, name
                assert abs(r.peak_deg - w["peak_deg"]) < 6.0, name
    assert counts == {name: len(truth) for name in MOUNTS}


# -- per motion family (issue 10): a few seeds each, guards looser than the bench targets ----

FAMILY_SEEDS = (500, 501, 502)
#: family -> (exact sessions of 3, median abs. error guard for raise_s / lower_s / top_hold_s in
#: s, peak_deg guard in deg). The targets (bench/accuracy.py) are 0.03 s and 0.7 deg; the slow
#: and deep_drop timing misses them today (see the README), and these guard the figures
#: measured on these seeds (slow 0.11 / 0.21 / 0.19 s, deep_drop 0.08 / 0.20 / 0.21 s before
#: the profile-free phase rule; with it, both ends timed together and the minimum-jerk check
#: where it fits: slow 0.05 / 0.15 / 0.09 s, deep_drop 0.05 / 0.19 / 0.06 s, classic 0.07 /
#: 0.09 / 0.08 s). With the far side's bend fitted on a finer grid and a stop seen part way
#: down fitted (issue 10): classic 0.071 / 0.082 / 0.088, brisk 0.023 / 0.044 / 0.039, slow
#: 0.042 / 0.152 / 0.090, deep_drop 0.052 / 0.265 / 0.062 s. With "rising again" judged on
#: the rate with the ripple averaged out (phases.rising_again_s): classic 0.066 / 0.073 /
#: 0.088, brisk 0.021 / 0.040 / 0.037, slow 0.046 / 0.144 / 0.098, deep_drop 0.068 / 0.105 /
#: 0.072 s.
REP_FAMILY_GUARDS = {
    "classic": (3, 0.10, 1.5),
    "brisk": (3, 0.06, 1.0),
    "slow": (3, 0.17, 1.0),
    "deep_drop": (2, 0.14, 1.0),
}


def _family_score(family: str) -> Score:
    from heelraise.sim.scoring import run_family_session

    score = Score()
    for seed in FAMILY_SEEDS:
        _, sim, reps = run_family_session(family, seed)
        score.add(f"{family} seed {seed}", sim.truth, reps)
    return score


@pytest.mark.parametrize("family", list(REP_FAMILY_GUARDS))
def test_each_rep_family_is_counted_and_timed(family):
    min_exact, max_time_s, max_peak_deg = REP_FAMILY_GUARDS[family]
    s = _family_score(family)
    assert s.exact >= min_exact, s.failures
    assert s.matched >= 0.9 * s.true_reps
    errors = {
        "raise_s": s.median_abs(s.raise_err),
        "lower_s": s.median_abs(s.lower_err),
        "top_hold_s": s.median_abs(s.hold_err),
    }
    assert max(errors.values()) <= max_time_s, errors
    assert s.median_abs(s.peak_err) <= max_peak_deg, s.median_abs(s.peak_err)


def test_the_non_rep_families_count_nothing():
    """Slow walking, shuffling, squats, lunges, jumps, hops, step-ups, running."""
    from heelraise.sim.families import NON_REP_FAMILIES

    counted = {f: _family_score(f).found_reps for f in NON_REP_FAMILIES}
    assert counted == {f: 0 for f in NON_REP_FAMILIES}
