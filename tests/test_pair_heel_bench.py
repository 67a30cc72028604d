"""bench/pair_heel.py: a pair's heel-LSI error taken apart reproduces the accuracy bench's."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

BENCHES = Path(__file__).resolve().parents[1] / "bench"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"{name}_bench_heel", BENCHES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def heel():
    return _load("pair_heel")


def test_the_decomposition_matches_the_accuracy_bench_and_the_truth(heel):
    job = ("deep_drop", 60139)  # a short dev pair: 4 and 5 reps
    r = heel.one_pair(job)
    # the chain's heel LSI error is the accuracy bench's own figure for the same pair
    assert r["err"]["chain"] == pytest.approx(
        _load("accuracy").one_pair(job)["err"]["heel_rise_lsi"]
    )
    # every rep matched to a true rep: their true heights give the truth's LSI
    assert r["err"]["matched_truth"] == pytest.approx(0.0, abs=0.05)
    # the true axis is the foot's: read along it, the tops are the true peaks to a degree
    # (a wrong axis, e.g. another row of the mount matrix, reads them many degrees off)
    rows = [x for side in r["sides"].values() for x in side]
    assert all(x["true_peak_deg"] is not None for x in rows)
    off = [abs(x["true_axis_peak_deg"] - x["true_peak_deg"]) for x in rows]
    assert np.median(off) < 1.0 and max(off) < 2.0, off


def test_it_refuses_seeds_outside_the_development_ranges(heel, capsys):
    with pytest.raises(SystemExit):
        heel.main(["--first-seed", "73000", "--sessions", "1"])
    assert "development seeds only" in capsys.readouterr().err
