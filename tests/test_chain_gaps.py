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


@pytest.fixture(scope="module")
def thirty():
    return simulate_session(SessionSpec(sets=3, reps=10, rate_hz=100, seed=7))


@pytest.mark.parametrize("hole_s", [0.04, 0.2])
@pytest.mark.parametrize("where", ["raise", "top", "lower"])
def test_a_short_hole_the_driver_reports_is_bridged_like_one_in_the_timestamps(
    thirty, hole_s, where
):
    """A failed 40 ms read or a 200 ms stall that the driver reports through mark_gap
    costs no rep and splits no set: the same reps, to the bit, as the same hole found in
    the timestamps (which the grid interpolates over)."""
    t, acc, gyr = thirty.t_s, thirty.acc_g, thirty.gyr_dps
    rep = thirty.truth["reps"][13]  # set 2, rep 4
    at = {
        "raise": 0.5 * (rep["start_s"] + rep["top_start_s"]),
        "top": 0.5 * (rep["top_start_s"] + rep["top_end_s"]),
        "lower": 0.5 * (rep["top_end_s"] + rep["end_s"]),
    }[where]
    keep = ~((t > at) & (t < at + hole_s))
    t, acc, gyr = t[keep], acc[keep], gyr[keep]
    k = int(np.flatnonzero(t > at)[0])  # the first sample after the hole
    found = Analyzer()  # the same reads, nobody reporting the hole
    want = feed(found, t[:k], acc[:k], gyr[:k], chunk=20)
    want += feed(found, t[k:], acc[k:], gyr[k:], chunk=20) + found.finish()
    told = Analyzer()
    got = feed(told, t[:k], acc[:k], gyr[:k], chunk=20)
    got += told.mark_gap(float(t[k - 1]), float(t[k]), "i2c_error")
    got += feed(told, t[k:], acc[k:], gyr[k:], chunk=20)
    got += told.finish()
    assert [s.rep_count for s in told.summary().sets] == [10, 10, 10]
    assert [s.rep_count for s in found.summary().sets] == [10, 10, 10]
    assert [e.kind for e in got] == [e.kind for e in want]
    for g, w in zip(told.summary().reps, found.summary().reps, strict=True):
        assert (g.start_s, g.top_start_s, g.top_end_s, g.end_s) == (
            w.start_s, w.top_start_s, w.top_end_s, w.end_s
        )  # fmt: skip
        assert g.faults == w.faults
    assert not [e for e in got if e.kind == "gap"]  # the caller reports it (the service does)


def test_a_long_hole_the_driver_reports_still_drops_the_rep_it_cuts(thirty):
    t, acc, gyr = thirty.t_s, thirty.acc_g, thirty.gyr_dps
    rep = thirty.truth["reps"][13]
    at = 0.5 * (rep["start_s"] + rep["top_start_s"])
    keep = ~((t > at) & (t < at + 0.3))  # over max_gap_s (0.25 s)
    t, acc, gyr = t[keep], acc[keep], gyr[keep]
    k = int(np.flatnonzero(t > at)[0])
    a = Analyzer()
    events = feed(a, t[:k], acc[:k], gyr[:k], chunk=20)
    events += a.mark_gap(float(t[k - 1]), float(t[k]), "fifo_overflow")
    events += feed(a, t[k:], acc[k:], gyr[k:], chunk=20) + a.finish()
    assert [e.reason for e in events if e.kind == "gap"] == ["fifo_overflow"]
    assert a.summary().rep_count == 29
