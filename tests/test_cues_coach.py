"""The coach on gpiozero's MockFactory with an injected clock: exact pin histories.

Timing tolerance: 1 ms (the clock is injected and ticks on an exact 5 ms grid,
so every change lands on its scheduled instant; 1 ms only absorbs float error).
Each history is also checked with gpiozero's own ``assert_states_and_times``,
which zips, so the number of states is asserted too.
"""

from __future__ import annotations

import pytest
from gpiozero import LED
from gpiozero.pins.mock import MockFactory, MockPWMPin
from heelraise.clock import ManualClock
from heelraise.cues.coach import Coach
from heelraise.cues.patterns import A5, A6, C4, C6, C7, E6, G6
from heelraise.cues.pins import PinMap
from heelraise.cues.settings import CueSettings
from heelraise.cues.testing import (
    assert_history,
    beeps,
    changes,
    mock_pins_follow,
    step_until,
)
from heelraise.events import GapEvent, Rep, RepEvent, SetEvent, SetSummary
from heelraise.exceptions import PinMapError


@pytest.fixture
def clock():
    c = ManualClock(0.0)
    with mock_pins_follow(c):
        yield c


def make(clock, *, pwm=True, kind="active", settings=None, **kw):
    factory = MockFactory(pin_class=MockPWMPin) if (pwm or kind == "passive") else MockFactory()
    pins = PinMap(led_pwm=pwm, buzzer_kind=kind)
    coach = Coach(pins, settings, pin_factory=factory, clock=clock, **kw)
    return coach, factory.pin(17), factory.pin(18)


def rep(faults=(), start_s=0.0, mm=50.0, index=1):
    return Rep(
        1, index, start_s, start_s + 0.9, start_s + 1.0, start_s + 1.9, 20.0, 0.0, mm,
        faults=list(faults),
    )  # fmt: skip


def test_counted_rep_chirps_and_flashes(clock):
    coach, led, buzzer = make(clock)
    clock.set(1.0)
    coach.on_event(RepEvent(rep(), t_s=1.0))
    step_until(coach, clock, 2.0)
    assert_history(buzzer, beeps((1.0, 1.05)))
    assert_history(led, beeps((1.0, 1.05)))


def test_faulty_rep_buzzes_twice_long(clock):
    coach, led, buzzer = make(clock)
    clock.set(2.0)
    coach.on_event(RepEvent(rep(faults=["too_fast"]), t_s=2.0))
    step_until(coach, clock, 3.0)
    assert_history(buzzer, beeps((2.0, 2.2), (2.3, 2.5)))
    assert_history(led, beeps((2.0, 2.2), (2.3, 2.5)))


def test_rep_chirp_can_be_turned_off_but_faults_still_sound(clock):
    coach, led, buzzer = make(clock, settings=CueSettings(rep_chirp=False))
    coach.on_event(RepEvent(rep(), t_s=0.0))
    step_until(coach, clock, 0.5)
    assert_history(buzzer, [(0.0, 0.0)])
    coach.on_event(RepEvent(rep(faults=["partial"]), t_s=0.5))
    step_until(coach, clock, 1.5)
    assert_history(buzzer, beeps((0.5, 0.7), (0.8, 1.0)))


def test_sound_off_keeps_buzzer_silent_led_still_flashes(clock):
    coach, led, buzzer = make(clock, settings=CueSettings(sound=False))
    coach.on_event(RepEvent(rep(), t_s=0.0))
    step_until(coach, clock, 0.5)
    assert_history(buzzer, [(0.0, 0.0)])
    assert_history(led, beeps((0.0, 0.05)))


def test_set_complete_arpeggio_on_passive_buzzer(clock):
    coach, led, buzzer = make(clock, kind="passive")
    tones = []
    coach.on_event(SetEvent(SetSummary(1, 0.0, 10.0, [rep()], "pause"), t_s=10.0))
    tones.append(buzzer.frequency)
    for ms in range(5, 1000, 5):
        clock.set(ms / 1000)
        coach.tick()
        if buzzer.frequency and buzzer.frequency != tones[-1]:
            tones.append(buzzer.frequency)
    assert tones == [pytest.approx(f) for f in (C6, E6, G6, C7)]
    half = 0.5  # a TonalBuzzer drives its PWM pin at 50 % duty
    on_off = [(0.0, 0.1), (0.15, 0.25), (0.3, 0.4), (0.45, 0.75)]
    assert_history(buzzer, [(0.0, 0.0)] + [x for a, b in on_off for x in ((a, half), (b, 0.0))])
    assert_history(led, beeps(*on_off))


