"""Reads gathered before the chain runs: up to ``batch_s``, up to ``still_batch_s`` while
nothing turns, never while a rep is decided; the results are the same whatever the batches."""

import numpy as np
import pytest
from heelraise.chain.analyzer import TUNING, Analyzer
from heelraise.events import RepEvent
from heelraise.settings import AnalyzerSettings
from heelraise.sim import SessionSpec, simulate_session

READ_S = 0.02


@pytest.fixture(scope="module")
def session():
    return simulate_session(SessionSpec(sets=2, reps=6, tempo="2-1-2-1", rate_hz=1000, seed=11))


def stream(sim, settings):
    """20 ms reads; per read: (its last time, the analyzer's own time after it, events)."""
    a = Analyzer(settings)
    n = int(round(READ_S * 1000))
    out = []
    for i in range(0, len(sim.t_s), n):
        events = a.update(sim.t_s[i : i + n], sim.acc_g[i : i + n], sim.gyr_dps[i : i + n])
        out.append((float(sim.t_s[min(i + n, len(sim.t_s)) - 1]), a.state.t_s, events))
    return a, out, a.finish()


def turning_dps(sim, rows, bias):
    """The fastest turning rate among raw samples ``rows``, less the gyro's bias."""
    d = sim.gyr_dps[rows] - bias
    return float(np.sqrt((d * d).sum(axis=1)).max())


def test_still_batches_change_no_result(session):
    """The same reps and events, with reads gathered up to 0.5 s while still, up to 0.15 s
    always (0.15 s is the shortest still batch), or 2 s: what is published (``to_dict``)
    the same to the digit, and every instant the same to 1e-9 s (a batch's last bits of
    floating-point rounding differ with its length, as with any chunking)."""
    runs = {}
    for still in (0.15, 0.5, 2.0):
        a, reads, tail = stream(session, AnalyzerSettings(still_batch_s=still))
        runs[still] = (a.summary().reps, [e for _, _, ev in reads for e in ev] + tail)
    want_reps, want_events = runs[0.15]
    assert len(want_reps) == session.truth["rep_count"]
    for still in (0.5, 2.0):
        reps, events = runs[still]
        assert [r.to_dict() for r in reps] == [r.to_dict() for r in want_reps]
        for r, w in zip(reps, want_reps, strict=True):
            for key in ("start_s", "top_start_s", "top_end_s", "end_s", "peak_deg"):
                assert getattr(r, key) == pytest.approx(getattr(w, key), abs=1e-9), key
        assert [type(e) for e in events] == [type(e) for e in want_events]
        for e, w in zip(events, want_events, strict=True):
            assert e.t_s == pytest.approx(w.t_s, abs=1e-9)


def test_the_chain_runs_at_least_every_still_batch_and_every_batch_when_moving(session):
    """How far the analyzer's own time lags the reads: at most ``still_batch_s`` (plus a read
    and a grid cell), and at most ``batch_s`` on a read clearly turning (twice the still
    bound: the bias the analyzer knew then may differ a little from its last)."""
    s = AnalyzerSettings()
    a, reads, _ = stream(session, s)
    slack = READ_S + 0.011
    n = int(round(READ_S * 1000))
    lags, moving = [], 0
    for j, (last, t, _) in enumerate(reads):
        if t is None:  # before the first grid row
            continue
        lags.append(last - t)
        rows = np.arange(j * n, min((j + 1) * n, len(session.t_s)))
        if turning_dps(session, rows, a.bias_dps) > 2 * TUNING.phase_rate_dps:
            moving += 1
            assert last - t <= s.batch_s + slack, (last, t)
    assert len(lags) > 0.9 * len(reads) and moving > 100
    assert max(lags) <= s.still_batch_s + slack
    assert max(lags) > s.batch_s + slack  # some still reads were gathered longer


def test_no_rep_waits_for_a_still_batch(session):
    """Every rep comes from the read holding its deciding sample (or the next grid cell's)."""
    _, reads, _ = stream(session, AnalyzerSettings())
    n = 0
    for last, _, events in reads:
        for e in events:
            if isinstance(e, RepEvent):
                n += 1
                assert last - e.t_s <= READ_S + 0.011, (e.t_s, last)
    assert n == session.truth["rep_count"]
