"""The terminal, in a pseudo-terminal (``pty``) as a person sees it: ``heelraise run`` keeps
log lines out of the cue line, prints each rep once, counts ``--seconds`` on the wall clock
and takes Enter as the button; ``watch`` says it is connecting and why it cannot; one
spelling for options (old ones deprecated); ``analyze`` JSON lines, CSV, where the plot went."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time

import pytest
from conftest import free_port
from heelraise.cli import main
from heelraise_host import messages
from heelraise_host.devicesim import session_messages
from heelraise_host.watch import RepTable
from rich.console import Console

GUIDED = """
[device]
id = "pty-shoe"
[sensor]
type = "sim"
rate_hz = 100
[tempo]
target = "3-0-2-1"
mode = "guided"
[log]
level = "INFO"
"""


class Pty:
    """A command on a pseudo-terminal (stdin, stdout and stderr all on it)."""

    def __init__(self, args, env=None):
        master, slave = pty.openpty()
        env = {**os.environ, **(env or {})}
        env.pop("GPIOZERO_PIN_FACTORY", None)
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "heelraise", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            close_fds=True,
        )
        os.close(slave)
        self.master = master
        self.out = b""

    def read_until(self, pred, timeout_s, what) -> None:
        deadline = time.monotonic() + timeout_s
        while not pred(self.out):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; got {self.out[-800:]!r}")
            if not self._read(0.1) and self.proc.poll() is not None:
                if not pred(self.out):
                    raise AssertionError(f"exited before {what}; got {self.out[-800:]!r}")

    def _read(self, wait_s) -> bool:
        ready, _, _ = select.select([self.master], [], [], wait_s)
        if not ready:
            return False
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: the other side closed
            return False
        self.out += data
        return bool(data)

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def wait(self, timeout_s) -> tuple[int, float]:
        deadline = time.monotonic() + timeout_s
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._read(0.1)
        while self._read(0.05):
            pass
        if self.proc.poll() is None:
            self.proc.kill()
            raise AssertionError(f"still running after {timeout_s} s: {self.out[-800:]!r}")
        os.close(self.master)
        return self.proc.returncode, time.monotonic() - self.started


def test_run_on_a_terminal(tmp_path):
    config = tmp_path / "guided.toml"
    config.write_text(GUIDED)
    term = Pty(["run", "--config", str(config), "--speed", "4"])
    term.read_until(lambda b: b"press Enter" in b, 60, "the Enter-is-the-button hint")
    term.read_until(lambda b: b"LED " in b, 60, "the cue line")
    before = len(term.out)
    shown_before = term.out.decode()
    assert "set 1 rep 1" not in shown_before  # no set open yet: Enter starts one
    assert "  free" in shown_before and "  guided" not in shown_before
    term.write(b"\n")  # the mock button: starts a set, and the guided metronome with it
    term.read_until(lambda b: b"  guided" in b[before:], 60, "guided mode after Enter")
    term.read_until(lambda b: b"set 1 rep 3: raise" in b, 120, "more reps")
    term.proc.send_signal(signal.SIGINT)
    rc, _ = term.wait(60)
    text = term.out.decode()
    assert rc == 0, text[-2000:]
    reps = re.findall(r"set 1 rep (\d+): raise", text)
    assert reps == [str(i) for i in range(1, len(reps) + 1)]  # each rep once, in order
    assert "rep 1 of set 1" not in text  # no second, logged copy
    # Once the cue line is drawn, a log line never lands inside it: the line is wiped first.
    first_cue = text.index("LED ")
    logs = [
        m for m in re.finditer(r"(INFO|WARNING|ERROR) heelraise", text) if m.start() > first_cue
    ]
    assert len(logs) >= 2, text[-1000:]  # "SIGINT: stopping", "stopped: ..."
    for m in logs:
        assert text[: m.start()].endswith("\r\x1b[K"), repr(text[m.start() - 60 : m.end()])
    for m in re.finditer(r"set \d+ (rep \d+|done)", text):
        assert text[: m.start()].endswith("\r\x1b[K")
    assert "SIGINT: stopping" in text
    assert text.rstrip("\r\n").rsplit("\n", 1)[-1].lstrip("\r").startswith("LED ")
    assert text.endswith("\n")  # the prompt comes on a line of its own


def test_run_seconds_are_wall_clock_seconds(tmp_path):
    """``--speed 10 --seconds 3`` runs 3 real seconds (30 simulated), not 0.3."""
    config = tmp_path / "sim.toml"
    config.write_text(GUIDED.replace('mode = "guided"', 'mode = "free"'))
    proc = subprocess.Popen(
        [sys.executable, "-m", "heelraise", "run", "--config", str(config)]
        + ["--speed", "10", "--seconds", "3", "--json", "--no-cues"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    started = None
    lines = []
    for line in proc.stderr:  # the loop starts right after it names the session
        lines.append(line)
        if started is None and " on device " in line:
            started = time.monotonic()
    rc = proc.wait(timeout=60)
    ran_s = time.monotonic() - started
    assert rc == 0, "".join(lines)
    assert ran_s >= 3.0 - 0.05, ran_s  # a timer of 3 wall seconds; simulated would be 0.3
    assert any("ran for 3 s (wall clock) as asked" in x for x in lines)


def test_watch_says_connecting_then_why_not():
    port = free_port()  # nobody listens here
    term = Pty(["watch", "--broker", f"127.0.0.1:{port}"])
    rc, wall_s = term.wait(30)
    text = term.out.decode()
    assert rc == 2
    assert f"connecting to 127.0.0.1:{port}..." in text
    assert f"cannot connect to broker 127.0.0.1:{port}: connection refused" in text
    assert "MQTT 5" not in text and "MQTT 3" not in text
    assert wall_s < 10  # not the 10 s subscribe timeout


def test_watch_clears_the_phase_of_a_device_gone_offline():
    table = RepTable()
    for m in session_messages("shoe-1", "s-1", reps_per_set=[1], seed=4)[:1]:
        table.add(messages.parse(m.topic, m.payload))  # a state: phase "still"
    table.add(messages.parse("heelraise/shoe-1/status", b"online"))

    def shown():
        console = Console(record=True, width=160, color_system=None)
        console.print(table.render())
        return console.export_text()

    assert "still" in shown()
    table.add(messages.parse("heelraise/shoe-1/status", b"offline"))
    text = shown()
    assert "offline" in text and "still" not in text


def _parse(command, argv):
    import argparse
    import importlib

    parser = argparse.ArgumentParser()
    importlib.import_module(f"heelraise.commands.{command}").add_arguments(parser)
    return parser.parse_args(argv)


def test_demo_options_are_spelled_as_dashboards_and_old_ones_still_work(capsys):
    args = _parse("demo", ["--broker", "127.0.0.1:1884", "--bind", "127.0.0.1:0"])
    assert (args.port, args.http) == (1884, "127.0.0.1:0")
    assert capsys.readouterr().err == ""
    old = _parse("demo", ["--port", "1885", "--http", "127.0.0.1:9000"])
    assert (old.port, old.http) == (1885, "127.0.0.1:9000")
    err = capsys.readouterr().err
    assert "--port is deprecated; use --broker 127.0.0.1:P" in err
    assert "--http is deprecated; use --bind ADDR:PORT" in err
    with pytest.raises(SystemExit):
        _parse("demo", ["--broker", "pi.local:1883"])  # the demo's broker is on this machine
    assert "broker on this machine" in capsys.readouterr().err
    dash = _parse("dashboard", ["--broker", "127.0.0.1:1884", "--bind", "127.0.0.1:0"])
    assert (dash.broker, dash.bind) == ("127.0.0.1:1884", "127.0.0.1:0")


@pytest.fixture(scope="module")
def two_recordings(tmp_path_factory):
    d = tmp_path_factory.mktemp("rec")
    a, b = d / "a.csv", d / "walk.csv"
    assert main(["simulate", str(a), "--sets", "1", "--reps", "4", "--seed", "5"]) == 0
    assert main(["simulate", str(b), "--walk-only", "--seed", "6"]) == 0
    return a, b


def test_analyze_several_files_as_json_lines_and_csv(two_recordings, capsys):
    a, b = two_recordings
    capsys.readouterr()
    assert main(["analyze", str(a), str(b), "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    docs = [json.loads(x) for x in lines]  # one whole object per line
    assert [d["file"] for d in docs] == [str(a), str(b)]
    assert [d["rep_count"] for d in docs] == [4, 0]
    assert main(["analyze", str(a), str(b), "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["file"], r["rep_count"], r["set_count"]) for r in rows] == [
        (str(a), "4", "1"),
        (str(b), "0", "0"),
    ]
    assert float(rows[0]["mean_raise_s"]) > 0 and rows[1]["mean_raise_s"] == ""


def test_analyze_says_where_the_plot_went(two_recordings, tmp_path, capsys):
    a, _ = two_recordings
    png = tmp_path / "trace.png"
    assert main(["analyze", str(a), "--plot", str(png)]) == 0
    assert f"wrote the plot to {png}" in capsys.readouterr().err
    assert png.stat().st_size > 5000
