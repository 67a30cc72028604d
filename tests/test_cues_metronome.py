"""The metronome schedule and the pattern player, without hardware."""

from __future__ import annotations

import pytest
from heelraise.cues.metronome import Metronome, endurance_cycle, guided_cycle
from heelraise.cues.patterns import (
    COUNT,
    HOLD,
    PATTERNS,
    REP_FAULT,
    REP_OK,
    RISE_NOW,
    SENSOR_TROUBLE,
    SET_DONE,
)
from heelraise.cues.player import FEEDBACK_GAP_S, HISTORY_LEN, SEPARATION_S, PatternPlayer
from heelraise.exceptions import SettingsError, TempoError
from heelraise.tempo import Tempo


def names(cues):
    return [(round(t, 6), p.name) for t, p in cues]


def test_guided_cycle_follows_lower_bottom_raise_top_notation():
    cycle = guided_cycle(Tempo.parse("3-1-2-0"))  # no top hold: that segment is left out
    assert [(s.phase, s.dur_s, s.cue.name, s.light) for s in cycle] == [
        ("raise", 2.0, "rise_now", "on"),
        ("lower", 3.0, "lower_now", "off"),
        ("bottom", 1.0, "hold", "pulse"),
    ]


def test_cues_with_counts_inside_phases():
    m = Metronome(guided_cycle("3-1-2-0"), start_s=100.0, lead_in_counts=1)
    assert names(m.cues_between(None, 107.0)) == [
        (100.0, "count"),
        (101.0, "rise_now"),
        (102.0, "count"),
        (103.0, "lower_now"),
        (104.0, "count"),
        (105.0, "count"),
        (106.0, "hold"),
        (107.0, "rise_now"),
    ]


def test_cue_windows_are_half_open_and_never_repeat():
    m = Metronome(guided_cycle("2-0-2-0"), start_s=0.0, lead_in_counts=0)
    seen = []
    t_prev = 0.0
    for k in range(1, 2001):  # 10 s in 5 ms ticks
        t = k / 200
        seen += names(m.cues_between(t_prev, t))
        t_prev = t
    assert seen == names(m.cues_between(None, 10.0))[1:]  # all but the one at exactly t=0
    assert len(seen) == 10  # 2 cues + 2 counts per 4 s, over 10 s: 0 excluded


def test_no_drift_after_many_cycles():
    m = Metronome(guided_cycle("3-0-2-1"), start_s=0.0, lead_in_counts=2)
    cycle_s = 6.0
    t = 2.0 + 1000 * cycle_s
    assert names(m.cues_between(t - 0.001, t)) == [(t, "rise_now")]
    seg, start = m.phase_at(t + 2.5)
    assert (seg.phase, start) == ("top", t + 2.0)


def test_light_shows_the_phase():
    m = Metronome(guided_cycle("2-1-2-1"), start_s=0.0, lead_in_counts=2)
    assert m.light_at(1.0, pwm=True) == 0.0  # lead-in
    assert m.light_at(2.5, pwm=True) == 1.0  # rising
    assert m.light_at(4.1, pwm=True) == 1.0  # top hold, bright part of the pulse
    assert m.light_at(4.2, pwm=True) == 0.2  # dim part
    assert m.light_at(4.2, pwm=False) == 0.0  # a plain LED blinks
    assert m.light_at(5.5, pwm=True) == 0.0  # lowering


def test_endurance_cycle_is_one_beat_up_one_down():
    m = Metronome(endurance_cycle(1.0), start_s=0.0, lead_in_counts=3)
    assert m.first_beat_s == 3.0
    assert names(m.cues_between(None, 6.5)) == [
        (0.0, "count"),
        (1.0, "count"),
        (2.0, "count"),
        (3.0, "rise_now"),
        (4.0, "lower_now"),
        (5.0, "rise_now"),
        (6.0, "lower_now"),
    ]


def test_bad_tempo_is_named():
    with pytest.raises(TempoError, match="'3-0-2'"):
        guided_cycle("3-0-2")
    with pytest.raises(SettingsError, match="not 42"):
        guided_cycle(42)
    with pytest.raises(SettingsError, match="beat_s must be greater than 0"):
        endurance_cycle(0)


