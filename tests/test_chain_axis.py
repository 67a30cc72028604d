"""The pitch axis and its sign, found from the data whatever the mounting and the first move."""

from __future__ import annotations

import numpy as np
import pytest
from heelraise.chain.offline import analyze_arrays
from heelraise.sim import SessionSpec, simulate_session


@pytest.mark.parametrize("seed", [720, 721, 722])
def test_heels_dropped_in_a_stretch_before_the_first_rep_do_not_turn_the_axis_round(seed):
    """On a step, a held calf stretch (heels below the step) is the first big movement.

    Taken for a raise, it would turn every rep upside down: peaks the size of the stretch,
    raise and lowering swapped. The sign is checked on the first rep and corrected.
    """
    sim = simulate_session(
        SessionSpec(sets=2, reps=6, surface="step", stretch_first=True, seed=seed)
    )
    truth = sim.truth["reps"]
    one = analyze_arrays(sim.t_s, sim.acc_g, sim.gyr_dps)
    reps = one.summary.reps
    assert len(reps) == len(truth)
    peaks = np.array([r.peak_deg for r in reps])
    true_peaks = np.array([t["peak_deg"] for t in truth])
    assert np.median(np.abs(peaks - true_peaks)) < 3.0
    raise_err = [r.raise_s - t["raise_s"] for r, t in zip(reps, truth, strict=True)]
    assert np.median(np.abs(raise_err)) < 0.15
    # the correction happens at the same sample however the stream is cut
    chunked = analyze_arrays(sim.t_s, sim.acc_g, sim.gyr_dps, chunk=17)
    assert [round(r.start_s, 3) for r in chunked.summary.reps] == [
        round(r.start_s, 3) for r in reps
    ]


class _LoopSearch:
    """PitchAxis.search's rule, one sample at a time, as it is specified."""

    def __init__(self):
        self.run, self.last_vigorous, self.last_low = 0, -(10**9), None

    def search(self, k0, r, wmag, free, grid_hz=100.0, walking_dps=250.0):
        from heelraise.chain import axis

        mag = np.hypot(r[:, 0], r[:, 1])
        need, quiet = round(axis.AXIS.qualify_s * grid_hz), round(axis.AXIS.quiet_s * grid_hz)
        for i in range(len(r)):
            k = k0 + i
            if wmag[i] > walking_dps or (free is not None and free[i]):
                self.last_vigorous = k
            if mag[i] < axis.AXIS.excursion_start_deg:
                self.last_low = k
            held = wmag[i] < axis.AXIS.held_dps
            ok = mag[i] >= axis.AXIS.qualify_deg and k - self.last_vigorous > quiet and held
            self.run = self.run + 1 if ok else 0
            if self.run >= need and self.last_low is not None:
                return self.last_low
        return None


@pytest.mark.parametrize("seed", range(40))
def test_axis_search_finds_what_the_sample_by_sample_rule_finds(seed):
    from heelraise.chain.axis import PitchAxis
    from heelraise.chain.history import History

    rng = np.random.default_rng(seed)
    n = int(rng.integers(200, 3000))
    r = rng.normal(0.0, 2.0, (n, 2))
    for _ in range(rng.integers(0, 6)):  # held excursions of random size and length
        a = rng.integers(0, n)
        r[a : a + rng.integers(5, 200)] += rng.normal(0.0, 12.0, 2)
    wmag = np.abs(rng.normal(0.0, 20.0, n))  # now and then over AXIS.held_dps
    for _ in range(rng.integers(0, 4)):  # bursts of walking
        a = rng.integers(0, n)
        wmag[a : a + rng.integers(1, 100)] += 300.0
    free = rng.random(n) < 0.01 if seed % 2 else None
    hist = History(("t", "r1", "r2"), n)
    hist.append((np.arange(n) / 100.0, r[:, 0].copy(), r[:, 1].copy()))
    fast, loop = PitchAxis(100.0, 250.0), _LoopSearch()
    pos = 0
    while pos < n:  # in chunks of random size: the state carries across calls
        part = slice(pos, min(n, pos + int(rng.integers(1, 400))))
        f = None if free is None else free[part]
        want = loop.search(pos, r[part], wmag[part], f)
        assert fast.search(pos, r[part], wmag[part], hist, f) == want
        assert (fast.run, fast.last_vigorous, fast.last_low) == (
            loop.run,
            loop.last_vigorous,
            loop.last_low,
        )
        if want is not None:
            assert fast.known
            break
        pos = part.stop
