"""Fault precision and recall (issue 10): the bounce and ankle-roll rules from physics, and
per-family guards on simulated sessions (development seeds; looser than the benchmark)."""

from __future__ import annotations

import numpy as np
import pytest
from heelraise.chain.faults import FAULT, RaiseDirection, floor_depth_deg, rebound_dps
from heelraise.sim.scoring import FamilyScores, run_family_session

HZ = 100.0


def after_stop(rate_dps: np.ndarray, bottom_deg: float = -10.0):
    """Rows from the stop to the decision: times, pitch (integrated rate), rate."""
    t = np.arange(len(rate_dps)) / HZ
    pitch = bottom_deg + np.concatenate(([0.0], np.cumsum(rate_dps[1:]) / HZ))
    return t, pitch, rate_dps


def test_balance_ripple_at_the_bottom_is_not_a_bounce():
    """Dev seed 2055 (deep_drop): 5-25 Hz ripple of ~7 deg/s RMS at the bottom peaked at 17
    deg/s, over 0.3 of a 48 deg/s lowering: it was read as a bounce. It lifts the heel well
    under rebound_min_deg."""
    rng = np.random.default_rng(7)
    n = 9
    tt = np.arange(n) / HZ
    for _ in range(50):
        a = rng.uniform(0.5, 1.0, 3)
        a *= 7.0 * np.sqrt(2.0) / np.linalg.norm(a)  # 7 deg/s RMS in all
        ripple = sum(
            ak * np.sin(2 * np.pi * f * tt + rng.uniform(0, 2 * np.pi))
            for ak, f in zip(a, rng.uniform(5, 25, 3), strict=True)
        )
        assert rebound_dps(*after_stop(ripple)) == 0.0


def test_a_rebound_that_peaks_and_dies_away_is_a_bounce():
    # As the bench's slow-family bounces (seed 2162): the decision only 5 rows after the
    # stop, the rate still near its peak (0.87 of it): "still rising" dropped it before.
    for rate in ([20, 57, 65, 67, 58], [7, 55, 98, 93, 79], [66, 104, 93, 75, 58, 44]):
        rate = np.array(rate, float)
        assert rebound_dps(*after_stop(rate)) == rate.max()


def test_the_next_rise_after_a_short_pause_is_not_a_bounce():
    # Continuous brisk cycling (seed 2013): the next rise speeds up to the decision.
    for rate in ([4, 45, 86, 120, 146], [-3, 0, -3, -6, 2, 30, 57, 83, 107]):
        assert rebound_dps(*after_stop(np.array(rate, float))) == 0.0


def test_a_rebound_peaking_late_is_not_a_bounce():
    """An impact turns the heel round at once; a rate peak rebound_peak_s or more after the
    stop is a new movement (here a rise that eased off just before the decision)."""
    late = int(FAULT.rebound_peak_s * HZ) + 2
    rate = np.concatenate((np.zeros(late - 3), [30, 60, 90, 70]))
    assert rebound_dps(*after_stop(rate)) == 0.0


def test_a_rolled_rep_does_not_make_the_next_straight_rep_read_as_rolled():
    """Dev seed 2154 (slow): the pitch axis folds a rolled rep in, so the next straight rep's
    pitch leaked into its roll (8.1 deg read, 2.5 true). The reference direction is the
    median of the latest reps' tops: the rolled rep is an outlier there."""
    p = np.array([1.0, 0.0])
    straight = [np.array([40.0, r]) for r in (1.0, -2.0, 0.5, 2.5, -1.0)]
    rolled = np.array([38.0, 13.0])
    ref = RaiseDirection()
    for top in [*straight, rolled]:
        ref.add(top)
    leaned = np.array([np.cos(0.08), np.sin(0.08)])  # the pitch axis after the rolled rep
    axis = ref.axis(leaned)
    assert abs(np.degrees(np.arctan2(axis[1], axis[0]))) < 1.5
    # the sign follows the axis given
    assert np.allclose(ref.axis(-leaned), -axis)
    # too few reps: the pitch axis itself
    fresh = RaiseDirection()
    fresh.add(rolled)
    assert np.allclose(fresh.axis(p), p)


def test_a_tilt_reading_low_since_neutral_is_not_rocking_back():
    """Dev seed 3153 (brisk, floor): the pitch read 3 deg low all through a rep, so its flat
    bottom sat 3.2 deg below neutral: rocked_back. Flat is where the rep started."""
    t = np.linspace(0.0, 2.0, 201)
    pitch = -3.0 + 40.0 * np.sin(np.pi * t / 2.0) ** 2  # -3 at the start and at the end
    pitch[-20:] -= 0.2
    assert floor_depth_deg(t, pitch, 0.0, 100) < 0.5
    # ... but the toes rising 8 deg past that start are
    pitch[-20:] -= 8.0
    assert floor_depth_deg(t, pitch, 0.0, 100) > 7.5
    # a start above neutral (the heel not down yet) is no new flat: neutral is
    up = 5.0 + 35.0 * np.sin(np.pi * t / 2.0) ** 2
    assert floor_depth_deg(t, up - 5.0, 0.0, 100) == pytest.approx(0.0, abs=1e-9)
    assert floor_depth_deg(t, np.minimum(up, 40.0 - 40.0 * t), 0.3, 100) > 30.0


# -- per-family guards on the simulator ------------------------------------------------------

FAMILIES = ("classic", "brisk", "slow", "deep_drop")
FIRST_SEED, SESSIONS = 2000, 48  # development seeds (tuned on)


@pytest.fixture(scope="module")
def scores() -> FamilyScores:
    total = FamilyScores()
    for i in range(SESSIONS):
        family, seed = FAMILIES[i % len(FAMILIES)], FIRST_SEED + i
        _, sim, reps = run_family_session(family, seed)
        total.add(f"{family} {seed}", sim.truth, reps)
    return total


#: Guards (the benchmark's target is 0.95 each). On these 48 sessions the chain finds every
#: fault, with one false ``partial`` (a rolled deep-drop raise read low); the tempo faults
#: are judged against the session's own tempo, "X" (explosive) phases included.
MIN_PRECISION = {"partial": 0.85}
MIN_RECALL: dict[str, float] = {}
GUARD = 0.9


@pytest.mark.parametrize(
    "fault",
    ["ankle_roll", "bounce", "partial", "not_past_neutral", "rocked_back", "too_fast", "too_slow"],
)
def test_each_fault_over_the_families(scores, fault):
    precision, recall, n = scores.overall.precision_recall(fault)
    assert n >= 5, f"too few true {fault} reps to judge"
    assert precision >= MIN_PRECISION.get(fault, GUARD), (fault, precision)
    assert recall >= MIN_RECALL.get(fault, GUARD), (fault, recall)


@pytest.mark.parametrize("family", FAMILIES)
def test_faults_per_family(scores, family):
    precision, recall, n = scores.by_family[family].fault_totals()
    assert n >= 5
    assert precision >= GUARD, (family, precision)
    assert recall >= GUARD, (family, recall)


def test_no_bounce_is_read_in_deep_drop_sessions(scores):
    """Their bottoms carry balance ripple and none bounces (the simulator injects no bounce
    there): before the rebound's height and shape were asked for, 14 of 60 development
    sessions' reps read as bounces."""
    assert scores.by_family["deep_drop"].fault_fp["bounce"] == 0
