"""bench/phase_ends.py: each of a rep's four instants scored against its truth, on the same
reps the accuracy bench scores (one matching rule, ``sim.scoring.matched_reps``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from heelraise.sim.scoring import MATCH_S, Score, matched_reps, run_family_session

BENCH = Path(__file__).resolve().parents[1] / "bench" / "phase_ends.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("phase_ends_bench", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_each_rep_matches_the_nearest_true_start_once_and_within_the_match_window():
    true = [{"start_s": 1.0}, {"start_s": 5.0}, {"start_s": 9.0}]
    reps = [SimpleNamespace(start_s=s) for s in (1.2, 1.3, 5.0 - 0.9 * MATCH_S, 20.0)]
    got = [(r.start_s, None if t is None else t["start_s"]) for r, t in matched_reps(true, reps)]
    # 1.3 is nearest to the rep at 1.0 too, already taken; 20 s is far from every start.
    assert got == [(1.2, 1.0), (1.3, None), (5.0 - 0.9 * MATCH_S, 5.0), (20.0, None)]
    assert list(matched_reps([], reps[:1]))[0][1] is None


def test_the_ends_are_those_of_the_reps_the_accuracy_score_times(bench):
    """On one brisk session, the bench's end errors give back the accuracy score's raise,
    hold and lowering errors exactly (a duration is its two ends' difference)."""
    family, seed = "brisk", 2001
    rows = bench.end_errors(family, seed)
    _, sim, reps = run_family_session(family, seed)
    score = Score()
    score.add("s", sim.truth, reps)
    assert len(rows) == score.matched > 0
    e = np.array([[r[name] for name, _ in bench.ENDS] for r in rows])
    np.testing.assert_allclose(e[:, 1] - e[:, 0], score.raise_err, atol=1e-9)
    np.testing.assert_allclose(e[:, 2] - e[:, 1], score.hold_err, atol=1e-9)
    np.testing.assert_allclose(e[:, 3] - e[:, 2], score.lower_err, atol=1e-9)
    assert {r["rise_profile"] for r in rows} == {"fast_onset"}
    assert "start_s" in bench.table(rows) and "rise fast_onset" in bench.table(rows)


def test_the_bench_refuses_the_held_out_range(bench, capsys):
    with pytest.raises(SystemExit):
        bench.main(["--first-seed", "89999", "--sessions", "2"])
    assert "held-out" in capsys.readouterr().err


def test_the_ends_are_broken_down_by_rate_bottom_and_lowering_length(bench):
    """Issue 10: classic's lowering reads short at both ends only when it is long (its slow
    flanks under the top's sway); the table shows that by the true lowering's length, the
    sample rate and where the lowering ended (floor, or a step past neutral or not)."""
    assert bench._lower_band(1.0) == "0.0-1.5 s"
    assert bench._lower_band(2.5) == "2.5-3.5 s"
    assert bench._lower_band(4.0) == ">= 3.5 s"
    assert bench._bottom("floor", 0.0) == "floor"
    assert bench._bottom("step", bench.PAST_NEUTRAL_DEG) == "step, past neutral"
    assert bench._bottom("step", 0.5 * bench.PAST_NEUTRAL_DEG) == "step, not past"
    ends = {name: 0.0 for name, _ in bench.ENDS}
    rows = [
        {
            "family": "classic",
            "rise_profile": "classic",
            "lower_profile": "classic",
            **ends,
            "rate": rate,
            "bottom": "floor",
            "lowering": band,
            "top_end_s": late,
        }
        for rate, band, late in (("50 Hz", ">= 3.5 s", 0.2), ("400 Hz", "0.0-1.5 s", 0.0))
    ]
    lines = bench.table(rows).splitlines()
    labelled = {line[:24].strip(): line for line in lines}
    assert [k for k in labelled if k.startswith("rate ")] == ["rate 50 Hz", "rate 400 Hz"]
    assert (
        "+0.200" in labelled["lower_s >= 3.5 s"] and "+0.200" not in labelled["lower_s 0.0-1.5 s"]
    )
    assert labelled["at floor"].split()[2] == "2"
