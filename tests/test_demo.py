"""``heelraise demo``: the simulated workout through the real service, a broker and the dashboard.

Speed ``max`` runs the service on a virtual clock, so the whole 3 x 10 session plays in
seconds and the result does not depend on how busy the machine is. Waits are bounded polls.
"""

from __future__ import annotations

import io
import math
import os
import signal
import socket
import subprocess
import sys
import threading

import httpx
import pytest
from conftest import free_port, wait_until
from heelraise.demo.broker import EmbeddedBroker, listening
from heelraise.demo.runner import Demo
from heelraise.demo.summary import summary_lines
from heelraise.demo.workout import DEVICE_ID, demo_spec, read_interval_s
from heelraise.exceptions import DemoError


def test_demo_plays_the_workout_into_the_dashboard_and_stops_its_broker():
    port = free_port()
    out = io.StringIO()
    demo = Demo(speed=math.inf, port=port, http="127.0.0.1:0", stdout=out)
    try:
        demo.start()
        assert demo.broker.embedded and listening("127.0.0.1", port)
        # the loop period is handed to assemble(): 0.25 sensor s per read at speed max
        assert demo.parts.service.read_interval_s == read_interval_s(math.inf) == 0.25
        summary = demo.play()
        assert demo.workout_finished
        assert demo.wait_delivered(30.0), "the dashboard never stored the session event"

        # the service counted the simulated session exactly
        assert summary.rep_count == 30
        assert [s.rep_count for s in summary.sets] == [10, 10, 10]
        assert demo.gaps == []

        # ... and the dashboard stored it, set by set, rep by rep
        detail = demo.stored()
        assert detail["rep_count"] == 30 and detail["set_count"] == 3
        assert [len(s["reps"]) for s in detail["sets"]] == [10, 10, 10]
        assert [s["summary"]["rep_count"] for s in detail["sets"]] == [10, 10, 10]
        assert [r["index"] for r in detail["sets"][1]["reps"]] == list(range(1, 11))
        assert detail["summary"]["rep_count"] == 30
        assert not demo.ingest.rejected
        faults = sum(len(r["faults"]) > 0 for s in detail["sets"] for r in s["reps"])
        assert faults >= 3  # ~15 % of reps were made with a form fault

        # the web app serves the same session
        r = httpx.get(
            demo.url + "api/session",
            params={"device": DEVICE_ID, "session": demo.session_id},
            timeout=10,
        )
        assert r.status_code == 200 and r.json()["rep_count"] == 30

        # the coach drove the mock LED pin: on at least once per rep (chirp or fault flash)
        led = demo.parts.pin_factory.pin(17)
        ons = sum(
            1 for a, b in zip(led.states, led.states[1:], strict=False) if not a.state and b.state
        )
        assert ons >= 30
        # ... and the terminal showed it
        text = out.getvalue()
        assert "LED ●" in text and "LED ○" in text and "BUZZER ♪" in text
        assert text.count("set 3 rep ") == 10
    finally:
        demo.close()
    assert not listening("127.0.0.1", port), "the embedded broker still listens after close()"


def test_demo_pair_plays_two_shoes_the_right_one_weaker():
    port = free_port()
    out = io.StringIO()
    demo = Demo(speed=math.inf, port=port, http="127.0.0.1:0", stdout=out, pair=True)
    try:
        demo.start()
        assert [s.side for s in demo.parts.service.shoes] == ["left", "right"]
        summary = demo.play()
        assert demo.workout_finished and demo.gaps == []
        service = demo.parts.service
        totals = service.side_totals()
        for side, imu in demo.sim_imus.items():  # each shoe's own count, exact
            assert totals[side].reps == len(imu.session.truth["reps"]), side
        assert (totals["left"].reps, totals["right"].reps) == (30, 24)  # 80 %: the weaker
        assert totals["right"].mean_heel_rise_mm < totals["left"].mean_heel_rise_mm
        assert summary.rep_count == 54 and service.involved_side == "right"
        assert demo.wait_delivered(30.0), "the dashboard never stored the session event"
        assert demo.stored()["summary"]["rep_count"] == 54
        assert not demo.ingest.rejected, dict(demo.ingest.rejected)  # both shoes' reps stored
        text = out.getvalue()
        assert text.count("right set 1 rep ") == 8 and text.count("left  set 1 rep ") == 10
        assert "LSI reps 80.0 %" in text and "involved (right) / uninvolved (left)" in text
    finally:
        demo.close()


def test_demo_uses_a_broker_that_already_runs(mqtt_broker, mqtt_subscriber):
    events = mqtt_subscriber(mqtt_broker, f"heelraise/{DEVICE_ID}/event/#")
    demo = Demo(
        speed=math.inf,
        port=mqtt_broker.port,
        http="127.0.0.1:0",
        stdout=io.StringIO(),
        spec=demo_spec(sets=1, walking=False, rest_s=(2.0, 3.0)),
    )
    try:
        demo.start()
        assert not demo.broker.embedded
        summary = demo.play()
        assert demo.wait_delivered(30.0)
        assert demo.stored()["rep_count"] == summary.rep_count == 10
        # the events went through the mosquitto we started, not a broker of the demo's own
        events.wait_for(
            lambda ms: any(m.topic.endswith("/event/session") for m in ms),
            15.0,
            "the session event on mosquitto",
        )
        assert len(events.on(f"heelraise/{DEVICE_ID}/event/rep")) >= 10
    finally:
        demo.close()
    assert mqtt_broker.running and listening("127.0.0.1", mqtt_broker.port)


