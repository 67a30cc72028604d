"""Scoring against simulator truth per family, and the accuracy bench's seed rules."""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from pathlib import Path

import pytest
from heelraise.sim import simulate_session
from heelraise.sim.families import FAMILIES, NON_REP_FAMILIES
from heelraise.sim.scoring import FamilyScores, Score, family_spec, varied_spec

BENCH = Path(__file__).resolve().parents[1] / "bench" / "accuracy.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("accuracy_bench", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_classic_family_is_the_old_benchmark_variety():
    for seed in (3, 10, 10001):
        assert family_spec("classic", seed) == varied_spec(seed)
        assert varied_spec(seed).family == "classic"


def test_family_specs_are_deterministic_and_of_their_family():
    for family in FAMILIES:
        a, b = family_spec(family, 42), family_spec(family, 42)
        assert a == b and a.family == family
    assert family_spec("deep_drop", 7).surface == "step"
    with pytest.raises(ValueError, match="unknown motion family 'yoga'"):
        family_spec("yoga", 1)


class _RepLike:
    """What the scorer reads of an analysed rep."""

    def __init__(self, r):
        for k in ("start_s", "raise_s", "lower_s", "top_hold_s", "peak_deg"):
            setattr(self, k, r[k])
        self.faults = list(r["faults"])


def as_reps(truth: dict) -> list:
    """The true reps as a perfect analysis would report them."""
    return [_RepLike(r) for r in truth["reps"]]


def test_a_perfect_analysis_scores_perfectly_per_family():
    scores = FamilyScores()
    for family in ("classic", "brisk", "slow_walk", "jump"):
        sim = simulate_session(replace(family_spec(family, 5), fault_rate=0.3))
        scores.add(family, sim.truth, as_reps(sim.truth))
    for family, s in scores.by_family.items():
        assert s.exact == s.sessions == 1, family
        if family in NON_REP_FAMILIES:
            assert s.zero_sessions == s.zero_ok == 1
    total = scores.overall
    assert total.sessions == 4 and total.matched == total.true_reps > 0
    assert total.median_abs(total.raise_err) == 0.0
    assert "overall" in scores.table() and "brisk" in scores.table()


def test_a_rep_counted_in_a_non_rep_session_is_a_miss():
    sim = simulate_session(family_spec("squat", 3))
    fake = _RepLike(
        {"start_s": 5.0, "raise_s": 1, "lower_s": 1, "top_hold_s": 0, "peak_deg": 20, "faults": []}
    )
    s = Score()
    s.add("squat", sim.truth, [fake])
    assert (s.exact, s.zero_sessions, s.zero_ok) == (0, 1, 0)
    assert "1 reps counted, 0 true" in s.failures[0]


def test_the_bench_refuses_the_held_out_range_without_the_flag(capsys):
    bench = load_bench()
    with pytest.raises(SystemExit):
        bench.main(["--first-seed", "89990", "--sessions", "20"])
    assert "held-out range" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench.main(["--families", "brisk,pogo"])
    assert "unknown family pogo" in capsys.readouterr().err


def test_the_bench_deals_families_round_robin_over_consecutive_seeds():
    bench = load_bench()
    jobs = bench.jobs_for(["classic", "brisk", "run"], 1000, 7)
    assert jobs == [
        ("classic", 1000),
        ("brisk", 1001),
        ("run", 1002),
        ("classic", 1003),
        ("brisk", 1004),
        ("run", 1005),
        ("classic", 1006),
    ]


def test_the_bench_reports_every_family_and_the_real_walks(capsys):
    bench = load_bench()
    assert bench.main(["--sessions", "12", "--first-seed", "3000"]) == 0
    out = capsys.readouterr().out
    table = out.split("\n\n", 1)[0].splitlines()
    assert [row.split()[0] for row in table[2:]] == [*FAMILIES, "overall"]
    assert all(row.split()[1] == "1" for row in table[2:-1])  # one session of each
    assert "walk_xio_long_walk.csv:" in out and "walk_xio_short_walk.csv:" in out
    assert "phase error by true speed profile" in out
