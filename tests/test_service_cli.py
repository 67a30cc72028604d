"""``heelraise run`` as a process: SIGTERM and Ctrl-C end it cleanly, replays run to the end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading

import pytest
from heelraise.recording import write_recording
from heelraise.sim import simulate_session

SIM_CONFIG = """
[device]
id = "test-shoe"
[sensor]
type = "sim"
rate_hz = 100
[log]
level = "INFO"
"""


def start(args, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(SIM_CONFIG)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("GPIOZERO_PIN_FACTORY", None)
    return subprocess.Popen(
        [sys.executable, "-m", "heelraise", "run", "--config", str(config), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


class Lines:
    """Collects a pipe's lines in a thread; ``wait_for(pred)`` with a generous deadline."""

    def __init__(self, pipe):
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()

    def _read(self, pipe):
        for line in pipe:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()

    def wait_for(self, pred, timeout_s, what):
        with self._cond:
            if not self._cond.wait_for(lambda: pred(self.lines), timeout=timeout_s):
                raise AssertionError(f"timed out waiting for {what}; got {self.lines[-5:]}")

    def join(self):
        self._thread.join(timeout=30)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_ends_the_run_cleanly_with_the_session_flushed(tmp_path, sig):
    proc = start(["--imu", "sim", "--speed", "4", "--json", "--seconds", "3600"], tmp_path)
    out, err = Lines(proc.stdout), Lines(proc.stderr)
    try:
        out.wait_for(lambda ls: any('"type":"rep"' in x for x in ls), 90, "the first rep")
        proc.send_signal(sig)
        rc = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out.join()
    err.join()
    assert rc == 0, "\n".join(err.lines)
    events = [json.loads(x) for x in out.lines]  # every line is whole JSON
    kinds = [e["type"] for e in events]
    assert kinds[-1] == "session" and kinds.count("session") == 1
    assert kinds[-2] == "set"  # the open set was closed at shutdown
    assert events[-2]["set"]["ended_by"] == "end_of_stream"
    reps = [e for e in events if e["type"] == "rep"]
    assert len(reps) >= 1
    assert events[-1]["summary"]["rep_count"] == len(reps)
    log = "\n".join(err.lines)
    assert f"{signal.Signals(sig).name}: stopping" in log
    assert "INFO heelraise.service: stopped: " in log
    # journald-friendly: every log line is "LEVEL name: message", no timestamps
    for line in err.lines:
        assert line.split(" ", 1)[0] in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"), line


def test_seconds_stops_the_run_with_the_session_line(tmp_path):
    # --seconds is wall clock (start-up included), so how many reps fit in it depends on the
    # machine's load: this checks only that the run stops by itself and closes the session.
    proc = start(["--imu", "sim", "--speed", "max", "--seconds", "3"], tmp_path)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert out.splitlines()[-1].startswith("session: "), out


def test_console_lines_are_human(tmp_path):
    # A replay ends with its file, whatever the load, so its reps are all there to read.
    sim = simulate_session(
        sets=1, reps=3, rate_hz=100.0, seed=2, walking=False, distractors=False, fault_rate=0.0
    )
    path = tmp_path / "session.csv"
    write_recording(path, sim.t_s, sim.acc_g, sim.gyr_dps, meta={"sample_rate_hz": 100})
    proc = start(["--imu", f"replay:{path}", "--speed", "max"], tmp_path)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    lines = out.splitlines()
    assert any(x.startswith("set 1 rep 1: raise ") and " s, top " in x for x in lines), out
    assert any(x.startswith("set 1 rep 3: raise ") for x in lines), out
    assert lines[-1].startswith("session: ")


def test_a_replay_runs_to_its_end_and_exits_0(tmp_path):
    sim = simulate_session(
        sets=1, reps=5, rate_hz=100.0, seed=2, walking=False, distractors=False, fault_rate=0.0
    )
    path = tmp_path / "session.csv"
    write_recording(path, sim.t_s, sim.acc_g, sim.gyr_dps, meta={"sample_rate_hz": 100})
    proc = start(["--imu", f"replay:{path}", "--speed", "max", "--json"], tmp_path)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    events = [json.loads(x) for x in out.splitlines()]
    assert sum(e["type"] == "rep" for e in events) == 5
    assert events[-1]["type"] == "session" and events[-1]["summary"]["rep_count"] == 5
    assert "the sensor stream ended; stopping" in err


def test_a_bad_config_exits_78_naming_the_key(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("[sensor]\nrate_hz = 2\n")
    proc = subprocess.run(
        [sys.executable, "-m", "heelraise", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 78  # EX_CONFIG: systemd does not restart it
    assert f"{config}: [sensor] rate_hz = 2: must be 25 to 1000 Hz" in proc.stderr


def test_a_missing_sensor_exits_69_with_a_clear_message(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("[sensor]\nbus = 97\n")
    proc = subprocess.run(
        [sys.executable, "-m", "heelraise", "run", "--config", str(config), "--no-cues"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 69, proc.stderr  # EX_UNAVAILABLE: restarted
    assert "/dev/i2c-97" in proc.stderr