def test_a_port_taken_by_something_else_than_mqtt_is_named():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]
        stop = threading.Event()

        def refuse():  # accept and hang up at once, like a non-MQTT service would
            server.settimeout(0.05)
            while not stop.is_set():
                try:
                    conn, _ = server.accept()
                    conn.close()
                except OSError:
                    pass

        thread = threading.Thread(target=refuse, daemon=True)
        thread.start()
        demo = Demo(speed=math.inf, port=port, http="127.0.0.1:0", subscribe_timeout_s=1.0)
        try:
            with pytest.raises(DemoError, match=f"127.0.0.1:{port}.*--port"):
                demo.start()
        finally:
            stop.set()
            thread.join(5)
            demo.close()


def test_the_dashboard_port_taken_is_an_error_and_the_broker_is_stopped_again():
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        http = f"127.0.0.1:{taken.getsockname()[1]}"
        demo = Demo(speed=math.inf, port=port, http=http)
        with pytest.raises(Exception, match="cannot listen on"):
            demo.start()
    assert not listening("127.0.0.1", port)


def _spawn(port: int, *extra: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "heelraise", "demo", "--port", str(port), "--http", "127.0.0.1:0"]
        + list(extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,  # our signal only, like a terminal's Ctrl-C to the demo
    )


class _Lines:
    """Collects a process's output lines on a thread, so waits can poll with a deadline."""

    def __init__(self, proc):
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self.thread.start()

    def _read(self, proc):
        for line in proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_ends_the_demo_cleanly(sig):
    port = free_port()
    proc = _spawn(port, "--speed", "1", "--no-browser-hint")
    out = _Lines(proc)
    try:
        wait_until(lambda: "playing 3 sets" in out.text(), 30.0, "the demo to start playing")
        assert listening("127.0.0.1", port)
        proc.send_signal(sig)
        assert proc.wait(30) == 0, out.text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    out.thread.join(5)
    text = out.text()
    assert "workout stopped early" in text
    assert "stopped (the embedded broker too)" in text
    assert "Traceback" not in text
    assert not listening("127.0.0.1", port)


def test_the_command_plays_to_the_end_and_exits_when_asked(tmp_path):
    from heelraise_host.store import Store

    port = free_port()
    db = tmp_path / "demo.db"
    proc = _spawn(port, "--speed", "max", "--exit-when-done", "--db", str(db))
    out = _Lines(proc)
    try:
        assert proc.wait(60) == 0, out.text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    out.thread.join(5)
    text = out.text()
    assert "workout done: 30 reps in 3 sets" in text
    assert "dashboard: 30 reps in 3 sets stored" in text
    assert "open that address in a browser" in text
    assert not listening("127.0.0.1", port)
    store = Store(db)  # --db kept the dashboard's history
    try:
        [session] = store.sessions(DEVICE_ID)
        assert session["rep_count"] == 30 and session["set_count"] == 3
    finally:
        store.close()


def test_read_interval_keeps_the_loop_near_50_hz_and_inside_the_fifo():
    assert read_interval_s(1.0) == pytest.approx(0.02)
    assert read_interval_s(5.0) == pytest.approx(0.1)
    assert read_interval_s(50.0) == pytest.approx(0.25)
    assert read_interval_s(math.inf) == pytest.approx(0.25)
    assert read_interval_s(0.5) == pytest.approx(0.02)


def test_embedded_broker_stop_is_idempotent_and_frees_the_port():
    port = free_port()
    broker = EmbeddedBroker("127.0.0.1", port).start()
    assert listening("127.0.0.1", port)
    broker.stop()
    broker.stop()
    assert not listening("127.0.0.1", port)


def test_summary_names_gaps_and_a_short_workout():
    from heelraise.events import GapEvent, Rep, SessionSummary, SetSummary

    rep = Rep(1, 1, 0.0, 2.0, 3.0, 6.0, 30.0, 10.0, 90.0, faults=["too_fast"])
    s = SessionSummary(sets=[SetSummary(1, 0.0, 6.0, [rep], "command")])
    lines = summary_lines(
        s, speed=10.0, wall_s=1.0, gaps=[GapEvent(1.0, 2.0, "fifo_overflow")], finished=False
    )
    assert lines[0].startswith("workout stopped early: 1 reps in 1 sets")
    assert "speed 10x" in lines[0]
    assert "faults: too_fast 1" in lines[1] and "(ended by command)" in lines[1]
    assert "1 gaps in the sensor stream (fifo_overflow" in lines[2]


def test_seconds_ends_an_unfinished_workout_cleanly():
    port = free_port()
    proc = _spawn(port, "--speed", "1", "--seconds", "3", "--no-browser-hint")
    out = _Lines(proc)
    try:
        assert proc.wait(60) == 0, out.text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    out.thread.join(5)
    text = out.text()
    assert "workout stopped early: 0 reps" in text  # the first rep ends about 22 s in
    assert "stopped (the embedded broker too)" in text
    assert "open that address" not in text
