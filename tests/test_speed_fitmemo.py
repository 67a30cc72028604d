"""The phase fits remembered (``PhaseSettings.fits_remembered``): a candidate's flanks are
fitted again at each chain run until it is decided, and once more when its rep is timed
again; the remembered fit is the fit of those exact samples, so no result changes."""

import numpy as np
import pytest
from heelraise.chain import phases
from heelraise.chain.analyzer import Analyzer
from heelraise.sim import SessionSpec, simulate_session
from test_speed_phases import bands

READ_S = 0.02


@pytest.fixture(scope="module")
def session():
    return simulate_session(SessionSpec(sets=1, reps=6, tempo="2-1-2-1", rate_hz=1000, seed=23))


def streamed_reps(sim):
    a = Analyzer()
    n = int(round(READ_S * sim.spec.rate_hz))
    for i in range(0, len(sim.t_s), n):
        a.update(sim.t_s[i : i + n], sim.acc_g[i : i + n], sim.gyr_dps[i : i + n])
    a.finish()
    return [r.to_dict() for r in a.summary().reps]


@pytest.mark.parametrize("seed", range(3))
def test_a_remembered_fit_is_the_fit_of_its_samples(seed):
    """Asked twice (the second from memory) or once with a cleared memory, the same
    instant and residual as the fit itself, bit for bit, with and without a bend."""
    for t, s, idx, far in bands(seed):
        for f in (None, far):
            want = phases._fit_band(t[idx], s[idx], None, f)
            phases._fit_band_seen.cache_clear()
            assert phases._band_fit(t, s, idx, far=f) == want
            assert phases._band_fit(t, s, idx, far=f) == want
        ex = (1.0, 2.0, 3.0)
        assert phases._band_fit(t, s, idx, ex, far) == phases._fit_band(t[idx], s[idx], ex, far)


def test_the_memory_is_keyed_on_the_values_not_the_arrays():
    """The same arrays changed in place after a fit give the new samples' fit, not the
    old one (the key is a copy of the values)."""
    t, s, idx, far = next(bands(7))
    first = phases._band_fit(t, s, idx, far=far)
    s[idx] *= 1.5
    s[idx] += np.linspace(0.0, 3.0, len(idx))
    second = phases._band_fit(t, s, idx, far=far)
    assert second == phases._fit_band(t[idx], s[idx], None, far)
    assert second != first


def test_streaming_fits_each_flank_once_with_the_same_reps(session):
    """Streamed in 20 ms reads, some fits come from memory (the chain does re-fit the same
    flanks), and the reps are the same whether the memory starts empty or holds another
    session's fits."""
    phases._fit_band_seen.cache_clear()
    first = streamed_reps(session)
    info = phases._fit_band_seen.cache_info()
    assert info.hits > 0 and info.misses > 0
    assert len(first) == session.truth["rep_count"]
    other = simulate_session(SessionSpec(sets=1, reps=4, tempo="1-0-3-1", rate_hz=1000, seed=24))
    streamed_reps(other)
    assert streamed_reps(session) == first
