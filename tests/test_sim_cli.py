"""``heelraise simulate --family / --profile`` as a user runs them."""

from __future__ import annotations

import json

import pytest
from heelraise.cli import main
from heelraise.recording import read_recording


def test_simulate_a_brisk_family_with_a_profile(tmp_path, capsys):
    out = tmp_path / "b.csv"
    argv = ["simulate", str(out), "--family", "brisk", "--profile", "cosine", "--floor",
            "--sets", "1", "--reps", "6", "--seed", "4", "--no-walking"]  # fmt: skip
    assert main(argv) == 0
    assert "brisk, 6 reps" in capsys.readouterr().out
    truth = json.loads(out.with_suffix(".truth.json").read_text())
    assert truth["family"] == "brisk" and truth["spec"]["profile"] == "cosine"
    assert truth["rep_count"] == 6 and all(0.25 <= r["raise_s"] <= 0.6 for r in truth["reps"])
    assert not any(s["kind"] == "walking" for s in truth["not_reps"])  # --no-walking
    assert read_recording(out).meta["family"] == "brisk"


def test_simulate_a_non_rep_family(tmp_path, capsys):
    out = tmp_path / "j.csv"
    assert main(["simulate", str(out), "--family", "jump", "--seed", "2"]) == 0
    assert "jump, 0 reps" in capsys.readouterr().out
    truth = json.loads(out.with_suffix(".truth.json").read_text())
    assert truth["reps"] == [] and truth["counts_reps"] is False


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--family", "pogo"], "argument --family: invalid choice: 'pogo'"),
        (["--family", "brisk", "--profile", "zigzag"], "argument --profile: invalid choice"),
    ],
)
def test_simulate_unknown_family_or_profile_is_refused_with_the_choices(tmp_path, capsys, argv,
                                                                        message):  # fmt: skip
    out = tmp_path / "s.csv"
    with pytest.raises(SystemExit) as e:
        main(["simulate", str(out), *argv])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "(choose from" in err.splitlines()[-1]
    assert not out.exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--family", "run", "--profile", "cosine"], "not to 'run'"),
        (["--family", "classic", "--profile", "trapezoid"], "not to 'classic'"),
        (["--family", "deep_drop", "--floor"], "surface 'step'"),
        (["--family", "squat", "--walk-only"], "--walk-only belongs to the classic family"),
    ],
)
def test_simulate_bad_family_combinations_exit_2_with_one_line(tmp_path, capsys, argv, message):
    out = tmp_path / "s.csv"
    code = main(["simulate", str(out), *argv])
    _, err = capsys.readouterr()
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_simulate_puts_the_sensor_where_asked(tmp_path):
    out = tmp_path / "m.csv"
    argv = ["simulate", str(out), "--family", "slow", "--mount", "laces", "--sets", "1"]
    assert main(argv) == 0
    truth = json.loads(out.with_suffix(".truth.json").read_text())
    assert truth["mount_site"] == "laces" and 0.05 <= truth["lever_m"] <= 0.15
