"""Two simulated shoes (heelraise.sim.pair): independent sensors on their own clocks, one
weaker side, each side's truth in its own recording's time base."""

from __future__ import annotations

import numpy as np
import pytest
from heelraise.chain.offline import analyze_arrays
from heelraise.sim import SessionSpec, simulate_session
from heelraise.sim.pair import PairSpec, simulate_pair
from heelraise.sim.session import script_duration_s


@pytest.fixture(scope="module")
def pair():
    return simulate_pair(
        PairSpec(SessionSpec(sets=2, reps=10, seed=11, surface="floor"), weaker="left")
    )


def test_the_sensors_are_independent(pair):
    left, right = pair.sides["left"].truth, pair.sides["right"].truth
    assert left["mount_matrix"] != right["mount_matrix"]
    assert left["sensor_pos_m"] != right["sensor_pos_m"]
    assert left["side"] == "left" and right["side"] == "right"
    # their own biases: the gyro means over the first second of standing differ
    g = {s: pair.sides[s].gyr_dps[: int(pair.spec.session.rate_hz)].mean(0) for s in pair.sides}
    assert np.abs(g["left"] - g["right"]).max() > 0.5


def test_each_clock_has_its_own_origin_and_rate(pair):
    clocks = pair.truth["clock"]
    assert clocks["left"]["offset_s"] != clocks["right"]["offset_s"]
    assert clocks["left"]["drift_ppm"] != clocks["right"]["drift_ppm"]
    for side, sim in pair.sides.items():
        assert sim.t_s[0] == pytest.approx(clocks[side]["offset_s"], abs=0.01)
    # the clock maps true time exactly: offset + t x (1 + ppm / 1e6) (ideal sensor: no jitter)
    spec = SessionSpec(sets=1, reps=3, seed=4, ideal_sensor=True)
    plain = simulate_session(spec)
    moved = simulate_session(spec, clock_offset_s=123.5, clock_drift_ppm=-700.0)
    assert np.allclose(moved.t_s, 123.5 + plain.t_s * (1 - 700e-6), rtol=0, atol=1e-9)
    for a, b in zip(plain.truth["reps"], moved.truth["reps"], strict=True):
        assert b["start_s"] == pytest.approx(123.5 + a["start_s"] * (1 - 700e-6), abs=1e-5)
        assert b["raise_s"] == pytest.approx(a["raise_s"] * (1 - 700e-6), abs=1e-5)
    assert moved.truth["clock"] == {"offset_s": 123.5, "drift_ppm": -700.0}


def test_a_pair_on_true_time_is_simulated_and_says_its_clocks():
    """Both clocks given as 0 (offset and drift): no side's own truth names a clock, and the
    pair's truth still says both (it had raised KeyError 'clock')."""
    zero = {"left": 0.0, "right": 0.0}
    pair = simulate_pair(
        PairSpec(SessionSpec(sets=1, reps=3, seed=4), clock_offset_s=zero, clock_drift_ppm=zero)
    )
    assert pair.truth["clock"] == {s: {"offset_s": 0.0, "drift_ppm": 0.0} for s in zero}
    assert pair.sides["left"].t_s[0] == pytest.approx(0.0, abs=0.01)


def test_one_true_time_line_first_side_then_the_other(pair):
    def true_times(side):
        c = pair.truth["clock"][side]
        starts = np.array([r["start_s"] for r in pair.sides[side].truth["reps"]])
        return (starts - c["offset_s"]) / (1 + c["drift_ppm"] * 1e-6)

    assert pair.sides["left"].motion.duration_s == pytest.approx(
        pair.sides["right"].motion.duration_s, abs=0.002
    )
    assert true_times("left").max() < true_times("right").min()


def test_the_weaker_side_does_fewer_and_lower_reps(pair):
    assert pair.sides["right"].truth["rep_count"] == 20
    assert pair.sides["left"].truth["rep_count"] == 16
    assert pair.truth["symmetry"]["reps_lsi"] == 80.0
    assert pair.truth["symmetry"]["involved"] == "left"
    # lower raises: the same sensor and session with and without the weakness
    spec = SessionSpec(sets=1, reps=8, seed=5, side="right")
    full = simulate_session(spec).truth["reps"]
    weak = simulate_session(spec, heel_scale=0.8).truth["reps"]
    ratio = np.mean([w["heel_rise_mm"] for w in weak]) / np.mean([f["heel_rise_mm"] for f in full])
    assert ratio == pytest.approx(0.8, abs=0.02)


def test_each_sides_truth_is_in_its_recordings_time_base(pair):
    for side, sim in pair.sides.items():
        got = analyze_arrays(sim.t_s, sim.acc_g, sim.gyr_dps).summary.reps
        true = sim.truth["reps"]
        assert len(got) == len(true), side
        starts = [abs(g.start_s - t["start_s"]) for g, t in zip(got, true, strict=True)]
        ends = [abs(g.end_s - t["end_s"]) for g, t in zip(got, true, strict=True)]
        assert np.median(starts) < 0.1 and np.median(ends) < 0.1, side


def test_pairs_are_deterministic_and_the_script_length_is_known_before_rendering():
    a = simulate_pair(PairSpec(SessionSpec(sets=1, reps=5, seed=21, family="brisk")))
    b = simulate_pair(PairSpec(SessionSpec(sets=1, reps=5, seed=21, family="brisk")))
    for side in ("left", "right"):
        assert np.array_equal(a.sides[side].acc_g, b.sides[side].acc_g)
        assert np.array_equal(a.sides[side].t_s, b.sides[side].t_s)
    spec = SessionSpec(sets=1, reps=5, seed=21)
    assert script_duration_s(spec) == pytest.approx(
        simulate_session(spec).motion.duration_s, abs=0.002
    )


def test_a_single_session_is_unchanged_by_the_pair_fields():
    plain = simulate_session(SessionSpec(sets=1, reps=4, seed=2))
    same = simulate_session(SessionSpec(sets=1, reps=4, seed=2, heel_scale=1.0, clock_offset_s=0.0))
    assert np.array_equal(plain.acc_g, same.acc_g) and np.array_equal(plain.t_s, same.t_s)


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"weaker": "middle"}, "weaker must be 'left' or 'right'"),
        ({"order": ("left", "left")}, "order must name left and right"),
        ({"weak_reps_fraction": 0.0}, "weak_reps_fraction must be above 0"),
        ({"weak_heel_fraction": 1.5}, "weak_heel_fraction must be above 0"),
    ],
)
def test_a_bad_pair_is_refused_by_name(kw, message):
    with pytest.raises(Exception, match=message):
        simulate_pair(PairSpec(SessionSpec(sets=1, reps=3), **kw))


def test_a_bad_side_or_clock_is_refused_by_name():
    with pytest.raises(ValueError, match="side must be 'left', 'right' or None"):
        simulate_session(SessionSpec(side="both"))
    with pytest.raises(ValueError, match="clock_drift_ppm"):
        simulate_session(SessionSpec(clock_drift_ppm=1e5))


def test_the_module_example_holds():
    import doctest

    import heelraise.sim.pair

    failed, tried = doctest.testmod(heelraise.sim.pair)
    assert tried >= 2 and failed == 0
