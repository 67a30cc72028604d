"""The accuracy bench's --pairs mode: its pairs, its scoring of both sides and the LSIs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "accuracy.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("accuracy_bench_pairs", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_pair_specs_are_drawn_from_the_seed_and_never_walking_only(bench):
    a, b = bench.pair_spec("classic", 1010), bench.pair_spec("classic", 1010)
    assert a == b and not a.session.walk_only  # seed 1010 is a walking-only single session
    assert a.weaker in ("left", "right") and sorted(a.order) == ["left", "right"]
    assert 0.5 <= a.weak_reps_fraction <= 0.95 and 0.6 <= a.weak_heel_fraction <= 0.95


def test_one_pair_scores_both_sides_the_single_baseline_and_the_lsi(bench):
    r = bench.one_pair(("classic", 1000))
    assert r["sides"].overall.sessions == 2 and r["singles"].overall.sessions == 1
    assert r["sides"].overall.exact == 2, r["sides"].overall.failures
    assert r["err"]["reps_lsi"] == 0.0
    assert abs(r["err"]["heel_rise_lsi"]) <= bench.HEEL_LSI_TOLERANCE_PP


def test_pairs_take_rep_families_only(bench, capsys):
    with pytest.raises(SystemExit):
        bench.main(["--pairs", "--families", "run", "--sessions", "1"])
    assert "--pairs takes rep families only" in capsys.readouterr().err
