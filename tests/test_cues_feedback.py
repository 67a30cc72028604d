"""Rep feedback within its latency budget, on gpiozero's MockFactory with an injected clock.

A user must hear the chirp (or fault buzz) for a rep within 60 ms of the rep's end;
the chain takes most of that, so the coach's own share is what these tests pin down:
the buzzer's first on-edge after the event comes at the event itself when the
buzzer is silent, and one short gap (``FEEDBACK_GAP_S``, held until the next tick)
after it when something is sounding (a metronome cue, the previous rep's feedback,
sensor trouble), which is cut. Ticks on an exact 5 ms grid, except where a test
uses the service's 20 ms loop; every history is checked whole (times and the number
of states) with gpiozero's ``assert_states_and_times``.
"""

from __future__ import annotations

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin
from heelraise.clock import ManualClock
from heelraise.cues.coach import Coach
from heelraise.cues.pins import PinMap
from heelraise.cues.player import FEEDBACK_GAP_S
from heelraise.cues.settings import CueSettings
from heelraise.cues.testing import (
    assert_history,
    beeps,
    changes,
    mock_pins_follow,
    step_until,
)
from heelraise.events import GapEvent, Rep, RepEvent

#: The service's loop period: the coach is ticked once per read.
LOOP_S = 0.02
#: The coach's share of the 60 ms budget: at most the gap, held until the next tick.
COACH_BUDGET_S = LOOP_S


@pytest.fixture
def clock():
    c = ManualClock(0.0)
    with mock_pins_follow(c):
        yield c


def make(clock, *, kind="active", lead_in_counts=0):
    factory = MockFactory(pin_class=MockPWMPin)
    coach = Coach(
        PinMap(buzzer_kind=kind),
        CueSettings(lead_in_counts=lead_in_counts),
        pin_factory=factory,
        clock=clock,
    )
    return coach, factory.pin(18)


def rep_event(t_s, faults=()):
    r = Rep(1, 1, t_s - 1.9, t_s - 1.0, t_s - 0.9, t_s, 20.0, 0.0, 50.0, faults=list(faults))
    return RepEvent(r, t_s=t_s)


def first_on_after(pin, t_s):
    return next(t for t, v in changes(pin) if v > 0 and t >= t_s - 1e-9)


def test_chirp_sounds_on_the_event_itself_no_tick_needed(clock):
    coach, buzzer = make(clock)
    clock.set(0.103)  # off the tick grid
    coach.on_event(rep_event(0.103))
    assert buzzer.state == 1  # applied inside on_event: no waiting for the next tick
    step_until(coach, clock, 0.5)
    assert_history(buzzer, beeps((0.103, 0.153)))


def test_fault_buzz_cuts_the_previous_fault_buzz(clock):
    coach, buzzer = make(clock)
    coach.on_event(rep_event(0.0, faults=["partial"]))  # 0-0.2 on, 0.3-0.5 on
    step_until(coach, clock, 0.35)  # inside its second buzz
    coach.on_event(rep_event(0.35, faults=["too_fast"]))
    step_until(coach, clock, 1.5)
    gap = FEEDBACK_GAP_S
    assert_history(
        buzzer, beeps((0.0, 0.2), (0.3, 0.35), (0.35 + gap, 0.55 + gap), (0.65 + gap, 0.85 + gap))
    )
    assert first_on_after(buzzer, 0.35) - 0.35 <= COACH_BUDGET_S


def test_chirp_cuts_a_metronome_click_and_the_click_is_not_replayed(clock):
    coach, buzzer = make(clock)
    coach.start_guided("2-0-2-0")  # rise_now 0-0.3, a count click at 1.0 (30 ms)
    step_until(coach, clock, 1.01)
    coach.on_event(rep_event(1.01))
    step_until(coach, clock, 1.9)
    gap = FEEDBACK_GAP_S
    assert_history(buzzer, beeps((0.0, 0.3), (1.0, 1.01), (1.01 + gap, 1.06 + gap)))


def test_feedback_cuts_sensor_trouble(clock):
    coach, buzzer = make(clock)
    coach.on_event(GapEvent(0.0, 0.5, reason="fifo_overflow", t_s=0.0))  # 500 on / 250 off x3
    step_until(coach, clock, 0.2)
    coach.on_event(rep_event(0.2))
    step_until(coach, clock, 3.0)
    gap = FEEDBACK_GAP_S
    assert_history(buzzer, beeps((0.0, 0.2), (0.2 + gap, 0.25 + gap)))  # trouble dropped
    assert [n for _, n in coach.player.history] == ["sensor_trouble", "rep_ok"]


def test_feedback_during_silence_between_metronome_cues_is_at_once(clock):
    coach, buzzer = make(clock)
    coach.start_guided("2-0-2-0")
    step_until(coach, clock, 0.6)  # rise_now over at 0.3: silent until the count at 1.0
    coach.on_event(rep_event(0.6, faults=["bounce"]))
    step_until(coach, clock, 1.5)
    # fault 0.6-0.8, 0.9-1.1; the count due at 1.0 waits for it (40 ms apart) then clicks
    assert_history(buzzer, beeps((0.0, 0.3), (0.6, 0.8), (0.9, 1.1), (1.14, 1.17)))


@pytest.mark.parametrize("kind", ["active", "passive"])
def test_on_the_service_loop_feedback_is_at_most_one_tick_late(clock, kind):
    """20 ms ticks like the service; events land between ticks, as the chain hands them out.

    A fault buzz, then mid-buzz a chirp: the first starts on its event (the buzzer is
    silent), the second cuts the buzz and starts on the first tick after its 10 ms gap."""
    coach, buzzer = make(clock, kind=kind)
    events = {0.107: ["too_slow"], 0.263: []}  # between ticks
    for ms in range(0, 1000, 20):
        t = ms / 1000
        for t_s, faults in events.items():
            if t - LOOP_S < t_s <= t:
                clock.set(t_s)
                coach.on_event(rep_event(t_s, faults))
        clock.set(t)
        coach.tick()
    on = 1.0 if kind == "active" else 0.5  # a TonalBuzzer's PWM pin: duty 0.5 while sounding
    # fault 0.107 until cut at 0.263; gap to 0.273, held to the tick at 0.28; chirp 50 ms,
    # ending on the tick at 0.34
    assert_history(buzzer, [(0.0, 0.0), (0.107, on), (0.263, 0.0), (0.28, on), (0.34, 0.0)])
    assert first_on_after(buzzer, 0.263) - 0.263 <= COACH_BUDGET_S
    assert [n for _, n in coach.player.history] == ["rep_fault", "rep_ok"]
