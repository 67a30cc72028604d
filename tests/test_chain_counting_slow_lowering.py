"""Counting a rep lowered so slowly that ripple hides its speed (issue 10).

deep_drop development seed 68, rep 1.5 (400 Hz, on a step): out of a bottom 8 degrees below
neutral the heel rises to 9 above it, sags 3 degrees through the hold, then is lowered to
neutral over 1.7 s: 6 degrees, peaking near 6.6 deg/s under 7 deg/s RMS of balance ripple.
Its lowering's peak rate read 5 deg/s, under ``min_rate_dps``, and the rep was dropped as
"no_rotation" (the chain before this work counted 7 of 8; checked). A phase that slow is a
rotation when the gyro itself turned the foot through most of its pitch change
(``min_turn_share``); a jolt's tilt settling moves the fused pitch with the gyro still.
"""

from __future__ import annotations

import numpy as np
from heelraise.chain.detection import _turned
from heelraise.sim.scoring import MATCH_S, run_family_session


def test_a_rep_lowered_under_ripple_as_fast_as_it_is_counted():
    _, sim, reps = run_family_session("deep_drop", 68)
    (true,) = [r for r in sim.truth["reps"] if (r["set"], r["index"]) == (1, 5)]
    assert true["lower_s"] > 1.5 and true["depth_deg"] < 1.0  # slow, to neutral
    starts = np.array([r.start_s for r in reps])
    assert np.abs(starts - true["start_s"]).min() < MATCH_S
    assert len(reps) == sim.truth["rep_count"]


def test_a_turn_is_what_the_gyro_integrates_not_what_the_fused_pitch_shows():
    grid_hz = 100.0
    pitch = np.linspace(9.0, 3.0, 171)  # 6 degrees down over 1.7 s
    turning = np.full(171, -6.0 / 1.7)  # the gyro saw the foot turn through it
    still = np.zeros(171)  # the tilt settled after a jolt: the gyro saw nothing
    assert _turned(turning, pitch, 0, 170, grid_hz)
    assert not _turned(still, pitch, 0, 170, grid_hz)
    assert not _turned(-turning, pitch, 0, 170, grid_hz)  # turned the other way