def test_gap_plays_sensor_trouble_at_most_every_ten_seconds(clock):
    coach, led, buzzer = make(clock)
    coach.on_event(GapEvent(0.0, 0.1, "fifo_overflow", t_s=0.1))
    step_until(coach, clock, 1.0)
    coach.on_event(GapEvent(0.9, 1.0, "fifo_overflow", t_s=1.0))  # too soon: no second pattern
    step_until(coach, clock, 10.0)
    coach.on_event(GapEvent(9.9, 10.0, "i2c_error", t_s=10.0))
    step_until(coach, clock, 12.5)
    trouble = [(0.0, 0.5), (0.75, 1.25), (1.5, 2.0)]
    expected = beeps(*trouble, *[(10 + a, 10 + b) for a, b in trouble])
    assert_history(buzzer, expected)
    assert [name for _, name in coach.player.history] == ["sensor_trouble", "sensor_trouble"]


def test_unhealthy_sensor_blinks_fast_until_it_recovers(clock):
    coach, led, buzzer = make(clock)
    clock.set(1.0)
    coach.set_sensor_ok(False)
    step_until(coach, clock, 3.45)
    coach.set_sensor_ok(True)
    step_until(coach, clock, 4.0)
    # the trouble pattern flashes the LED with its beeps (its last step holds the LED off
    # to 3.25 s), then the 5 Hz blink anchored at 1.0 s shows through, off at recovery
    expected = beeps((1.0, 1.5), (1.75, 2.25), (2.5, 3.0)) + [
        (3.25, 1.0), (3.3, 0.0), (3.4, 1.0), (3.45, 0.0),
    ]  # fmt: skip
    assert_history(led, expected)
    assert_history(buzzer, beeps((1.0, 1.5), (1.75, 2.25), (2.5, 3.0)))


def test_led_blinks_slowly_while_waiting_for_neutral(clock):
    coach, led, buzzer = make(clock)
    coach.on_state({"calibrated": False, "phase": "uncalibrated"})
    step_until(coach, clock, 1.7)
    coach.on_state({"calibrated": True, "phase": "still"})
    step_until(coach, clock, 3.0)
    assert_history(led, beeps((0.0, 0.5), (1.0, 1.5)))  # off from 1.5 s on
    assert_history(buzzer, [(0.0, 0.0)])


GUIDED_BUZZER = [
    (0.0, 0.03), (1.0, 1.03),  # lead-in counts
    (2.0, 2.3), (3.0, 3.03),  # rise now, count
    (4.0, 4.04), (4.1, 4.14), (4.2, 4.24),  # hold (top)
    (5.0, 5.08), (5.16, 5.24), (6.0, 6.03),  # lower now, count
    (7.0, 7.04), (7.1, 7.14), (7.2, 7.24),  # hold (bottom)
    (8.0, 8.3),  # rise now, next rep
]  # fmt: skip


def pulse(start_s, end_s, dim):
    out = []
    t = start_s + 0.125
    while t < end_s - 1e-9:
        out.append((round(t, 3), dim if round((t - start_s) / 0.125) % 2 else 1.0))
        t += 0.125
    return out


def test_guided_metronome_leads_tempo_with_beeps_and_phase_led(clock):
    coach, led, buzzer = make(clock)
    coach.start_guided("2-1-2-1")  # lower 2, bottom 1, raise 2, top 1; 2 counts lead-in
    step_until(coach, clock, 8.5)
    assert_history(buzzer, beeps(*GUIDED_BUZZER))
    expected_led = (
        [(0.0, 0.0), (2.0, 1.0)]  # off in the lead-in; on while rising (2-4 s)
        + pulse(4.0, 5.0, 0.2)  # top hold: pulsing, bright at 4.0 (already on)
        + [(5.0, 0.0), (7.0, 1.0)]  # off while lowering; bottom pause pulses
        + pulse(7.0, 8.0, 0.2)
        + [(8.0, 1.0)]  # rising again
    )
    assert_history(led, expected_led)


def test_guided_with_plain_led_blinks_while_holding(clock):
    coach, led, buzzer = make(clock, pwm=False)
    coach.start_guided("2-1-2-1")
    step_until(coach, clock, 5.5)
    expected = [(0.0, 0.0), (2.0, 1.0)] + pulse(4.0, 5.0, 0.0)
    assert_history(led, expected)  # ends off at 4.875, stays off when lowering at 5.0


