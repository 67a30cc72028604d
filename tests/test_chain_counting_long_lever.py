"""A shuffle step is not a heel raise (issue 10: zero reps in every shuffling session).

shuffle development seeds 1645 and 1725: a short low step, its pitch up 18 to 20 degrees
and back, turning little about the vertical, fitted a lever arm of 2.8 and 4.4 m: its part
across the pitch axis a foot's length (0.12 and 0.2 m, under ``max_lever_m``), the rest
along the axis. No point 3 m from the sensor is a pivot on the ball of the foot (counted
reps fit 0.3 m at most in all): the chain before this work counted one rep in each
(checked); a lever over ``max_lever_total_m`` in all now rules it out. Along the axis a
pitch alone does not show the lever (only the roll and the ripple do): a slow classic rep's
fit read 1.15 +- 0.16 m there (classic 459, rep 2.5; classic 467 alike), so that part is
taken ``lever_sure_sigmas`` standard errors towards 0 first (these two guard the rule; the
chain before counted them).
"""

from __future__ import annotations

import pytest
from heelraise.sim.scoring import run_family_session


@pytest.mark.parametrize("seed", [1645, 1725])
def test_a_shuffle_step_fitting_a_lever_metres_long_is_not_a_rep(seed):
    _, sim, reps = run_family_session("shuffle", seed)
    assert sim.truth["rep_count"] == 0
    assert [round(r.start_s, 2) for r in reps] == []


@pytest.mark.parametrize("seed", [459, 467])
def test_a_rep_whose_lever_is_poorly_seen_along_the_axis_is_counted(seed):
    _, sim, reps = run_family_session("classic", seed)
    assert len(reps) == sim.truth["rep_count"]
