"""Counting a brisk raise lowered past neutral on the floor (issue 10): the heel lands and the
foot rocks back onto it (``rocked_back``), so below neutral it turns about the heel, not the
ball of the foot. One lever arm fitted over the whole movement could not explain those rows
(residual 0.2 to 1.1 g), and the rep was dropped as "not_pivoting" as if the foot had flown.
Below neutral a row is now judged by the better of two pivots (``PivotFit.residual_about``).
The chain before this work counted each of these development sessions one rep short
(checked: each assertion failed on it).

brisk development seed 449, rep 2.5: a 53 degree brisk raise (roll under 2 degrees) read a
7.9 degree turn about the vertical, over the 7.3 a rep was allowed, and was dropped as
"turned" (9 of 10 before; checked): a pitch about an axis read a little off level has a
vertical share of its own (``yaw_axis_tilt_deg``), proportional to the raise.
"""

from __future__ import annotations

import numpy as np
import pytest
from heelraise.sim.scoring import MATCH_S, run_family_session


@pytest.mark.parametrize("seed", [77, 171])
def test_a_brisk_rep_rocked_back_onto_the_heel_is_counted(seed):
    _, sim, reps = run_family_session("brisk", seed)
    rocked = [r for r in sim.truth["reps"] if "rocked_back" in r["faults"]]
    assert rocked  # the case: a rep rocked back onto the heel
    starts = np.array([r.start_s for r in reps])
    for rep in rocked:
        assert np.abs(starts - rep["start_s"]).min() < MATCH_S, (rep["set"], rep["index"])
    assert len(reps) == sim.truth["rep_count"]


def test_a_high_brisk_raise_is_not_taken_for_a_turn_on_the_spot():
    _, sim, reps = run_family_session("brisk", 449)
    (true,) = [r for r in sim.truth["reps"] if (r["set"], r["index"]) == (2, 5)]
    assert true["peak_deg"] > 50 and abs(true["roll_deg"]) < 2
    starts = np.array([r.start_s for r in reps])
    assert np.abs(starts - true["start_s"]).min() < MATCH_S
    assert len(reps) == sim.truth["rep_count"]
