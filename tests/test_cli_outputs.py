"""Outputs that cannot be written, option values out of range, and what --plot and replay show."""

from __future__ import annotations

import json

import numpy as np
import pytest
from heelraise.chain.offline import analyze_recording
from heelraise.cli import main
from heelraise.recording import read_recording, write_recording
from heelraise.sim import SessionSpec, simulate_session


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    sim = simulate_session(SessionSpec(sets=1, reps=5, rate_hz=100, seed=8))
    path = tmp_path_factory.mktemp("rec") / "s.csv"
    write_recording(path, sim.t_s, sim.acc_g, sim.gyr_dps)
    return path, sim


def one_line_error(capsys, argv) -> str:
    status = main(argv)
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert "Traceback" not in err
    return err.splitlines()[-1]


@pytest.mark.parametrize(
    "argv",
    [
        ["analyze", "{rec}", "--plot", "/nonexistent-dir/p.png"],
        ["simulate", "/nonexistent-dir/x.csv", "--sets", "1", "--reps", "2"],
        ["record", "/nonexistent-dir/r.csv", "--seconds", "0.1", "--imu", "sim"],
    ],
)
def test_an_output_that_cannot_be_written_is_one_line_naming_it(capsys, recording, argv):
    argv = [a.replace("{rec}", str(recording[0])) for a in argv]
    line = one_line_error(capsys, argv)
    assert "/nonexistent-dir/" in line and "No such file or directory" in line


@pytest.mark.parametrize(
    "argv, named",
    [
        (["simulate", "x.csv", "--faults", "2"], "fraction from 0 to 1"),
        (["record", "r.csv", "--address", "0x999"], "7-bit I2C address"),
    ],
)
def test_option_values_out_of_range_are_refused_by_name(capsys, argv, named):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    assert named in capsys.readouterr().err


def test_plot_trace_covers_the_whole_recording(recording):
    path, sim = recording
    result = analyze_recording(read_recording(path), keep_trace=True)
    t = np.concatenate(result.analyzer.trace)[:, 0]
    assert t[0] <= sim.truth["reps"][0]["start_s"] and t[-1] >= sim.t_s[-1] - 0.1
    # the bounded history alone would not do for a long recording; the trace is the whole
    assert len(t) >= 0.95 * (sim.t_s[-1] - t[0]) * 100


def test_replay_through_the_service_counts_what_analyze_counts(capsys, recording, tmp_path):
    """A dropout shorter than the analyzer's max_gap_s is bridged in both, not a lost rep."""
    _, sim = recording
    mid = 0.5 * (sim.truth["reps"][1]["start_s"] + sim.truth["reps"][1]["top_start_s"])
    keep = np.abs(sim.t_s - mid) > 0.06  # 120 ms of samples missing, mid-raise
    path = tmp_path / "dropout.csv"
    write_recording(path, sim.t_s[keep], sim.acc_g[keep], sim.gyr_dps[keep])
    assert main(["analyze", str(path), "--json"]) == 0
    analyzed = json.loads(capsys.readouterr().out)["rep_count"]
    assert main(["run", "--imu", f"replay:{path}", "--speed", "max", "--no-cues", "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    reps = [ln for ln in lines if json.loads(ln)["type"] == "rep"]
    assert len(reps) == analyzed == len(sim.truth["reps"])
