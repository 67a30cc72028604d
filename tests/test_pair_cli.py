"""``heelraise simulate --side / --pair`` and ``heelraise analyze LEFT RIGHT --pair``."""

from __future__ import annotations

import json

import pytest
from heelraise.cli import main
from heelraise.recording import read_recording

SYMMETRY_KEYS = {"reps_lsi", "heel_rise_lsi", "work_lsi", "involved"}


@pytest.fixture(scope="module")
def pair_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("pair")
    out = d / "s.csv"
    argv = ["simulate", str(out), "--pair", "--sets", "1", "--reps", "10", "--seed", "3"]
    assert main([*argv, "--weaker", "right", "--weak-reps", "0.7"]) == 0
    return d / "s.left.csv", d / "s.right.csv", json.loads((d / "s.pair.json").read_text())


def analyze(capsys, *argv):
    code = main(["analyze", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_simulate_side_writes_the_side_in_the_metadata(tmp_path, capsys):
    out = tmp_path / "l.csv"
    assert main(["simulate", str(out), "--side", "left", "--sets", "1", "--reps", "3"]) == 0
    assert read_recording(out).meta["side"] == "left"
    assert json.loads(out.with_suffix(".truth.json").read_text())["side"] == "left"
    with pytest.raises(SystemExit) as e:
        main(["simulate", str(out), "--side", "middle"])
    assert e.value.code == 2
    assert "invalid choice: 'middle'" in capsys.readouterr().err


def test_simulate_pair_writes_both_sides_and_the_true_symmetry(pair_files):
    left, right, truth = pair_files
    assert read_recording(left).meta["side"] == "left"
    assert read_recording(right).meta["side"] == "right"
    assert truth["sides"]["left"]["reps"] == 10 and truth["sides"]["right"]["reps"] == 7
    assert truth["symmetry"]["reps_lsi"] == 70.0 and truth["symmetry"]["involved"] == "right"


def test_analyze_pair_json_contract(pair_files, capsys):
    left, right, truth = pair_files
    code, out, err = analyze(capsys, left, right, "--pair", "--involved", "right", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert set(d["sides"]) == {"left", "right"}
    # each side is exactly what one file's --json gives
    code, one, _ = analyze(capsys, left, "--json")
    assert d["sides"]["left"] == json.loads(one)
    sym = d["symmetry"]
    assert SYMMETRY_KEYS <= set(sym) and sym["involved"] == "right"
    assert sym["ratio"] == "involved/uninvolved"
    assert d["sides"]["left"]["rep_count"] == 10 and d["sides"]["right"]["rep_count"] == 7
    assert sym["reps_lsi"] == truth["symmetry"]["reps_lsi"]
    assert abs(sym["heel_rise_lsi"] - truth["symmetry"]["heel_rise_lsi"]) <= 3
    assert d["totals"]["right"]["reps"] == 7


def test_analyze_pair_without_involved_is_left_over_right(pair_files, capsys):
    left, right, _ = pair_files
    code, out, _ = analyze(capsys, left, right, "--pair", "--json")
    sym = json.loads(out)["symmetry"]
    assert sym["involved"] is None and sym["ratio"] == "left/right"
    assert sym["reps_lsi"] == pytest.approx(100 * 10 / 7, abs=0.05)


def test_analyze_pair_table(pair_files, capsys):
    left, right, _ = pair_files
    code, out, _ = analyze(capsys, left, right, "--pair", "--involved", "right")
    assert code == 0
    assert "== left ==" in out and "== right ==" in out
    assert "LSI (right / left)" in out
    line = next(x for x in out.splitlines() if x.startswith("reps "))
    assert line.split()[1:] == ["10", "7", "70.0%"]
    assert "LSI is involved (right) / uninvolved (left) x 100" in out


def test_analyze_pair_refuses_swapped_files_naming_the_file(pair_files, capsys):
    left, right, _ = pair_files
    code, out, err = analyze(capsys, right, left, "--pair")
    assert code == 2 and out == ""
    assert str(right) in err and "side=right but it was given as the left file" in err


@pytest.mark.parametrize(
    "extra, message",
    [
        (("left",), "--pair takes two files, LEFT.csv then RIGHT.csv, not 1"),
        (("left", "right", "left"), "not 3"),
        (("left", "right", "--plot", "x.png"), "--plot takes one file"),
    ],
)
def test_analyze_pair_usage_errors(pair_files, capsys, extra, message):
    left, right, _ = pair_files
    names = {"left": left, "right": right}
    code, _, err = analyze(capsys, *[names.get(x, x) for x in extra], "--pair")
    assert code == 2 and message in err


def test_involved_without_pair_is_refused(pair_files, capsys):
    left, right, _ = pair_files
    code, _, err = analyze(capsys, left, right, "--involved", "left")
    assert code == 2 and "go with --pair" in err


def test_a_bad_recording_in_a_pair_names_its_file_and_line(pair_files, tmp_path, capsys):
    left, _, _ = pair_files
    bad = tmp_path / "bad.csv"
    bad.write_text("t,ax,ay,az,gx,gy,gz\n0,0,0,1,0,0,0\n0.01,0,0,x,0,0,0\n")
    code, _, err = analyze(capsys, left, bad, "--pair")
    assert code == 2 and f"{bad}:3: 'x' in column az is not a number" in err
