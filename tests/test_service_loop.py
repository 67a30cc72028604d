"""The service loop with a scripted analyzer: routing, state, commands, gaps, shutdown.

The analyzer here is a fake that emits pre-scripted events when the stream
reaches their time, so these tests pin down the loop's own behaviour; the
tests in test_service_sim.py run the real Analyzer on simulated sessions.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
from heelraise.chain.analyzer import AnalyzerState
from heelraise.clock import ManualClock
from heelraise.events import GapEvent, Rep, RepEvent, SessionEvent, SetEvent, SetSummary
from heelraise.exceptions import SettingsError
from heelraise.service.assemble import build_service
from heelraise.service.commands import COMMANDS_PER_STEP
from heelraise.service.config import parse_config
from heelraise.service.testing import ArrayImu
from heelraise.tempo import Tempo

FS_HZ = 100.0


def rep(set_, index, start_s, heel_rise_mm=50.0):
    return Rep(set_, index, start_s, start_s + 2, start_s + 3, start_s + 6, 20.0, 0.0, heel_rise_mm)


class ScriptedAnalyzer:
    """Emits ``script`` events [(t_s, event)] once the stream passes t_s; a set opens at
    the first rep and closes at its SetEvent, like the real one."""

    def __init__(self, script=()):
        self.script = sorted(script, key=lambda x: x[0])
        self.state = AnalyzerState()
        self.calls: list = []
        self.tempo = None
        self.reps: list[Rep] = []

    def _apply(self, event):
        st = self.state
        if event.kind == "rep":
            st.set_open = True
            st.set_index = event.rep.set
            st.reps_in_set = event.rep.index
            st.rep_count += 1
            st.phase = "bottom"
            self.reps.append(event.rep)
        elif event.kind == "set":
            st.set_open = False
            st.reps_in_set = 0
            st.phase = "still"
        return event

    def update(self, t_s, acc_g, gyr_dps):
        self.calls.append(("update", float(t_s[0]), float(t_s[-1]), len(t_s)))
        self.state.t_s = float(t_s[-1])
        self.state.calibrated = True
        self.state.pitch_deg = float(acc_g[-1, 0])
        if self.state.phase == "uncalibrated":
            self.state.phase = "still"
        out = []
        while self.script and self.script[0][0] <= t_s[-1]:
            out.append(self._apply(self.script.pop(0)[1]))
        return out

    def mark_gap(self, start_s, end_s, reason="gap"):
        self.calls.append(("mark_gap", start_s, end_s, reason))
        return []

    def end_set(self):
        self.calls.append(("end_set",))
        if not self.state.set_open:
            return []
        reps = [r for r in self.reps if r.set == self.state.set_index]
        summary = SetSummary(self.state.set_index, reps[0].start_s, self.state.t_s, reps, "command")
        return [self._apply(SetEvent(summary, self.state.t_s))]

    def set_tempo(self, tempo):
        self.calls.append(("set_tempo", tempo))
        self.tempo = tempo

    def finish(self):
        self.calls.append(("finish",))
        return self.end_set() if self.state.set_open else []


class RecordingSink:
    def __init__(self):
        self.events, self.states, self.live, self.log = [], [], [], []
        self.closed = 0

    def on_event(self, event):
        self.events.append(event)
        self.log.append(("event", event.kind))

    def on_state(self, state):
        self.states.append(state)

    def on_live(self, t_s, pitch_deg, phase):
        self.live.append((t_s, pitch_deg, phase))

    def on_health(self, health):
        pass

    def close(self):
        self.closed += 1
        self.log.append(("close",))


class FakeCoach:
    """Records calls; paces an endurance test whose first up beat is ``first_beat_s``."""

    def __init__(self, log=None, first_beat_s=None):
        self.calls = [] if log is None else log
        self.mode = "free"
        self.first_beat_s = first_beat_s  # None: three beats after the start
        self.clock = None  # make() hands over its clock

    def on_event(self, event):
        self.calls.append(("on_event", event.kind))

    def on_state(self, state):
        self.calls.append(("on_state", state["phase"]))

    def tick(self, now_s):
        pass

    def start_guided(self, tempo):
        self.calls.append(("start_guided", str(tempo)))
        self.mode = "guided"

    def start_endurance(self, beat_s):
        self.calls.append(("start_endurance", beat_s))
        self.mode = "endurance"
        return self.clock() + 3 * beat_s if self.first_beat_s is None else self.first_beat_s

    def play_verdict(self, verdict):
        self.calls.append(("verdict", verdict))

    def end_endurance(self):
        self.calls.append(("end_endurance",))
        self.mode = "free"

    def stop(self):
        self.calls.append(("stop",))
        self.mode = "free"

    def close(self):
        self.calls.append(("close",))

    def set_sensor_ok(self, ok):
        self.calls.append(("sensor_ok", ok))


NO_COACH = object()


class IdleButton:
    """A set button nobody presses."""

    def poll(self):
        return []

    def close(self):
        pass


def make(script=(), seconds=30.0, config_text="", gaps=(), sinks=None, coach=None, **kw):
    clock = ManualClock(1000.0)
    n = int(seconds * FS_HZ)
    t = np.arange(n) / FS_HZ
    acc = np.zeros((n, 3))
    acc[:, 0] = t  # the scripted analyzer reports acc x as "pitch": here the time
    acc[:, 2] = 1.0
    imu = ArrayImu(t, acc, np.zeros((n, 3)), clock=clock, gaps=gaps)
    analyzer = ScriptedAnalyzer(script)
    sink = RecordingSink()
    if coach is None:
        coach = FakeCoach()
    if isinstance(coach, FakeCoach):
        coach.clock = clock
    service = build_service(
        parse_config(config_text),
        imu=imu,
        coach=None if coach is NO_COACH else coach,
        sinks=sinks if sinks is not None else [sink],
        clock=clock,
        sleep=clock.sleep,
        analyzer=analyzer,
        stop_when_exhausted=True,
        **kw,
    )
    return service, sink, analyzer, imu, clock


def one_set_script(set_=1, first_s=2.0, reps=3, end_s=None):
    rs = [rep(set_, i + 1, first_s + 7 * i) for i in range(reps)]
    script = [(r.end_s + 0.2, RepEvent(r, r.end_s + 0.2)) for r in rs]
    if end_s is not None:
        summary = SetSummary(set_, rs[0].start_s, end_s, rs, "pause")
        script.append((end_s, SetEvent(summary, end_s)))
    return script


def test_events_go_to_coach_then_sinks_in_stream_order_and_the_session_closes_last():
    log: list = []
    coach = FakeCoach(log)
    service, sink, analyzer, imu, _ = make(one_set_script(end_s=25.0), coach=coach)
    summary = service.run()
    assert [e.kind for e in sink.events] == ["rep", "rep", "rep", "set", "session"]
    assert [e.rep.index for e in sink.events[:3]] == [1, 2, 3]
    assert [c for c in log if c[0] == "on_event"] == [
        ("on_event", k) for k in ["rep"] * 3 + ["set"]
    ]
    session = sink.events[-1]
    assert isinstance(session, SessionEvent)
    assert session.summary.rep_count == 3 == summary.rep_count
    assert session.endurance is None
    assert session.t_s == pytest.approx(29.99)
    assert sink.closed == 1 and sink.log[-1] == ("close",)
    assert log[-2:] == [("stop",), ("close",)]  # cues off, then released
    assert imu.opened and imu.closed
    # every sample reached the analyzer exactly once, in order, 20 ms reads
    updates = [c for c in analyzer.calls if c[0] == "update"]
    assert sum(c[3] for c in updates) == 3000
    assert all(a[2] < b[1] for a, b in zip(updates, updates[1:], strict=False))
    assert 1400 <= len(updates) <= 1600


def test_finish_closes_the_open_set_at_shutdown():
    service, sink, analyzer, _, _ = make(one_set_script())
    service.run()
    assert ("finish",) in analyzer.calls
    assert [e.kind for e in sink.events] == ["rep", "rep", "rep", "set", "session"]
    assert sink.events[3].summary.ended_by == "command"
    assert sink.events[4].summary.rep_count == 3


def test_state_snapshots_only_on_change_and_carry_the_contract_keys():
    service, sink, *_ = make(one_set_script(end_s=25.0), config_text='[tempo]\ntarget="3-0-2-1"')
    service.run()
    keys = {
        "side",
        "working_side",
        "mode",
        "calibrated",
        "phase",
        "set",
        "reps_in_set",
        "rep_count",
        "tempo",
        "gaps",
        "gap_s",
    }
    assert all(set(s) == keys for s in sink.states)
    assert all(a != b for a, b in zip(sink.states, sink.states[1:], strict=False))
    assert sink.states[0]["calibrated"] is False  # published at open, before any sample
    assert [s["rep_count"] for s in sink.states if s["phase"] == "bottom"] == [1, 2, 3]
    assert sink.states[-1]["tempo"] == "3-0-2-1" and sink.states[-1]["mode"] == "free"
    assert len(sink.states) < 12


def test_live_pitch_is_off_by_default_and_at_most_25_hz_when_on():
    service, sink, *_ = make(seconds=10.0)
    service.run()
    assert sink.live == []
    service, sink, *_ = make(seconds=10.0, config_text="[mqtt]\nlive = true\nlive_hz = 25")
    service.run()
    t = np.array([x[0] for x in sink.live])
    assert np.all(np.diff(t) >= 0.04 - 1e-9)
    assert 200 <= len(t) <= 250  # 10 s at 25 Hz
    assert sink.live[10][1] == pytest.approx(t[10])  # the fake's pitch is the time


def test_set_live_command_switches_the_live_stream():
    service, sink, _, _, clock = make(seconds=4.0, config_text="[mqtt]\nlive_hz = 25")
    service.open()
    for _ in range(50):
        service.step()
        clock.sleep(0.02)
    assert sink.live == []
    f = service.submit_command("set_live", {"on": True})
    service.step()
    assert f.result(timeout=0) == (True, None)
    for _ in range(50):
        service.step()
        clock.sleep(0.02)
    assert 20 <= len(sink.live) <= 26
    f = service.submit_command("set_live", {"on": False})
    service.step()
    n = len(sink.live)
    for _ in range(50):
        service.step()
        clock.sleep(0.02)
    assert f.result(timeout=0) == (True, None) and len(sink.live) == n
    service.close()


def test_unknown_commands_and_bad_arguments_are_refused_with_a_reason():
    service, sink, analyzer, _, _ = make(seconds=2.0)
    service.open()
    futures = {
        "unknown": service.submit_command("jump", {}),
        "extra": service.submit_command("end_set", {"now": True}),
        "tempo": service.submit_command("set_tempo", {"tempo": "3-0"}),
        "no_tempo": service.submit_command("set_tempo", {}),
        "live": service.submit_command("set_live", {"on": 1}),
        "args": service.submit_command("start_set", ["x"]),
        "end": service.submit_command("end_set", {}),
        "pace": service.submit_command("start_endurance_test", {"pace_bpm": 500}),
        "stop_e": service.submit_command("stop_endurance_test", {}),
    }
    assert not any(f.done() for f in futures.values())  # only the loop thread runs them
    for _ in range(-(-len(futures) // COMMANDS_PER_STEP)):  # a few per read, never all at once
        service.step()
    results = {k: f.result(timeout=0) for k, f in futures.items()}
    assert all(ok is False for ok, _ in results.values()), results
    assert "unknown command 'jump'" in results["unknown"][1]
    assert "set_tempo" in results["unknown"][1]
    assert "unknown argument 'now'" in results["extra"][1]
    assert "'3-0'" in results["tempo"][1]
    assert "tempo" in results["no_tempo"][1]
    assert "'on'" in results["live"][1]
    assert "must be an object" in results["args"][1]
    assert results["end"][1] == "no set is open"
    assert "pace_bpm" in results["pace"][1] and "500" in results["pace"][1]
    assert results["stop_e"][1] == "no endurance test is running"
    assert ("end_set",) not in analyzer.calls
    service.close()


def test_set_tempo_reaches_the_analyzer_and_the_state():
    service, sink, analyzer, _, _ = make(seconds=2.0)
    service.open()
    f = service.submit_command("set_tempo", {"tempo": "3-0-2-1"})
    service.step()
    assert f.result(timeout=0) == (True, None)
    assert analyzer.tempo == Tempo.parse("3-0-2-1")
    assert sink.states[-1]["tempo"] == "3-0-2-1"
    f = service.submit_command("set_tempo", {"tempo": None})
    service.step()
    assert f.result(timeout=0) == (True, None)
    assert analyzer.tempo is None and sink.states[-1]["tempo"] is None
    service.close()


def test_end_set_command_closes_the_open_set_between_reads():
    service, sink, analyzer, _, clock = make(one_set_script(reps=2), seconds=30.0)
    service.open()
    while service.analyzer.state.rep_count < 2:
        service.step()
        clock.sleep(0.02)
    f = service.submit_command("end_set")
    service.step()
    assert f.result(timeout=0) == (True, None)
    assert [e.kind for e in sink.events] == ["rep", "rep", "set"]
    assert sink.events[-1].summary.ended_by == "command"
    assert service.submit_command("end_set").done() is False
    service.step()
    service.close()
    assert [e.kind for e in sink.events] == ["rep", "rep", "set", "session"]


def test_guided_mode_starts_the_coach_at_start_set_and_stops_it_at_end_set():
    coach = FakeCoach()
    cfg = '[tempo]\ntarget = "3-0-2-1"\nmode = "guided"'
    service, sink, _, _, clock = make(one_set_script(reps=1), config_text=cfg, coach=coach)
    service.open()
    assert service.submit_command("start_set").done() is False
    service.step()
    assert ("start_guided", "3-0-2-1") in coach.calls
    while service.analyzer.state.rep_count < 1:
        service.step()
        clock.sleep(0.02)
    f = service.submit_command("start_set")
    service.step()
    assert f.result(timeout=0) == (False, "set 1 is already open; end it first")
    f = service.submit_command("set_tempo", {"tempo": "2-0-2-0"})
    service.step()
    assert f.result(timeout=0) == (True, None)
    assert coach.calls.count(("start_guided", "2-0-2-0")) == 1  # re-paced mid-set
    f = service.submit_command("set_tempo", {"tempo": None})
    service.step()
    assert "guided mode needs a tempo" in f.result(timeout=0)[1]
    coach.calls.clear()
    service.submit_command("end_set")
    service.step()
    assert ("stop",) in coach.calls
    service.close()


def test_button_press_toggles_the_set_and_hold_toggles_the_endurance_test():
    class Button:
        def __init__(self):
            self.pending, self.closed = [], False

        def poll(self):
            out, self.pending = self.pending, []
            return out

        def close(self):
            self.closed = True

    button = Button()
    coach = FakeCoach()
    script = one_set_script(reps=2)
    service, sink, analyzer, _, clock = make(script, coach=coach, button=button)
    service.open()
    while service.analyzer.state.rep_count < 2:
        service.step()
        clock.sleep(0.02)
    button.pending = ["press"]
    service.step()
    assert [e.kind for e in sink.events] == ["rep", "rep", "set"]
    button.pending = ["hold"]
    service.step()
    assert service.mode == "endurance" and ("start_endurance", 1.0) in coach.calls
    assert sink.states[-1]["mode"] == "endurance"
    button.pending = ["press"]  # a press during the test stops it
    service.step()
    assert service.mode == "free"
    assert service.endurance_result["stopped_by"] == "command"
    service.close()
    assert button.closed


def test_the_endurance_test_ends_itself_when_the_pace_is_missed_and_says_so():
    coach = FakeCoach(first_beat_s=1000.0)  # pairs of beats every 4 s at 30 bpm
    service, sink, _, _, clock = make(seconds=3.0, coach=coach)
    service.open()
    f = service.submit_command("start_endurance_test", {"pace_bpm": 30})
    service.step()
    assert f.result(timeout=0) == (True, None)
    assert coach.calls[-2:] == [("start_endurance", 2.0), ("on_state", "still")]
    assert sink.states[-1]["mode"] == "endurance"
    # no rep at all: pair 0 is missed at 1000 + 0.35 + 4 s, pair 1 at 1008.35 s: stopped
    while clock() < 1008.3:
        service.step()
        clock.sleep(0.02)
    assert service.mode == "endurance"
    while clock() < 1008.4:
        service.step()
        clock.sleep(0.02)
    assert service.mode == "free" and sink.states[-1]["mode"] == "free"
    assert ("end_endurance",) in coach.calls
    service.close()
    e = sink.events[-1].endurance
    assert e["reps"] == 0 and e["stopped_by"] == "pace"


def test_without_a_coach_the_endurance_test_tallies_its_reps_into_the_session_event():
    script = one_set_script(reps=3, first_s=5.0, end_s=29.0)
    service, sink, _, _, clock = make(
        script, config_text="[user]\nbody_mass_kg = 80", coach=NO_COACH
    )
    service.open()
    f = service.submit_command("start_endurance_test", {"pace_bpm": 30})
    service.step()
    assert f.result(timeout=0) == (True, None)
    assert service.submit_command("start_endurance_test").done() is False
    service.step()
    while not service.imu.finished:
        service.step()
        clock.sleep(0.02)
    service.close()
    session = sink.events[-1]
    assert session.kind == "session"
    e = session.endurance
    assert e["reps"] == 3 and e["stopped_by"] == "set_end"
    assert e["first_heel_rise_mm"] == 50.0 and e["decline_pct"] == 0.0
    assert e["work_j"] == pytest.approx(3 * 80 * 9.80665 * 0.05, abs=0.1)


def test_a_gap_is_marked_in_the_analyzer_and_sent_as_a_gap_event():
    gaps = [(10.0, 10.5, "fifo_overflow")]
    service, sink, analyzer, _, _ = make(seconds=20.0, gaps=gaps)
    service.run()
    marks = [c for c in analyzer.calls if c[0] == "mark_gap"]
    assert marks == [("mark_gap", 10.0, 10.5, "fifo_overflow")]
    # the hole is marked before the samples after it are fed
    i = analyzer.calls.index(marks[0])
    assert analyzer.calls[i - 1][2] < 10.0 and analyzer.calls[i + 1][1] > 10.5
    gaps_out = [e for e in sink.events if e.kind == "gap"]
    assert len(gaps_out) == 1 and isinstance(gaps_out[0], GapEvent)
    assert (gaps_out[0].start_s, gaps_out[0].end_s, gaps_out[0].reason) == (
        10.0,
        10.5,
        "fifo_overflow",
    )


def test_a_failing_sink_is_logged_and_the_others_still_get_everything(caplog):
    class Broken(RecordingSink):
        def on_event(self, event):
            raise OSError("disk full")

    good = RecordingSink()
    service, *_ = make(one_set_script(end_s=25.0), sinks=[Broken(), good])
    with caplog.at_level(logging.ERROR, logger="heelraise.service"):
        service.run()
    assert [e.kind for e in good.events] == ["rep", "rep", "rep", "set", "session"]
    assert good.closed == 1
    assert "Broken.on_event failed: OSError: disk full" in caplog.text


def test_commands_after_shutdown_are_refused_and_queued_ones_answered():
    service, *_ = make(seconds=1.0)
    service.open()
    pending = service.submit_command("set_live", {"on": True})
    service.close()
    assert pending.result(timeout=0) == (False, "the service is stopping")
    late = service.submit_command("end_set")
    assert late.result(timeout=0) == (False, "the service is stopping")


def test_stop_ends_the_run_after_the_current_read():
    service, sink, _, imu, clock = make(seconds=60.0)

    class StopAfter:
        def __init__(self):
            self.n = 0

        def __call__(self, s):
            self.n += 1
            clock.sleep(s)
            if self.n == 100:
                service.stop()

    service._sleep = StopAfter()
    service.run()
    assert imu.reads == 100 and imu.closed  # stopped during the 100th sleep
    assert sink.events[-1].kind == "session"


def test_duration_is_measured_on_the_injected_clock():
    service, _, _, imu, clock = make(seconds=60.0)
    service.stop_when_exhausted = False
    start = clock()
    service.run(duration_s=10.0)
    assert clock() - start == pytest.approx(10.0, abs=0.021)
    assert 495 <= imu.reads <= 505


def test_a_sensor_that_fails_to_open_raises_and_still_closes_the_sinks():
    from heelraise.exceptions import SensorError

    clock = ManualClock()
    sink = RecordingSink()
    imu = ArrayImu(np.zeros(1), np.zeros((1, 3)), np.zeros((1, 3)), clock=clock, fail_open=True)
    service = build_service(
        parse_config(""), imu=imu, sinks=[sink], clock=clock, analyzer=ScriptedAnalyzer()
    )
    with pytest.raises(SensorError):
        service.run()
    assert sink.closed == 1 and not imu.closed


def test_sensor_health_changes_reach_the_coach_once_each():
    coach = FakeCoach()
    service, _, _, imu, clock = make(seconds=2.0, coach=coach)
    service.open()
    for healthy in (True, False, False, True, True):
        imu.healthy = healthy
        service.step()
    assert [c for c in coach.calls if c[0] == "sensor_ok"] == [
        ("sensor_ok", False),
        ("sensor_ok", True),
    ]
    service.close()


def test_guided_mode_without_a_button_paces_from_the_start():
    coach = FakeCoach()
    cfg = '[tempo]\ntarget = "3-0-2-1"\nmode = "guided"'
    service, *_ = make(seconds=1.0, config_text=cfg, coach=coach)
    service.open()
    assert ("start_guided", "3-0-2-1") in coach.calls
    service.close()
    coach = FakeCoach()
    service, *_ = make(seconds=1.0, config_text=cfg, coach=coach, button=IdleButton())
    service.open()
    assert not any(c[0] == "start_guided" for c in coach.calls)
    service.close()


def test_falling_behind_is_warned_once_then_at_most_every_10_s_with_a_count(caplog):
    class StallingCoach(FakeCoach):
        """Each tick before 1025 s takes 1.5 s of clock (a stalling bus, a suspend)."""

        stalls = 0

        def tick(self, now_s):
            if now_s < 1025.0:
                clock.advance(1.5)
                self.stalls += 1

    coach = StallingCoach()
    service, sink, _, imu, clock = make(one_set_script(end_s=25.0), coach=coach)
    with caplog.at_level(logging.WARNING, logger="heelraise.service"):
        service.run()
    assert coach.stalls == 17  # ticks at 1000, 1001.5, ... 1024 s: each read falls behind
    warned = [r.getMessage() for r in caplog.records if "fell" in r.getMessage()]
    # at once (1001.5 s), then at 1012 s and 1022.5 s, then the last 2 at shutdown
    assert len(warned) == 4, warned
    assert warned[0].startswith("loop fell 1.5 s behind; skipping ahead")
    counts = [int(m.split("fell behind ")[1].split(" ")[0]) for m in warned[1:]]
    assert counts == [7, 7, 2]
    assert 1 + sum(counts) == coach.stalls  # nothing is lost from the count
    assert "in the last 10.5 s" in warned[1] and "in the last 10.5 s" in warned[2]
    # the loop carried on: everything after the stalls was still read and delivered
    assert imu.finished
    assert [e.kind for e in sink.events] == ["rep", "rep", "rep", "set", "session"]


def test_a_loop_that_keeps_up_never_warns(caplog):
    service, *_ = make(one_set_script(end_s=25.0))
    with caplog.at_level(logging.WARNING, logger="heelraise.service"):
        service.run()
    assert "fell" not in caplog.text


@pytest.mark.parametrize("bad", [0, -0.02, float("nan"), float("inf"), "0.02", True])
def test_read_interval_must_be_a_positive_number_of_seconds(bad):
    with pytest.raises(SettingsError, match="read_interval_s must be a number of seconds above 0"):
        make(seconds=1.0, read_interval_s=bad)


def test_assemble_hands_the_read_interval_to_the_loop():
    from heelraise.service.assemble import assemble

    clock = ManualClock(1000.0)
    n = int(2.0 * FS_HZ)
    acc = np.tile([0.0, 0.0, 1.0], (n, 1))
    imu = ArrayImu(np.arange(n) / FS_HZ, acc, np.zeros((n, 3)), clock=clock)
    parts = assemble(
        parse_config(""),
        imu=imu,
        clock=clock,
        sleep=clock.sleep,
        cues=False,
        read_interval_s=0.1,
    )
    assert parts.service.read_interval_s == 0.1
    parts.service.stop_when_exhausted = True
    parts.service.run()
    assert imu.reads == pytest.approx(2.0 / 0.1, abs=1)
    default = assemble(parse_config(""), imu=imu, clock=clock, sleep=clock.sleep, cues=False)
    assert default.service.read_interval_s == 0.02
