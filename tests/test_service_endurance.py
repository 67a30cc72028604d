"""Endurance-test rules on synthetic Rep sequences (times in sensor seconds)."""

from __future__ import annotations

import pytest
from heelraise.cues.endurance import EnduranceTest
from heelraise.events import Rep
from heelraise.exceptions import SettingsError
from heelraise.physics import G_MPS2

FIRST = 10.0  # first up beat; pairs every 2 s


def rep(start_s, mm=60.0, index=1):
    return Rep(1, index, start_s, start_s + 0.8, start_s + 1.0, start_s + 1.8, 20.0, 0.0, mm)


def on_pace(n, mm=60.0, jitter=0.0):
    return [rep(FIRST + 2 * i + jitter, mm, i + 1) for i in range(n)]


def test_counts_on_pace_reps_and_reports_work():
    test = EnduranceTest(FIRST, body_mass_kg=80.0)
    heights = [50.0, 60.0, 70.0, 65.0]
    verdicts = [test.on_rep(rep(FIRST + 2 * i, mm)) for i, mm in enumerate(heights)]
    assert verdicts == ["counted"] * 4
    result = test.stop()
    assert result == {
        "reps": 4,
        "first_heel_rise_mm": 50.0,
        "last_heel_rise_mm": 65.0,
        "mean_heel_rise_mm": 61.2,  # 61.25 rounded half to even
        "decline_pct": -30.0,  # it got higher
        "work_j": 192.2,  # 80 x 9.80665 (heelraise.physics.G_MPS2) x 0.245 m = 192.210
        "stopped_by": "command",
    }


def test_one_miss_then_back_on_pace_continues():
    test = EnduranceTest(FIRST)
    assert test.on_rep(rep(FIRST)) == "counted"
    assert test.on_rep(rep(FIRST + 2 + 0.5)) == "off_pace"  # 0.5 s late > 0.35 s
    assert test.on_rep(rep(FIRST + 4 - 0.3)) == "counted"  # 0.3 s early: within tolerance
    assert not test.stopped
    assert test.result()["reps"] == 2
    assert test.misses == [(1, "off_pace")]


def test_two_off_pace_reps_in_a_row_stop_the_test():
    test = EnduranceTest(FIRST)
    for r in on_pace(3):
        test.on_rep(r)
    assert test.on_rep(rep(FIRST + 6 + 0.4)) == "off_pace"
    assert not test.stopped
    assert test.on_rep(rep(FIRST + 8 - 0.6)) == "off_pace"  # nearest up beat: pair 4, 0.6 s early
    assert test.stopped_by == "pace"
    assert test.on_rep(rep(FIRST + 10)) == "stopped"
    assert test.result()["reps"] == 3


def test_beat_pairs_with_no_rep_are_misses_when_a_later_rep_arrives():
    test = EnduranceTest(FIRST)
    test.on_rep(rep(FIRST))
    # pairs 1 and 2 had no rep: two misses in a row before this rep is judged
    assert test.on_rep(rep(FIRST + 6)) == "stopped"
    assert test.stopped_by == "pace"
    assert test.misses == [(1, "no_rep"), (2, "no_rep")]
    assert test.result()["reps"] == 1


def test_one_empty_pair_then_a_good_rep_continues():
    test = EnduranceTest(FIRST)
    test.on_rep(rep(FIRST))
    assert test.on_rep(rep(FIRST + 4)) == "counted"
    assert test.misses == [(1, "no_rep")] and not test.stopped


def test_check_declares_silent_pairs_missed_after_the_report_timeout():
    test = EnduranceTest(FIRST, report_timeout_s=4.0, tolerance_s=0.35)
    test.on_rep(rep(FIRST))
    assert not test.check(FIRST + 2 + 0.35 + 4.0)  # pair 1 deadline not passed yet
    assert test.misses == []
    assert not test.check(FIRST + 6.36)  # pair 1 missed
    assert test.misses == [(1, "no_rep")]
    assert test.check(FIRST + 8.36)  # pair 2 missed: stop
    assert test.stopped_by == "pace"


def test_second_rep_in_one_pair_is_an_extra_rep_miss():
    test = EnduranceTest(FIRST)
    test.on_rep(rep(FIRST))
    assert test.on_rep(rep(FIRST + 0.9)) == "extra_rep"  # nearest up beat is pair 0 again
    assert test.on_rep(rep(FIRST + 2)) == "counted"


def test_height_below_half_of_first_three_stops_and_is_not_counted():
    test = EnduranceTest(FIRST, body_mass_kg=70.0)
    for i, mm in enumerate((60.0, 50.0, 70.0, 31.0)):  # reference 60 mm; 31 >= 30
        assert test.on_rep(rep(FIRST + 2 * i, mm)) == "counted"
    assert test.on_rep(rep(FIRST + 8, 29.9)) == "too_low"
    result = test.result()
    assert result["stopped_by"] == "height"
    assert result["reps"] == 4
    assert result["last_heel_rise_mm"] == 31.0
    assert result["decline_pct"] == pytest.approx(48.3)  # (60 - 31) / 60
    assert result["work_j"] == pytest.approx(70 * G_MPS2 * 0.211, abs=0.05)


def test_low_first_reps_are_not_judged_before_the_reference_exists():
    test = EnduranceTest(FIRST)
    assert [test.on_rep(rep(FIRST + 2 * i, mm)) for i, mm in enumerate((60.0, 20.0))] == [
        "counted",
        "counted",
    ]


def test_reps_before_the_first_beat_window_are_ignored():
    test = EnduranceTest(FIRST)
    assert test.on_rep(rep(FIRST - 1.5)) == "early"  # nearest up beat would be pair -1
    assert test.on_rep(rep(FIRST)) == "counted"
    assert test.misses == []


def test_no_reps_result():
    assert EnduranceTest(FIRST).stop() == {
        "reps": 0,
        "first_heel_rise_mm": None,
        "last_heel_rise_mm": None,
        "mean_heel_rise_mm": None,
        "decline_pct": None,
        "work_j": 0.0,
        "stopped_by": "command",
    }


def test_stop_keeps_the_first_reason():
    test = EnduranceTest(FIRST)
    test.on_rep(rep(FIRST))
    test.on_rep(rep(FIRST + 6))
    assert test.stop("command")["stopped_by"] == "pace"


def test_slower_pace_scales_the_beats():
    test = EnduranceTest(FIRST, beat_s=1.5, tolerance_s=0.35)
    assert [test.on_rep(rep(FIRST + 3 * i)) for i in range(3)] == ["counted"] * 3


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"beat_s": 0}, "beat_s must be greater than 0, not 0"),
        ({"body_mass_kg": -70}, "body_mass_kg must be greater than 0, not -70"),
        ({"tolerance_s": 1.2}, "tolerance_s \\(1.2\\) must be shorter than a beat"),
        ({"min_height_fraction": 1.5}, "min_height_fraction must be between 0 and 1"),
    ],
)
def test_bad_settings_are_named(kwargs, message):
    with pytest.raises(SettingsError, match=message):
        EnduranceTest(FIRST, **kwargs)


def test_bad_stop_reason_is_named():
    with pytest.raises(SettingsError, match="'lunch'"):
        EnduranceTest(FIRST).stop("lunch")
