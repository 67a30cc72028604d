"""Holes in the stream: reported once, never bridged, never a phantom rep."""

from __future__ import annotations

import numpy as np
import pytest
from heelraise.chain.analyzer import Analyzer
from heelraise.sim import SessionSpec, simulate_session


@pytest.fixture(scope="module")
def session():
    return simulate_session(
        SessionSpec(sets=1, reps=6, walking=False, distractors=False, rate_hz=100, seed=41)
    )


def feed(analyzer, t, acc, gyr, chunk=7):
    events = []
    for i in range(0, len(t), chunk):
        events += analyzer.update(t[i : i + chunk], acc[i : i + chunk], gyr[i : i + chunk])
    return events


def test_a_gap_the_source_reports_drops_the_rep_it_cuts_and_is_reported_once(session):
    truth = session.truth["reps"]
    cut = truth[2]  # drop 0.6 s in the middle of the third rep's raise
    mid = 0.5 * (cut["start_s"] + cut["top_start_s"])
    t, acc, gyr = session.t_s, session.acc_g, session.gyr_dps
    before = t < mid - 0.3
    after = t > mid + 0.3
    a = Analyzer()
    events = feed(a, t[before], acc[before], gyr[before])
    events += a.mark_gap(float(t[before][-1]), float(t[after][0]), "fifo_overflow")
    events += feed(a, t[after], acc[after], gyr[after])
    events += a.finish()
    gaps = [e for e in events if e.kind == "gap"]
    assert [(g.reason, g.start_s, g.end_s) for g in gaps] == [
        ("fifo_overflow", float(t[before][-1]), float(t[after][0]))
    ]
    reps = [e.rep for e in events if e.kind == "rep"]
    assert len(reps) == len(truth) - 1
    for r in reps:  # nothing counted across the hole
        assert not (r.start_s < mid < r.end_s)


def test_a_hole_in_the_timestamps_is_reported_and_not_bridged(session):
    t, acc, gyr = session.t_s, session.acc_g, session.gyr_dps
    keep = (t < 20.0) | (t > 21.0)  # a second of samples missing, nobody said so
    a = Analyzer()
    events = feed(a, t[keep], acc[keep], gyr[keep], chunk=13) + a.finish()
    gaps = [e for e in events if e.kind == "gap"]
    assert len(gaps) == 1 and gaps[0].reason == "missing_samples"
    assert gaps[0].start_s < 20.0 < 21.0 < gaps[0].end_s
    grid_t = a.history.get("t", a.history.first, a.history.end)
    assert not ((grid_t > 20.0) & (grid_t < 21.0)).any()


@pytest.mark.parametrize("how", ["reported", "in_the_timestamps"])
def test_a_lone_sample_after_a_hole_ends_the_stream(session, how):
    """The last chunk is one sample after a hole: the hole is reported once, nothing fails."""
    t, acc, gyr = session.t_s, session.acc_g, session.gyr_dps
    t_after = float(t[2000]) + 1.0
    a = Analyzer()
    events = feed(a, t[:2000], acc[:2000], gyr[:2000])
    if how == "reported":
        events += a.mark_gap(float(t[1999]), t_after, "fifo_overflow")
    else:
        events += a.end_set()  # nothing held back: the lone sample is a chunk of its own
    events += a.update(np.array([t_after]), acc[2000:2001], gyr[2000:2001])
    events += a.finish()
    gaps = [e for e in events if e.kind == "gap"]
    assert [(g.start_s, g.end_s) for g in gaps] == [(float(t[1999]), t_after)]


def test_short_dropouts_are_interpolated_not_reported(session):
    t, acc, gyr = session.t_s, session.acc_g, session.gyr_dps
    keep = np.ones(len(t), bool)
    keep[500:505] = False  # 50 ms at 100 Hz: well under max_gap_s
    a = Analyzer()
    events = feed(a, t[keep], acc[keep], gyr[keep]) + a.finish()
    assert not [e for e in events if e.kind == "gap"]
    assert a.summary().rep_count == len(session.truth["reps"])
