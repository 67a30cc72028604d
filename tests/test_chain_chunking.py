"""However the stream is chunked, the analyzer counts and times the same reps.

The Analyzer promises (chain/analyzer.py): reps, sets and faults are the same
and their times agree to well under a millisecond whatever the chunk sizes, from
one sample at a time to a whole recording at once. Here: random chunk sizes
varying along the stream (hypothesis, derandomized), one sample at a time, and
the same at 400 Hz where the resampler box-averages across chunk boundaries.
"""

from __future__ import annotations

import copy
import functools

import numpy as np
import pytest
from heelraise.chain import resample
from heelraise.chain.analyzer import Analyzer
from heelraise.chain.offline import analyze_arrays
from heelraise.events import GapEvent
from heelraise.sim import SessionSpec, simulate_session
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

TIME_TOL_S = 0.001
PHASES = ("start_s", "top_start_s", "top_end_s", "end_s")


class Session:
    def __init__(self, spec: SessionSpec, dirty: bool = False):
        self.sim = simulate_session(spec)
        self.gaps = 0
        if dirty:
            self.sim, self.gaps = _dirty(self.sim)
        self.one_shot = analyze_arrays(self.sim.t_s, self.sim.acc_g, self.sim.gyr_dps)


def _dirty(sim):
    """The session with what real streams carry: glitches (values no IMU gives, non-finite
    ones), two short holes the grid bridges (40 and 200 ms) and a long one it does not
    (1 s, in the walk out after the last rep)."""
    t, acc, gyr = sim.t_s.copy(), sim.acc_g.copy(), sim.gyr_dps.copy()
    reps = sim.truth["reps"]
    n = len(t)
    acc[n // 7, 0] = 1e30
    gyr[n // 5, 1] = np.nan
    gyr[n // 3, 2] = 5000.0
    acc[n // 2, 2] = -np.inf
    acc[int(0.6 * n), 1] = 40.0
    inside = 0.5 * (reps[1]["start_s"] + reps[1]["top_start_s"])  # in the second rep's raise
    keep = ~((t > inside) & (t < inside + 0.04))
    keep &= ~((t > reps[2]["top_end_s"] + 0.3) & (t < reps[2]["top_end_s"] + 0.5))
    late = reps[-1]["end_s"] + 3.0
    keep &= ~((t > late) & (t < late + 1.0))
    dirty = copy.copy(sim)
    dirty.t_s, dirty.acc_g, dirty.gyr_dps = t[keep], acc[keep], gyr[keep]
    return dirty, 1


@pytest.fixture(scope="module")
def s100():
    """Walk in, one set of four raises, walk out: about 54 s at 100 Hz."""
    return Session(SessionSpec(sets=1, reps=4, walking=True, rate_hz=100, seed=3))


@pytest.fixture(scope="module")
def dirty100():
    """s100 with glitches, two short holes and a long one."""
    return Session(SessionSpec(sets=1, reps=4, walking=True, rate_hz=100, seed=3), dirty=True)


@pytest.fixture(scope="module")
def s400():
    return Session(SessionSpec(sets=1, reps=4, walking=True, rate_hz=400, seed=5))


def feed(sim, sizes) -> tuple[Analyzer, list]:
    """Feed the session in chunks of ``sizes[0], sizes[1], ...`` (cycling)."""
    a = Analyzer()
    events: list = []
    i, n, j = 0, len(sim.t_s), 0
    while i < n:
        k = sizes[j % len(sizes)]
        j += 1
        events += a.update(sim.t_s[i : i + k], sim.acc_g[i : i + k], sim.gyr_dps[i : i + k])
        i += k
    events += a.finish(strict=True)
    return a, events


def assert_same(session: Session, a: Analyzer, events: list, label: str):
    ref = session.one_shot
    want, got = ref.summary.reps, a.summary().reps
    assert len(got) == len(want), f"{label}: {len(got)} reps, one-shot {len(want)}"
    assert len(want) == session.sim.truth["rep_count"]  # the reference itself is right
    for r, w in zip(got, want, strict=True):
        assert (r.set, r.index) == (w.set, w.index), label
        assert r.faults == w.faults, f"{label}: rep {w.set}.{w.index} faults"
        assert r.surface == w.surface, label
        for name in PHASES:
            d = abs(getattr(r, name) - getattr(w, name))
            assert d <= TIME_TOL_S, (
                f"{label}: rep {w.set}.{w.index} {name} {getattr(r, name):.4f} s, "
                f"one-shot {getattr(w, name):.4f} s ({1000 * d:.2f} ms apart)"
            )
        assert r.peak_deg == pytest.approx(w.peak_deg, abs=0.01), label
        assert r.depth_deg == pytest.approx(w.depth_deg, abs=0.01), label
    got_sets = [(s.index, s.rep_count, s.ended_by) for s in a.summary().sets]
    want_sets = [(s.index, s.rep_count, s.ended_by) for s in ref.summary.sets]
    assert got_sets == want_sets, label
    # The same events, decided at the same sensor time.
    kinds = [type(e).__name__ for e in events]
    assert kinds == [type(e).__name__ for e in ref.events], label
    for e, w in zip(events, ref.events, strict=True):
        assert abs(e.t_s - w.t_s) <= TIME_TOL_S, f"{label}: {type(e).__name__} decided at {e.t_s}"
    assert sum(isinstance(e, GapEvent) for e in events) == session.gaps


@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],  # each example replays a session: no shrinking
)
@given(sizes=st.lists(st.integers(1, 500), min_size=1, max_size=12))
def test_random_chunk_sizes_give_the_one_shot_result(s100, sizes):
    a, events = feed(s100.sim, sizes)
    assert_same(s100, a, events, f"chunks {sizes}")


@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
)
@given(sizes=st.lists(st.integers(1, 500), min_size=1, max_size=12))
def test_glitches_and_holes_give_the_one_shot_result_whatever_the_chunks(dirty100, sizes):
    """Glitches dropped, short holes bridged, the long hole reported once: all reps count
    (the reference itself is checked against the truth), however the stream is cut."""
    a, events = feed(dirty100.sim, sizes)
    assert_same(dirty100, a, events, f"dirty, chunks {sizes}")
    assert a.screen.count == 5


@pytest.mark.parametrize("chunk", [26850, 10000, 2000, 500, 50, 7])
def test_one_glitch_gives_thirty_reps_in_any_chunks(chunk):
    """The issue's case: one 1e30 in ax gave 14 reps, and 14 / 27 / 28 / 29 / 30 in chunks of
    26,850 / 10,000 / 2,000 / 500 / 50 samples."""
    sim = _thirty()
    acc = sim.acc_g.copy()
    acc[len(acc) // 3, 0] = 1e30
    r = analyze_arrays(sim.t_s, acc, sim.gyr_dps, chunk=chunk)
    assert r.summary.rep_count == 30
    assert [s.rep_count for s in r.summary.sets] == [10, 10, 10]
    assert r.analyzer.screen.count == 1


@functools.cache
def _thirty():
    return simulate_session(SessionSpec(sets=3, reps=10, rate_hz=100, seed=7))


def test_one_sample_at_a_time(s100):
    a, events = feed(s100.sim, [1])
    assert_same(s100, a, events, "one sample at a time")


def test_chunk_sizes_of_analyze_arrays(s100):
    sim = s100.sim
    for chunk in (1000, 2250, 4096):
        r = analyze_arrays(sim.t_s, sim.acc_g, sim.gyr_dps, chunk=chunk)
        assert_same(s100, r.analyzer, r.events, f"analyze_arrays(chunk={chunk})")


@pytest.mark.parametrize(
    "sizes", [[8], [3, 17, 1, 400, 29], [997, 2, 64]], ids=["20ms", "mixed", "odd"]
)
def test_chunking_at_400_hz(s400, sizes):
    """Grid cells (10 ms) straddle chunk boundaries: their averages carry over."""
    a, events = feed(s400.sim, sizes)
    assert_same(s400, a, events, f"400 Hz, chunks {sizes}")


def test_empty_chunks_change_nothing(s100):
    sim = s100.sim
    a = Analyzer()
    events: list = []
    empty_t, empty_v = np.empty(0), np.empty((0, 3))
    for i in range(0, len(sim.t_s), 300):
        events += a.update(empty_t, empty_v, empty_v)
        events += a.update(sim.t_s[i : i + 300], sim.acc_g[i : i + 300], sim.gyr_dps[i : i + 300])
    events += a.finish(strict=True)
    assert_same(s100, a, events, "300-sample chunks with empty ones between")


def _jittered_stream(n: int, rate_hz: float, seed: int):
    """n samples at about rate_hz with jitter, two holes the grid must not bridge, a short
    dropout it interpolates over, and a few repeated timestamps."""
    rng = np.random.default_rng(seed)
    dt = (1.0 + 0.3 * rng.uniform(-1, 1, n)) / rate_hz
    dt[n // 3] += 0.6  # holes (max_gap_s is 0.25 s)
    dt[2 * n // 3] += 1.3
    dt[n // 2] += 0.1  # a dropout
    dt[rng.integers(1, n, 5)] = 0.0  # repeated timestamps
    return 12.5 + np.cumsum(dt)


def _resample_in_chunks(t, columns, sizes):
    """GridResampler(100 Hz) fed chunks of ``sizes[0], sizes[1], ...`` (cycling)."""
    r = resample.GridResampler(100.0, 0.25)
    tgs, vgs, gaps = [], [], []
    i = j = 0
    while i < len(t):
        k = sizes[j % len(sizes)]
        j += 1
        tg, vg, g = r.update(t[i : i + k], *(c[i : i + k] for c in columns))
        tgs.append(tg)
        vgs.append(vg)
        gaps += g
        i += k
    return np.concatenate(tgs), np.concatenate(vgs), gaps


@pytest.mark.parametrize("block", [7, 64, resample.BLOCK_KNOTS])
def test_resampler_blocks_carry_the_cell_integrals(monkeypatch, block):
    """A long input is integrated block by block: cells across block boundaries (and across
    chunks, holes and repeated timestamps) are still exact averages, whatever the feeding."""
    monkeypatch.setattr(resample, "BLOCK_KNOTS", block)
    n = max(3000, 2 * block + 1234)  # several blocks in one go
    t = _jittered_stream(n, 1000.0, seed=block)
    # A straight line per column: its cell averages are its values at the cell centres.
    slope = np.array([0.01, -0.02, 0.003, 1.5, -2.5, 0.25])
    line = 1.0 + (t[:, None] - 12.5) * slope
    acc, gyr = line[:, :3].copy(), np.asfortranarray(line[:, 3:])  # rows of gyr not contiguous
    tg, vg, gaps = _resample_in_chunks(t, (acc, gyr), [n])
    assert len(gaps) == 2 and len(tg) > 0.9 * (t[-1] - t[0] - 1.9) * 100
    assert np.abs(vg - (1.0 + (tg[:, None] - 12.5) * slope)).max() < 1e-9
    # A sine fed in pieces down to one sample gives the one-go grid.
    wave = np.sin(2 * np.pi * 3.0 * t[:, None] + np.arange(6))
    acc, gyr = wave[:, :3].copy(), wave[:, 3:].copy()
    ref_t, ref_v, ref_gaps = _resample_in_chunks(t, (acc, gyr), [n])
    for sizes in ([1], [3, 17, 1, 400, 29], [block - 1, block + 1]):
        got_t, got_v, got_gaps = _resample_in_chunks(t, (acc, gyr), sizes)
        assert got_gaps == ref_gaps
        np.testing.assert_array_equal(got_t, ref_t)
        assert np.abs(got_v - ref_v).max() < 1e-9, sizes
    # One (N, 6) array gives the same as its columns in two arrays, an odd width too.
    one_t, one_v, _ = _resample_in_chunks(t, (wave,), [n])
    np.testing.assert_array_equal(one_v, ref_v)
    odd_t, odd_v, _ = _resample_in_chunks(t, (acc,), [n])
    np.testing.assert_array_equal(odd_v, ref_v[:, :3])


def test_a_jolts_settle_period_is_kept_whatever_the_call_lengths():
    """``Analyzer._settled`` marks the rows within ``settle_s`` after a jolt as not settled;
    the same rows whether the stream reaches it in one call or in two, the second starting
    0.1 s after the jolt and running past the end of its settle period. (It judged such a
    call by its last row only, calling all of it settled: the bottom of a rep could then
    lie in a jolt's wake, read differently with longer reads.)"""
    from types import SimpleNamespace

    from heelraise.chain.analyzer import TUNING
    from heelraise.chain.orientation import FLAG_BLEND

    grid_hz = 100.0
    n, jolt_at = 300, 40
    walk = np.zeros(n)
    walk[jolt_at] = 1.0
    flags = np.full(n, FLAG_BLEND)

    def settled(cuts):
        state = SimpleNamespace(
            history=SimpleNamespace(end=0),
            settings=SimpleNamespace(grid_hz=grid_hz),
            _last_jolt=-(10**9),
            _last_walk=-(10**9),
        )
        out = []
        for a, b in zip((0, *cuts), (*cuts, n), strict=True):
            out.append(Analyzer._settled(state, walk[a:b], flags[a:b]))
            state.history.end = b
        return np.concatenate(out)

    one = settled(())
    settle_rows = int(round(TUNING.settle_s * grid_hz))
    assert not one[jolt_at : jolt_at + settle_rows].any()
    assert one[jolt_at + settle_rows :].all() and one[:jolt_at].all()
    for cut in (jolt_at + 1, jolt_at + 10, jolt_at + 60, jolt_at + settle_rows - 1):
        assert np.array_equal(settled((cut,)), one), f"cut at row {cut}"


def test_reads_gathered_longer_give_the_same_reps():
    """A 50 Hz classic session (development seed 60004), streamed in 20 ms reads gathered up to
    ``batch_s`` (0.15 s, the default) or up to 0.5 s: the same reps to the digit, as in one
    piece. With a jolt's settle period lost at a long call, rep 12's bottom (and start) was
    read 0.03 s earlier with the 0.5 s batches."""
    from heelraise.settings import AnalyzerSettings
    from heelraise.sim.scoring import analysis_tempo, family_spec

    spec = family_spec("classic", 60004)
    sim = simulate_session(spec)
    tempo = analysis_tempo(spec)
    want = [
        r.to_dict()
        for r in analyze_arrays(
            sim.t_s, sim.acc_g, sim.gyr_dps, AnalyzerSettings(tempo=tempo)
        ).summary.reps
    ]
    assert len(want) == sim.truth["rep_count"]
    read = max(1, int(round(0.02 * spec.rate_hz)))
    for batch_s in (0.15, 0.5):
        settings_ = AnalyzerSettings(tempo=tempo, batch_s=batch_s)
        got = analyze_arrays(sim.t_s, sim.acc_g, sim.gyr_dps, settings_, chunk=read).summary.reps
        assert [r.to_dict() for r in got] == want, f"reads gathered up to {batch_s} s"