def test_guided_explosive_phase_gets_one_second(clock):
    coach, led, buzzer = make(clock, settings=CueSettings(lead_in_counts=0))
    coach.start_guided("2-0-X-0")  # raise explosive (1 s), lower 2 s; cycle 3 s
    step_until(coach, clock, 3.5)
    assert_history(buzzer, beeps((0.0, 0.3), (1.0, 1.08), (1.16, 1.24), (2.0, 2.03), (3.0, 3.3)))


def test_rep_feedback_cuts_the_metronome_cue_with_a_short_gap(clock):
    coach, led, buzzer = make(clock, settings=CueSettings(lead_in_counts=0))
    coach.start_guided("2-0-2-0")  # rise_now at 0 (0.3 s long)
    clock.set(0.1)
    coach.on_event(RepEvent(rep(faults=["too_slow"]), t_s=0.1))
    step_until(coach, clock, 1.5)
    # rise cut at 0.1, 10 ms gap, then the fault buzz 0.11-0.31, 0.41-0.61; count at 1.0
    assert_history(buzzer, beeps((0.0, 0.1), (0.11, 0.31), (0.41, 0.61), (1.0, 1.03)))
    assert_history(led, [(0.0, 0.0), (0.0, 1.0)])  # LED stays with the phase (rising)


def test_stop_silences_and_returns_to_free(clock):
    coach, led, buzzer = make(clock)
    coach.start_guided("2-0-2-0")
    step_until(coach, clock, 2.1)  # mid "rise now"
    assert coach.buzzer.tone_hz > 0 and coach.light.level == 1.0
    assert coach.stop() is None
    assert coach.mode == "free"
    assert buzzer.state == 0 and led.state == 0
    step_until(coach, clock, 6.0)
    assert changes(buzzer)[-1] == (2.1, 0.0)


def test_close_turns_everything_off_and_releases_pins(clock):
    factory = MockFactory(pin_class=MockPWMPin)
    coach = Coach(pin_factory=factory, clock=clock)
    coach.on_event(RepEvent(rep(faults=["partial"]), t_s=0.0))
    assert factory.pin(18).state == 1 and factory.pin(17).state == 1
    coach.close()
    assert factory.pin(18).state == 0 and factory.pin(17).state == 0
    coach.close()  # idempotent
    coach.tick(5.0)  # ignored after close
    coach.on_event(RepEvent(rep(), t_s=1.0))
    assert factory.pin(18).state == 0
    LED(17, pin_factory=factory).close()  # the pin is free again


def test_pwm_led_needs_a_pwm_factory(clock):
    with pytest.raises(PinMapError, match="led_pwm"):
        Coach(PinMap(led_pwm=True), pin_factory=MockFactory(), clock=clock)
    with pytest.raises(PinMapError, match="passive buzzer on GPIO18 needs PWM"):
        Coach(PinMap(led_pwm=False, buzzer_kind="passive"), pin_factory=MockFactory(), clock=clock)


def test_renderer_follows_the_coach(clock):
    import io

    from heelraise.cues.render import CueConsole

    out = io.StringIO()
    factory = MockFactory(pin_class=MockPWMPin)
    console = CueConsole(out, inline=False)
    coach = Coach(pin_factory=factory, clock=clock, on_output=console)
    console.coach = coach
    clock.set(1.0)
    coach.on_event(RepEvent(rep(faults=["ankle_roll"]), t_s=1.0))
    step_until(coach, clock, 2.0)
    assert out.getvalue().splitlines() == [
        "   0.000 s  LED ●  BUZZER ♪  free",
        "   0.200 s  LED ○  BUZZER ·  free",
        "   0.300 s  LED ●  BUZZER ♪  free",
        "   0.500 s  LED ○  BUZZER ·  free",
    ]


def test_tones_of_guided_cues_on_passive_buzzer(clock):
    coach, led, buzzer = make(clock, kind="passive", settings=CueSettings(lead_in_counts=1))
    seen = []
    coach.start_guided("1-0-1-1")  # count at 0; rise 1, hold 2, lower 3, rise 4
    for ms in range(0, 4100, 5):
        clock.set(ms / 1000)
        coach.tick()
        f = buzzer.frequency if buzzer.state else None
        if f and (not seen or seen[-1] != f):
            seen.append(f)
    assert seen == [pytest.approx(x) for x in (G6, A6, E6, A5, A6)]
    assert C4 < A5  # the fault buzz is the lowest pitch
