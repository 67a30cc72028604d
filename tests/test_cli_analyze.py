"""``heelraise analyze`` and ``heelraise simulate`` as a user runs them.

Bad input: exit status 2 and one line on stderr naming the file (and the line
where there is one), never a traceback. Good input: the table, one summary line
per file, the ``--json`` contract, a PNG for ``--plot``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from heelraise.cli import main
from heelraise.recording import HEADER, read_recording, write_recording

#: The ``--json`` contract (extra keys are allowed in reps only).
TOP_KEYS = {"file", "sample_rate_hz", "rep_count", "sets", "reps", "holes", "glitches"}
SET_KEYS = {"index", "rep_count", "start_s", "end_s"}
REP_KEYS = {
    "set", "index", "start_s", "top_start_s", "top_end_s", "end_s", "raise_s", "top_hold_s",
    "lower_s", "bottom_hold_s", "peak_deg", "depth_deg", "heel_rise_mm", "faults",
}  # fmt: skip


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """A short simulated session written by ``heelraise simulate`` (and its truth)."""
    d = tmp_path_factory.mktemp("sim")
    out = d / "session.csv"
    assert main(["simulate", str(out), "--sets", "1", "--reps", "5", "--seed", "3"]) == 0
    truth = json.loads(out.with_suffix(".truth.json").read_text())
    return out, truth


def run_cli(capsys, *argv):
    code = main(["analyze", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(capsys, path, *, line=None, also=()):
    code, out, err = run_cli(capsys, path)
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    where = f"{path}:{line}:" if line is not None else f"{path}:"
    assert where in lines[0], lines[0]
    for word in also:
        assert word in lines[0], lines[0]
    return lines[0]


def still_rows(n, rate_hz=100.0):
    return [f"{i / rate_hz:.6f},0.01,-0.02,0.99,0.5,-0.3,0.1" for i in range(n)]


def write(tmp_path, lines, name="bad.csv"):
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n")
    return p


# ------------------------------------------------------------------------------ bad input


def test_missing_path(tmp_path, capsys):
    assert_one_line_error(capsys, tmp_path / "no_such.csv", also=["no such file"])


def test_a_directory(tmp_path, capsys):
    assert_one_line_error(capsys, tmp_path, also=["directory"])


def test_empty_file(tmp_path, capsys):
    p = tmp_path / "empty.csv"
    p.write_text("")
    assert_one_line_error(capsys, p, also=["empty"])


def test_header_only(tmp_path, capsys):
    assert_one_line_error(capsys, write(tmp_path, [HEADER]), line=1, also=["no samples"])


def test_missing_column_in_header(tmp_path, capsys):
    p = write(tmp_path, ["t,ax,ay,az,gx,gy", *still_rows(10)])
    assert_one_line_error(capsys, p, line=1, also=[HEADER])


@pytest.mark.parametrize("cells", [6, 8])
def test_missing_or_extra_column_in_a_row(tmp_path, capsys, cells):
    body = still_rows(200)
    body[99] = ",".join(["0.5"] * cells)
    p = write(tmp_path, ["# logger v1", HEADER, *body])
    assert_one_line_error(capsys, p, line=102, also=[f"found {cells}"])


def test_text_in_a_number(tmp_path, capsys):
    body = still_rows(200)
    body[0] = "0.000000,0.01,x,0.99,0.5,-0.3,0.1"
    assert_one_line_error(capsys, write(tmp_path, [HEADER, *body]), line=2, also=["'x'", "ay"])


def test_nan(tmp_path, capsys):
    body = still_rows(200)
    body[150] = "1.500000,0.01,-0.02,0.99,NaN,-0.3,0.1"
    assert_one_line_error(capsys, write(tmp_path, [HEADER, *body]), line=152, also=["gx"])


def test_time_going_backwards(tmp_path, capsys):
    body = still_rows(200)
    body[120] = "0.100000,0.01,-0.02,0.99,0.5,-0.3,0.1"
    assert_one_line_error(capsys, write(tmp_path, [HEADER, *body]), line=122, also=["backwards"])


def test_rate_under_25_hz(tmp_path, capsys):
    p = write(tmp_path, [HEADER, *still_rows(400, rate_hz=20.0)])
    assert_one_line_error(capsys, p, also=["20.0 Hz"])


def test_too_short_to_calibrate(tmp_path, capsys):
    """Four seconds of waving the shoe about: no still second to take neutral from."""
    t = np.arange(400) / 100.0
    w = 2 * np.pi * 1.3 * t
    acc = np.column_stack([0.3 * np.sin(w), 0.2 * np.cos(w), 1.0 + 0.1 * np.sin(2 * w)])
    gyr = np.column_stack([60 * np.cos(w), 40 * np.sin(w), 10 * np.cos(3 * w)])
    body = [f"{a:.6f},{b:.6f},{c:.6f},{d:.6f},{e:.4f},{f:.4f},{g:.4f}"
            for a, b, c, d, e, f, g in np.column_stack([t, acc, gyr])]  # fmt: skip
    p = write(tmp_path, [HEADER, *body], "waving.csv")
    assert_one_line_error(capsys, p, also=["still"])


def test_a_bad_file_among_good_ones_loses_nothing(tmp_path, capsys, simulated):
    path, truth = simulated
    bad = write(tmp_path, [HEADER])
    code, out, err = run_cli(capsys, path, bad, path)
    assert code == 2
    assert out.splitlines() == [out.splitlines()[0]] * 2
    assert out.startswith(f"{path}: {truth['rep_count']} reps")
    assert len(err.strip().splitlines()) == 1 and str(bad) in err
    assert "Traceback" not in err


# ------------------------------------------------------------------------------ good input


def test_repeated_timestamps_are_accepted(tmp_path, capsys, simulated):
    path, truth = simulated
    lines = path.read_text().splitlines()
    first = next(i for i, ln in enumerate(lines) if ln == HEADER) + 1
    # A logger that writes the same time twice now and then (every 97th sample).
    out = lines[:first]
    for i, ln in enumerate(lines[first:]):
        out.append(ln)
        if i % 97 == 0:
            out.append(ln)
    p = write(tmp_path, out, "dups.csv")
    code, stdout, err = run_cli(capsys, p, "--json")
    assert code == 0, err
    assert json.loads(stdout)["rep_count"] == truth["rep_count"]


def test_json_contract_and_truth_count(capsys, simulated):
    path, truth = simulated
    code, out, err = run_cli(capsys, path, "--json")
    assert code == 0, err
    d = json.loads(out)
    assert set(d) == TOP_KEYS
    assert d["file"] == str(path)
    assert d["sample_rate_hz"] == pytest.approx(100.0, abs=0.5)
    assert d["rep_count"] == truth["rep_count"] == 5
    assert len(d["sets"]) == 1
    for s in d["sets"]:
        assert set(s) == SET_KEYS
    assert sum(s["rep_count"] for s in d["sets"]) == d["rep_count"] == len(d["reps"])
    for r in d["reps"]:
        assert REP_KEYS <= set(r), REP_KEYS - set(r)
        assert isinstance(r["faults"], list)
        assert r["start_s"] <= r["top_start_s"] <= r["top_end_s"] <= r["end_s"]
        assert r["raise_s"] == pytest.approx(r["top_start_s"] - r["start_s"], abs=0.0015)
        assert r["lower_s"] == pytest.approx(r["end_s"] - r["top_end_s"], abs=0.0015)
    assert [r["index"] for r in d["reps"]] == [1, 2, 3, 4, 5]
    assert d["reps"][-1]["bottom_hold_s"] is None
    # Each counted rep is one of the true ones (start within 0.3 s).
    for r, t in zip(d["reps"], truth["reps"], strict=True):
        assert abs(r["start_s"] - t["start_s"]) < 0.3


def test_table_for_one_file(capsys, simulated):
    path, truth = simulated
    code, out, err = run_cli(capsys, path, "--tempo", "3-0-2-1")
    assert code == 0, err
    assert err == ""
    assert out.startswith(f"{path}: ")
    assert "set 1: 5 reps" in out
    assert "total: 5 reps in 1 sets" in out


def test_several_files_print_one_summary_line_each(tmp_path, capsys, simulated):
    path, truth = simulated
    walk = tmp_path / "walk.csv"
    assert main(["simulate", str(walk), "--walk-only", "--seed", "4"]) == 0
    capsys.readouterr()
    code, out, err = run_cli(capsys, path, walk)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{path}: 5 reps in 1 sets")
    assert lines[1].startswith(f"{walk}: 0 reps")


def test_json_or_plot_with_several_files_is_refused(capsys, simulated):
    path, _ = simulated
    code, out, err = run_cli(capsys, path, path, "--json")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1


def test_plot_writes_a_png(tmp_path, capsys, simulated):
    path, _ = simulated
    png = tmp_path / "trace.png"
    code, out, err = run_cli(capsys, path, "--plot", png)
    assert code == 0, err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 5000


# ------------------------------------------------------------------------------ simulate


def test_simulate_writes_recording_and_truth(tmp_path, capsys):
    out = tmp_path / "s.csv"
    code = main(["simulate", str(out), "--sets", "2", "--reps", "3", "--rate", "200",
                 "--floor", "--tempo", "2-0-1-1", "--seed", "9", "--no-walking"])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert str(out) in printed and "6 reps" in printed
    rec = read_recording(out)
    assert rec.sample_rate_hz == pytest.approx(200.0, rel=0.01)
    assert rec.meta["sample_rate_hz"] == 200
    assert rec.meta["surface"] == "floor"
    truth = json.loads((tmp_path / "s.truth.json").read_text())
    assert truth["rep_count"] == 6
    assert [s["rep_count"] for s in truth["sets"]] == [3, 3]
    assert truth["spec"]["tempo"] == "2-0-1-1"
    assert truth["reps"][0]["end_s"] < rec.t_s[-1]


@pytest.mark.parametrize(
    "argv", [["--rate", "10"], ["--rate", "2000"], ["--reps", "0"], ["--tempo", "fast"]]
)
def test_simulate_bad_options_exit_2_with_one_line(tmp_path, capsys, argv):
    out = tmp_path / "s.csv"
    code = main(["simulate", str(out), *argv])
    _, err = capsys.readouterr()
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


# ------------------------------------------------------------------------------ mistakes
# The mistakes people make when they write a recording, found from the data itself: one
# line naming the likely unit and the fix, exit 2.


def rewrite(tmp_path, path, name, *, t=None, acc=None, gyr=None, prefix=b""):
    """The simulated recording with its columns changed (functions of the arrays)."""
    rec = read_recording(path)
    out = tmp_path / name
    write_recording(
        out,
        t(rec.t_s) if t else rec.t_s,
        acc(rec.acc_g, rec.gyr_dps) if acc else rec.acc_g,
        gyr(rec.acc_g, rec.gyr_dps) if gyr else rec.gyr_dps,
    )
    if prefix:
        out.write_bytes(prefix + out.read_bytes())
    return out


@pytest.mark.parametrize(
    "name, change, words",
    [
        ("rad.csv", {"gyr": lambda a, g: np.radians(g)}, ["rad/s", "57.2958"]),
        ("ms2.csv", {"acc": lambda a, g: a * 9.80665}, ["m/s^2", "divide them by 9.80665"]),
        ("ms.csv", {"t": lambda t: t * 1e3}, ["milliseconds", "divide it by 1000"]),
        ("us.csv", {"t": lambda t: t * 1e6}, ["microseconds", "divide it by 1e+06"]),
        ("swapped.csv", {"acc": lambda a, g: g, "gyr": lambda a, g: a}, ["gravity", "order"]),
        ("zeros.csv", {"acc": lambda a, g: 0 * a, "gyr": lambda a, g: 0 * g}, ["only zeros"]),
    ],
    ids=["gyro_rad_s", "acc_m_s2", "t_ms", "t_us", "acc_gyro_swapped", "all_zero"],
)
def test_unit_mistakes_are_named_in_one_line(tmp_path, capsys, simulated, name, change, words):
    path, _ = simulated
    p = rewrite(tmp_path, path, name, **change)
    assert_one_line_error(capsys, p, also=words)


def test_time_in_another_column_is_hinted(tmp_path, capsys, simulated):
    path, _ = simulated
    rec = read_recording(path)
    p = tmp_path / "t_last.csv"
    # Written t last under the standard header: "t" holds ax, "gz" holds the time.
    write_recording(p, rec.acc_g[:, 0], np.column_stack([rec.acc_g[:, 1:], rec.gyr_dps[:, 0]]),
                    np.column_stack([rec.gyr_dps[:, 1:], rec.t_s]))  # fmt: skip
    line = assert_one_line_error(capsys, p, also=["backwards"])
    assert "column gz rises like a clock" in line


def test_a_byte_order_mark_is_accepted(tmp_path, capsys, simulated):
    path, truth = simulated
    p = tmp_path / "bom.csv"
    p.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    code, out, err = run_cli(capsys, p, "--json")
    assert code == 0, err
    assert json.loads(out)["rep_count"] == truth["rep_count"]


def test_the_simulators_own_25_hz_is_accepted(tmp_path, capsys):
    """``simulate --rate 25`` measures 24.9975 Hz (logger clock): within RATE_TOLERANCE."""
    out = tmp_path / "s25.csv"
    assert main(["simulate", str(out), "--rate", "25", "--sets", "1", "--reps", "3"]) == 0
    capsys.readouterr()
    assert read_recording(out).sample_rate_hz < 25.0
    code, stdout, err = run_cli(capsys, out, "--json")
    assert code == 0, err
    assert json.loads(stdout)["rep_count"] == 3


def test_an_absurd_last_timestamp_is_refused_with_its_line(tmp_path, capsys, simulated):
    path, _ = simulated
    lines = path.read_text().splitlines()
    last = lines[-1].split(",")
    lines[-1] = ",".join(["1e30", *last[1:]])
    p = write(tmp_path, lines, "t1e30.csv")
    assert_one_line_error(capsys, p, line=len(lines), also=["1e+30", "corrupt timestamp"])


def test_a_ten_minute_hole_is_reported_in_text_and_json(tmp_path, capsys, simulated):
    path, truth = simulated
    rec = read_recording(path)
    ends = [r["end_s"] for r in truth["reps"]]
    cut = ends[-1] + 1.0  # after the last rep: nothing to lose but the walk out
    t = np.where(rec.t_s > cut, rec.t_s + 600.0, rec.t_s)
    p = tmp_path / "hole.csv"
    write_recording(p, t, rec.acc_g, rec.gyr_dps)
    code, out, err = run_cli(capsys, p, "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["rep_count"] == truth["rep_count"]
    [hole] = d["holes"]
    assert hole["reason"] == "missing_samples"
    assert hole["duration_s"] == pytest.approx(600.0, abs=0.05)
    assert hole["start_s"] == pytest.approx(cut, abs=0.05)
    code, out, err = run_cli(capsys, p)
    assert code == 0, err
    assert "1 hole in the data (10 min 0 s" in out
    code, out, err = run_cli(capsys, p, path)  # a line per file says it too
    assert "1 hole in the data" in out.splitlines()[0]
    assert "hole" not in out.splitlines()[1]


def test_a_glitch_is_dropped_and_reported(tmp_path, capsys, simulated):
    path, truth = simulated
    lines = path.read_text().splitlines()
    i = len(lines) // 2
    cells = lines[i].split(",")
    lines[i] = ",".join([cells[0], "1e30", *cells[2:]])
    p = write(tmp_path, lines, "glitch.csv")
    code, out, err = run_cli(capsys, p, "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["rep_count"] == truth["rep_count"]
    assert d["glitches"]["count"] == 1
    assert d["glitches"]["first_t_s"] == pytest.approx(float(cells[0]), abs=0.001)
    assert d["holes"] == []
    code, out, err = run_cli(capsys, p)
    assert "1 glitch dropped" in out


# ------------------------------------------------------------------------------ blocks


@pytest.mark.parametrize(
    "argv",
    [
        ["--sets", "1", "--reps", "5", "--seed", "3"],
        ["--sets", "2", "--reps", "4", "--rate", "400", "--seed", "11", "--floor"],
        ["--sets", "1", "--reps", "6", "--rate", "50", "--seed", "12", "--faults", "0.5"],
    ],
    ids=["100hz", "400hz_floor", "50hz_faults"],
)
def test_block_wise_analyze_gives_the_whole_recordings_json(tmp_path, capsys, monkeypatch, argv):
    """Read and analysed in small blocks (a few hundred lines each), a recording gives the
    same JSON, to the last digit, as the whole recording read and analysed in one piece."""
    from heelraise import recording
    from heelraise.chain.offline import analyze_recording

    p = tmp_path / "s.csv"
    assert main(["simulate", str(p), *argv]) == 0
    capsys.readouterr()
    rec = read_recording(p)
    whole = analyze_recording(rec).to_json(str(p), rec.sample_rate_hz)
    assert whole["rep_count"] > 0
    monkeypatch.setattr(recording, "BLOCK_BYTES", 20_000)
    code, out, err = run_cli(capsys, p, "--json")
    assert code == 0, err
    assert json.loads(out) == whole


# ------------------------------------------------------------------------------ start-up


@pytest.mark.parametrize("argv", [["--help"], ["analyze", "--help"], ["run", "--help"]])
def test_help_imports_nothing_heavy_and_sets_one_blas_thread(argv):
    """``heelraise --help`` and a command's ``--help`` load no numpy (nor what needs it), and
    the command sets one BLAS thread before numpy could be imported (a user's own wins)."""
    import os
    import subprocess
    import sys

    code = (
        "import os, sys\n"
        "from heelraise.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted(m for m in ('numpy', 'scipy', 'paho', 'gpiozero') if m in sys.modules)\n"
        "print(heavy, os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'])\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.splitlines()[-1] == "[] 1 1", out.stderr
    env["OMP_NUM_THREADS"] = "4"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.splitlines()[-1] == "[] 1 4", out.stderr
