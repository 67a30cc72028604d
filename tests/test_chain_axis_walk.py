"""The axis is not learnt from a stride (issue 10's walk-only false reps).

A stride's heel-off (a step off a box: the heel 56 deg up and back in 0.5 s at 150-330 deg/s,
under the stride rate the walking screen watches for) stays 12 deg up for 0.4 s like a raise's
top, but turns slowly only at its apex, for about 0.06 s. It gave the axis; the stride's
toes-up then read as heel up, and the session's toe taps and weight shifts were counted. The
axis now needs its 0.4 s held *turning slowly* (``AxisSettings.held_dps``), which a raise's
top (0.4-1.5 s plateaus, 7 deg/s RMS of balance ripple) does and a stride does not. Both
sessions below counted 5 reps on the chain before this change (checked: the assertions failed).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from heelraise.chain.offline import analyze_arrays
from heelraise.settings import AnalyzerSettings
from heelraise.sim.scoring import run_family_session, varied_spec
from heelraise.sim.session import simulate_session


def test_a_walking_only_classic_session_at_50_hz_counts_nothing():
    spec, sim, reps = run_family_session("classic", 68160)
    assert spec.walk_only and sim.truth["rep_count"] == 0  # the case
    assert [(round(r.start_s, 1), r.peak_deg) for r in reps] == []


@pytest.mark.parametrize("chunk", [None, 2])
def test_a_walking_only_session_at_100_hz_counts_nothing_however_streamed(chunk):
    spec = replace(varied_spec(61332), walk_only=True, rate_hz=100.0)
    sim = simulate_session(spec)
    result = analyze_arrays(
        sim.t_s, sim.acc_g, sim.gyr_dps, AnalyzerSettings(tempo=spec.tempo), chunk=chunk
    )
    assert [(round(r.start_s, 1), r.peak_deg) for r in result.summary.reps] == []
