"""Counting low raises (issues 10 and 15): a weaker side's, and those the ripple or a
shallow bottom hid. Every session here was miscounted by the chain before this work
(checked: each assertion failed on it).

- A weaker side (``SessionSpec.heel_scale`` < 1, as ``heelraise.sim.pair`` makes the
  involved shoe) raising out of a deep bottom on a step rises 10 to 17 degrees, but its top
  ends only 4.5 to 5.5 degrees above neutral and reads about 1 degree low: under the 5
  degree ``peak_min_deg``. It may end as low as ``low_peak_deg`` when the lever-arm fit
  sees the foot pivot heel up on the ball of the foot (a toe tap or a rock back onto the
  heels pivots on the heel and comes back only to neutral).
- A slow movement (peaking at 20-25 deg/s) had too few rows at 20 deg/s for the lever fit.
- Balance ripple as fast as a slow lowering cut its run of same-signed rate short.
- A raise after a rep lowered only to neutral rises 5.5-6 degrees from that bottom.
- A raise after standing back up from a heel drop was timed from the drop's bottom.
- A low top out of a heel drop lowered only to neutral fell less than ``fall_min_deg``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from heelraise.chain.detection import _last_rest, _peak_of_run
from heelraise.chain.offline import analyze_arrays
from heelraise.sim.pair import simulate_pair
from heelraise.sim.scoring import MATCH_S, run_family_session
from heelraise.sim.session import SessionSpec, simulate_session

BENCH = Path(__file__).resolve().parents[1] / "bench" / "accuracy.py"


def weak_deep_drop_set(seed: int) -> tuple[int, int, list[float]]:
    spec = SessionSpec(
        family="deep_drop",
        sets=1,
        reps=6,
        surface="step",
        seed=seed,
        heel_scale=0.6,
        rate_hz=100.0,
        fault_rate=0.0,
    )
    sim = simulate_session(spec)
    reps = analyze_arrays(sim.t_s, sim.acc_g, sim.gyr_dps).summary.reps
    return len(reps), sim.truth["rep_count"], [r["peak_deg"] for r in sim.truth["reps"]]


@pytest.mark.parametrize("seed", [101, 120])
def test_a_weaker_sides_low_tops_out_of_a_deep_bottom_are_counted(seed):
    counted, true, peaks = weak_deep_drop_set(seed)
    assert max(peaks) < 6.5  # the case: every top under 6.5 degrees above neutral
    assert counted == true, (seed, peaks)


def test_a_slow_low_lowering_under_balance_ripple_is_counted():
    """deep_drop seed 2008 (a development seed of bench/accuracy.py): an 8 degree raise
    lowered to neutral in 1 s, 4 deg/s on average, under 4-8 deg/s RMS of balance ripple,
    which turned the rate round every few rows: the lowering's run of same-signed rate
    carried a fraction of it, was timed 0.08 s long and dropped as "too_quick" (11 of 12
    on the chain before; checked)."""
    _, sim, reps = run_family_session("deep_drop", 2008)
    assert len(reps) == sim.truth["rep_count"], [round(r.start_s, 2) for r in reps]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("accuracy_bench_weak_side", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize(("seed", "side"), [(1008, "left"), (1030, "left")])
def test_each_side_of_a_deep_drop_pair_counts_every_rep(bench, seed, side):
    """Pairs of ``bench/accuracy.py --pairs`` (development seeds) whose side the chain before
    this work counted one rep short (checked). 1008 left: a weaker side's slow 8 deg raise
    from a bottom 2 deg above neutral (rise 6.5 deg, peaking at 25 deg/s) had too few rows
    at 20 deg/s for the lever fit, so it could not be seen pivoting heel up; the fit now
    takes the faster half of a slow movement (``PivotSettings.moving_share``)."""
    pair = simulate_pair(bench.pair_spec("deep_drop", seed))
    sim = pair.sides[side]
    reps = analyze_arrays(sim.t_s, sim.acc_g, sim.gyr_dps).summary.reps
    assert len(reps) == sim.truth["rep_count"], [round(r.start_s, 2) for r in reps]


@pytest.mark.parametrize(("seed", "side"), [(60000, "right"), (60045, "right"), (60057, "left")])
def test_a_low_top_out_of_a_heel_drop_lowered_only_to_neutral_is_lowered(bench, seed, side):
    """Pairs of ``bench/accuracy.py --pairs`` (development seeds, 400 Hz) whose weaker side
    the chain before this work counted one rep short (checked): a raise out of a heel drop
    to a top 5-7 deg above neutral, read about 1 deg low on an axis found from one rep, then
    lowered only to neutral (``not_past_neutral``): 4-5 deg down, under the 5 deg
    ``fall_min_deg``, so its lowering was never seen and it ran into the next rep. Back to
    within a degree of neutral out of a drop, ``back_min_deg`` down, the lowering ends at
    its low once the heel rises ``back_rise_deg`` from it."""
    pair = simulate_pair(bench.pair_spec("deep_drop", seed))
    sim = pair.sides[side]
    assert any("not_past_neutral" in r["faults"] for r in sim.truth["reps"])
    reps = analyze_arrays(sim.t_s, sim.acc_g, sim.gyr_dps).summary.reps
    assert len(reps) == sim.truth["rep_count"], [round(r.start_s, 2) for r in reps]


@pytest.mark.parametrize(("seed", "rep_set", "rep_index"), [(3483, 1, 4), (3498, 1, 11)])
def test_a_raise_after_a_rep_lowered_only_to_neutral_is_counted(seed, rep_set, rep_index):
    """deep_drop development seeds: a rep lowered only to neutral (``not_past_neutral``, its
    bottom up to 2.5 deg above it), then a raise to 8 deg and down past neutral: it rises
    only 5.5-6 deg from that bottom, under the 6 deg the lever fit's heel-up call was
    trusted down to, and the chain before this work did not count it (checked)."""
    _, sim, reps = run_family_session("deep_drop", seed)
    (true,) = [r for r in sim.truth["reps"] if (r["set"], r["index"]) == (rep_set, rep_index)]
    starts = np.array([r.start_s for r in reps])
    assert np.abs(starts - true["start_s"]).min() < MATCH_S


@pytest.mark.parametrize("seed", [2000, 2002, 2005, 2011])
def test_a_rise_after_standing_back_up_from_a_heel_drop_starts_there(seed):
    """deep_drop sessions (development seeds) whose set opens with a heel drop, back up to
    neutral, a second or two standing, then the first raise. The chain before this work
    took the drop's bottom (within 3 s) for the raise's and timed its rise from the way
    back up: the first rep started 2-3 s early (issue 10: "2 to 3 s timing errors"), beyond
    the bench's match window (checked: these seeds each had such a rep). The rest at
    neutral, well above that bottom, is where the raise starts (``_last_rest``)."""
    _, sim, reps = run_family_session("deep_drop", seed)
    starts = np.array([r.start_s for r in reps])
    for rep in sim.truth["reps"]:
        assert np.abs(starts - rep["start_s"]).min() < MATCH_S, (rep["set"], rep["index"])


def test_a_run_the_ripple_cuts_is_also_followed_on_the_averaged_rate():
    """An 8 deg lowering over 1 s (a bell peaking at 12 deg/s) under 10 and 20 Hz ripple
    of 7 deg/s each: the plain run through its mid-range crossing lasts a few rows; the
    averaged rate's run gives a peak inside the lowering's middle."""
    t = np.arange(300) / 100.0
    bell = np.where((t >= 1.0) & (t < 2.0), 12.0 * np.sin(np.pi * (t - 1.0)) ** 2, 0.0)
    ripple = 7.0 * np.sin(2 * np.pi * 10 * t) + 7.0 * np.sin(2 * np.pi * 20 * t + 1.0)
    speed = bell + ripple  # the lowering's speed (the negated rate)
    pitch = 8.0 - np.cumsum(bell) / 100.0
    (i, _), alt = _peak_of_run(speed, pitch, 0, 299, rising=False, h=10)
    assert alt is not None
    j, peak = alt
    assert 1.3 <= t[j] <= 1.7 and peak == speed[_run(speed, j)].max()


def _run(s, j):
    """Rows of the averaged (0.21 s box) rate's positive run through j."""
    c = np.convolve(s, np.ones(21) / 21, mode="same") > 0
    lo, hi = j, j
    while lo > 0 and c[lo - 1]:
        lo -= 1
    while hi < len(s) - 1 and c[hi + 1]:
        hi += 1
    return slice(lo, hi + 1)


def test_a_rise_starts_at_the_last_rest_well_above_its_bottom():
    """Up 20 deg from a heel drop to neutral, 1.5 s standing, then a 10 deg raise: the rise
    is the raise, from the rest at neutral; with no rest above the bottom, from row 0."""
    t = np.arange(600) / 100.0
    up = np.clip((t - 0.5) / 1.0, 0, 1)  # 0.5-1.5 s: -20 -> 0
    rise = np.clip((t - 3.0) / 1.0, 0, 1)  # 3-4 s: 0 -> 10
    pitch = -20.0 + 20.0 * up + 10.0 * rise
    rate = np.gradient(pitch, t)
    top = int(np.argmax(pitch))
    k = _last_rest(pitch, rate, top, 100.0)
    assert 1.5 <= t[k] <= 1.7
    assert _last_rest(-20.0 + 30.0 * rise, np.gradient(-20.0 + 30.0 * rise, t), top, 100.0) == 0
