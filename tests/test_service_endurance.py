"""Endurance-test rules on synthetic Rep sequences (times in sensor seconds)."""

from __future__ import annotations

import pytest
from heelraise.events import Rep
from heelraise.exceptions import SettingsError
from heelraise.physics import G_MPS2
from heelraise.service.endurance import EnduranceRun, EnduranceTest

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


# --- the test as the service runs it: its rules, the coach's cues (MockFactory pins) ----------


@pytest.fixture
def clock():
    from heelraise.clock import ManualClock
    from heelraise.cues.testing import mock_pins_follow

    c = ManualClock(0.0)
    with mock_pins_follow(c):
        yield c


def coached(clock, **kw):
    from gpiozero.pins.mock import MockFactory, MockPWMPin
    from heelraise.cues.coach import Coach
    from heelraise.cues.pins import PinMap

    factory = MockFactory(pin_class=MockPWMPin)
    coach = Coach(PinMap(led_pwm=True), pin_factory=factory, clock=clock)
    return EnduranceRun(coach, **kw), coach, factory.pin(17), factory.pin(18)


def step(run, clock, until_s, results):
    """Like the service loop: the test checks the time, then the coach ticks (5 ms grid)."""
    ms = round(clock.t_s * 1000)
    while ms < round(until_s * 1000):
        ms += 5
        clock.set(ms / 1000)
        done = run.check(clock())
        if done is not None:
            results.append(done)
        run.coach.tick()


def test_coached_test_beats_and_stops_when_pace_missed_twice(clock):
    from heelraise.cues.testing import changes
    from heelraise.events import RepEvent

    results = []
    run, coach, led, buzzer = coached(clock, body_mass_kg=80.0)
    # counts 0, 1, 2; up beats at 3, 5, 7, ...; down at 4, 6, ...
    for i, start in enumerate((3.05, 4.9, 7.1)):  # three on-pace reps, reported at end
        step(run, clock, start + 1.9, results)
        r = rep(start, mm=60.0, index=i + 1)
        assert run.on_rep(r) is None
        coach.on_event(RepEvent(r, t_s=start + 1.9))  # in endurance mode: no second chirp
    step(run, clock, 16.0, results)
    # no rep for pair 3 (up at 9 s): missed at 9 + 0.35 + 4 = 13.35; pair 4 (11 s) at 15.35
    assert results == [run.result]
    assert results[0] == {
        "reps": 3,
        "first_heel_rise_mm": 60.0,
        "last_heel_rise_mm": 60.0,
        "mean_heel_rise_mm": 60.0,
        "decline_pct": 0.0,
        "work_j": 141.2,  # 80 kg x 9.80665 (heelraise.physics.G_MPS2) x 0.06 m x 3
        "stopped_by": "pace",
    }
    assert coach.mode == "free" and coach.metronome is None
    names = [n for _, n in coach.player.history]
    assert names[:5] == ["count", "count", "count", "rise_now", "lower_now"]
    assert names.count("rep_ok") == 3 and names[-1] == "set_done"
    # the beats before the stop: up beats are long (0.3 s), down beats two pips
    on_times = [t for t, v in changes(buzzer) if v == 1.0]
    # rep 1's chirp (4.95-5.0) ends as the 5 s up beat falls due: the beat keeps 40 ms apart
    assert on_times[:10] == [0.0, 1.0, 2.0, 3.0, 4.0, 4.16, 4.95, 5.04, 6.0, 6.16]
    assert [t for t, n in coach.player.history if n == "set_done"][0] == pytest.approx(15.355)


def test_coached_test_stop_command_reports_result(clock):
    results = []
    run, coach, led, buzzer = coached(clock, pace_bpm=60)
    step(run, clock, 5.0, results)
    run.on_rep(rep(3.0, mm=50.0))
    result = run.stop("command")
    assert result["reps"] == 1 and result["stopped_by"] == "command"
    assert run.stop("shutdown") is result  # stopped once: the first reason stays
    assert not run.running and results == []


def test_coached_test_height_drop_stops_the_test(clock):
    results = []
    run, coach, led, buzzer = coached(clock)
    for i, (start, mm) in enumerate(((3.0, 60.0), (5.0, 58.0), (7.0, 56.0), (9.0, 28.0))):
        step(run, clock, start + 1.9, results)
        done = run.on_rep(rep(start, mm=mm, index=i + 1))
        if done is not None:
            results.append(done)
    assert results and results[0]["stopped_by"] == "height"
    assert results[0]["reps"] == 3 and results[0]["last_heel_rise_mm"] == 56.0
    assert [n for _, n in coach.player.history][-1] == "set_done"


def test_coached_test_stopped_by_shutdown_says_so(clock):
    run, coach, led, buzzer = coached(clock)
    step(run, clock, 3.5, [])
    assert run.stop("shutdown")["stopped_by"] == "shutdown"
    coach.stop()
    assert buzzer.state == 0 and led.state == 0


def test_unpaced_test_counts_every_rep_until_the_height_fails():
    run = EnduranceRun(None, body_mass_kg=70.0)  # no coach: no beat anyone hears
    assert not run.test.paced
    assert [run.on_rep(rep(100.0 + 7 * i, mm)) for i, mm in enumerate((60, 61, 59))] == [None] * 3
    assert run.check(10_000.0) is None  # no pace to miss
    done = run.on_rep(rep(130.0, 20.0))
    assert done["stopped_by"] == "height" and done["reps"] == 3
