"""Counting: a weight shift right after walking is not a rep.

A stride's dip in the air (the toes up to -18 deg, the foot off the ground) can pass as a
settled bottom when the stride is too slow for the walking screen; the weight shift that
follows (1 to 4 deg and back, seconds later) then rose 22 deg "from the bottom" and, being low,
passed on the heel-up pivot alone. Once the lowering back to neutral out of a heel drop ended
a rep (``back_min_deg``), it was counted: 21 reps of 20 on this pair's right side. That rule
now needs a bottom the foot came down to (``back_held_deg`` over ``back_held_s``), which a
stride's dip, 15 deg in 0.1 s, is not. Fails on the chain before this change (checked).
"""

from __future__ import annotations

import pytest
from heelraise.chain.offline import analyze_arrays
from heelraise.sim import SessionSpec
from heelraise.sim.pair import PairSpec, simulate_pair


@pytest.fixture(scope="module")
def right():
    spec = PairSpec(SessionSpec(sets=2, reps=10, seed=11, surface="floor"), weaker="left")
    return simulate_pair(spec).sides["right"]


@pytest.mark.parametrize("chunk", [None, 3])
def test_a_weight_shift_after_a_stride_is_not_counted(right, chunk):
    shifts = [x for x in right.truth["not_reps"] if x["kind"] == "weight_shift"]
    assert shifts  # the case: weight shifts right after walking, between the sets
    reps = analyze_arrays(right.t_s, right.acc_g, right.gyr_dps, chunk=chunk).summary.reps
    inside = [
        (round(r.start_s, 2), round(r.peak_deg, 1))
        for r in reps
        if any(x["start_s"] - 0.2 <= r.start_s <= x["end_s"] for x in shifts)
    ]
    assert inside == []
    assert len(reps) == right.truth["rep_count"]