def test_patterns_are_told_apart_by_rhythm_alone():
    """An active buzzer has one pitch: every pattern needs its own on/off rhythm."""
    rhythms = {}
    for p in PATTERNS.values():
        rhythm = tuple((s.dur_s, s.tone_hz > 0) for s in p.steps)
        assert rhythm not in rhythms, f"{p.name} sounds like {rhythms.get(rhythm)}"
        rhythms[rhythm] = p.name


def test_player_priority_preempts_and_queue_expires():
    p = PatternPlayer(max_wait_s=0.6)
    p.play(COUNT, 0.0)
    p.play(SENSOR_TROUBLE, 0.01)  # higher priority: interrupts the click
    assert p.current.name == "sensor_trouble"
    assert p.output() == (0.0, None)  # 40 ms of separation first
    p.advance(0.01 + SEPARATION_S)
    assert p.output()[0] == SENSOR_TROUBLE.steps[0].tone_hz
    p.play(RISE_NOW, 0.1)  # lower: waits, but the trouble pattern lasts 2.25 s
    for k in range(6, 240):
        p.advance(k / 100)
    assert p.current is None  # "rise now" went stale and was dropped
    assert [n for _, n in p.history] == ["count", "sensor_trouble"]


def test_player_feedback_cuts_what_plays_with_a_short_gap_and_goes_first():
    p = PatternPlayer()
    p.play(SENSOR_TROUBLE, 0.0)  # the highest priority there is
    p.play(HOLD, 0.1)  # waits behind it
    p.play(REP_FAULT, 0.2)  # feedback: cuts the trouble beep, ahead of "hold"
    assert p.current.name == "rep_fault"
    assert p.output() == (0.0, None)  # only FEEDBACK_GAP_S of silence
    p.advance(0.2 + FEEDBACK_GAP_S)
    assert p.output()[0] == REP_FAULT.steps[0].tone_hz
    p.play(SET_DONE, 0.3)  # not feedback: waits for the fault buzz though it outranks it
    p.play(REP_OK, 0.3)  # newer feedback cuts the older one
    assert p.current.name == "rep_ok"
    for k in range(31, 200):
        p.advance(k / 100)
    # the cut trouble and fault patterns are dropped; then the waiting ones by priority:
    # the arpeggio, after which "hold" (waiting since 0.1 s) is stale and dropped
    assert [n for _, n in p.history] == ["sensor_trouble", "rep_fault", "rep_ok", "set_done"]


def test_player_feedback_right_after_a_sound_waits_only_the_short_gap():
    p = PatternPlayer()
    p.play(COUNT, 0.0)
    p.advance(0.03)  # the click ends
    p.play(REP_OK, 0.035)  # 5 ms after it: 5 ms more silence, not 35
    assert p.output() == (0.0, None)
    p.advance(0.035 + FEEDBACK_GAP_S - 0.005)
    assert p.output()[0] == REP_OK.steps[0].tone_hz
    p.advance(0.1)  # the chirp ends
    p.play(REP_FAULT, 1.0)  # long after any sound: at once
    assert p.output()[0] == REP_FAULT.steps[0].tone_hz


def test_late_advance_lengthens_a_step_but_never_drops_one():
    p = PatternPlayer()
    p.play(REP_FAULT, 0.0)  # 200 on, 100 off, 200 on
    p.advance(0.5)  # a stalled loop: the first step just ends now
    assert p.output()[0] == 0.0 and p.current.name == "rep_fault"
    p.advance(0.6)
    assert p.output()[0] == REP_FAULT.steps[2].tone_hz  # the second buzz still sounds
    p.advance(0.8)
    assert p.current is None


def test_player_plays_waiting_patterns_by_priority():
    p = PatternPlayer()
    p.play(RISE_NOW, 0.0)
    p.play(COUNT, 0.1)
    p.play(HOLD, 0.2)  # same priority as rise_now, higher than count
    for k in range(1, 200):
        p.advance(k / 100)
    assert [n for _, n in p.history] == ["rise_now", "hold", "count"]


def test_player_history_is_bounded_and_keeps_the_newest():
    p = PatternPlayer()
    n = HISTORY_LEN + 500
    for k in range(n):
        p.play(COUNT, float(k))  # one click a second
        p.advance(k + 0.5)  # over before the next
    assert len(p.history) == HISTORY_LEN
    assert p.history[-1] == (float(n - 1), "count")
    assert p.history[0] == (float(n - HISTORY_LEN), "count")
