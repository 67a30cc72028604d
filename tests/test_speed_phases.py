"""The power-law band fit computed over every (bend, exponent) pair at once gives the
instants and residuals of the fit done one bend exponent at a time, bit for bit."""

import numpy as np
import pytest
from heelraise.chain import phases
from heelraise.chain.phases import _EXPONENTS, PHASE, _band_fit


def band_fit_one_q_at_a_time(t, s, idx, exponents=None, far=None):
    """The fit as it was written before: a Python pass per bend exponent q."""
    if len(idx) < 3:
        return None
    tt, ss = t[idx], s[idx]
    tm = tt - tt.mean()
    var = float(tm @ tm)
    if var <= 0:
        return None
    ps = _EXPONENTS if exponents is None else np.asarray(exponents, dtype=float)
    weight = 1.0 + PHASE.prior * np.log2(ps / 2.0) ** 2
    best = None
    for q in (0.0,) if far is None else PHASE.far_exponents:
        ff = far**q if q else 1.0
        base = np.maximum(ss / ff, 0.0)
        y = base[None, :] ** (1.0 / ps[:, None])
        ym = y.mean(axis=1)
        a = ((y - ym[:, None]) @ tm) / var
        line = np.maximum(a[:, None] * tm[None, :] + ym[:, None], 0.0)
        res = np.sum((ff * line ** ps[:, None] - ss) ** 2, axis=1) * weight
        ok = np.flatnonzero(a != 0)
        if len(ok):
            k = int(ok[np.argmin(res[ok])])
            if best is None or res[k] < best[0]:
                best = (float(res[k]), float(tt.mean() - ym[k] / a[k]))
    return None if best is None else (best[1], best[0])


def bands(seed: int):
    """Onset flanks of power-law bells at 100 Hz (p 1 to 4, bent by their far side), with
    sensor noise, as the stop / onset rule sees them: (t, s, idx, far share)."""
    rng = np.random.default_rng(seed)
    for _ in range(40):
        p, q = rng.uniform(1.0, 4.0), rng.uniform(0.0, 3.0)
        width = rng.uniform(0.4, 3.0)
        t = np.arange(0.0, width, 0.01) + rng.uniform(0, 100)
        x = (t - t[0]) / width
        s = x**p * (1 - x) ** q
        s = s / s.max() * rng.uniform(20, 300) + rng.normal(0, rng.uniform(0, 2), len(t))
        n = int(rng.integers(3, 60))
        idx = np.arange(1, 1 + min(n, len(t) - 2))
        far = (t[-1] - t[idx]) / (t[-1] - t[0])
        yield t, s, idx, far


@pytest.mark.parametrize("seed", range(5))
def test_band_fit_matches_the_fit_one_bend_at_a_time(seed):
    for t, s, idx, far in bands(seed):
        for f in (None, far):
            assert _band_fit(t, s, idx, far=f) == band_fit_one_q_at_a_time(t, s, idx, far=f)
        ex = [1.0, 2.0, 3.0]
        assert _band_fit(t, s, idx, ex, far) == band_fit_one_q_at_a_time(t, s, idx, ex, far)


def test_band_fit_flat_and_short_bands():
    t = np.arange(10) * 0.01
    idx = np.arange(10)
    far = np.linspace(1.0, 0.5, 10)
    zero = np.zeros(10)  # every line flat: none reaches zero
    assert _band_fit(t, zero, idx) is None
    assert _band_fit(t, zero, idx, far=far) is None
    flat = np.full(10, 5.0)  # flat but for rounding: a zero far away
    assert _band_fit(t, flat, idx, far=far) == band_fit_one_q_at_a_time(t, flat, idx, far=far)
    assert _band_fit(t, flat, np.arange(2)) is None
    # Negative speeds (the fit's max(., 0)): every line flat at zero for some exponents.
    s = np.concatenate((np.full(5, -1.0), np.linspace(0.0, 4.0, 5)))
    assert _band_fit(t, s, idx, far=far) == band_fit_one_q_at_a_time(t, s, idx, far=far)
    assert phases._band_fit is _band_fit


def phase_span_smoothing_each_pass(t, speed, i_peak):
    """phase_span as it was written before: every pass smooths the speed again."""
    t0, fitted0 = phases._boundary(t, speed, i_peak, -1)
    t1, fitted1 = phases._boundary(t, speed, i_peak, +1)
    for _ in range(PHASE.bend_passes):
        if not (fitted0 and fitted1) or t1 <= t0:
            break
        n0, fitted0 = phases._boundary(t, speed, i_peak, -1, far=(t1, t0))
        t1, fitted1 = phases._boundary(t, speed, i_peak, +1, far=(t0, t1))
        t0 = n0
    return t0, t1


@pytest.mark.parametrize("seed", range(3))
def test_phase_span_smooths_once_with_the_same_instants(seed):
    """Whole bells with noise and ripple, some cut off before their stop (decided as the
    speed dies away): the instants are those of smoothing on every pass."""
    rng = np.random.default_rng(100 + seed)
    for _ in range(30):
        p, q = rng.uniform(1.0, 4.0), rng.uniform(1.0, 4.0)
        width = rng.uniform(0.4, 3.0)
        t = np.arange(-0.5, width + 0.5, 0.01)
        x = np.clip(t / width, 0.0, 1.0)
        v = x**p * (1 - x) ** q
        v = v / v.max() * rng.uniform(20, 300)
        v += rng.normal(0, rng.uniform(0, 3), len(t)) + rng.uniform(0, 3) * np.sin(60 * t)
        n = len(t) if rng.random() < 0.5 else int(len(t) * rng.uniform(0.6, 0.9))
        t, v = t[:n], v[:n]
        i_peak = int(np.argmax(v))
        assert phases.phase_span(t, v, i_peak) == phase_span_smoothing_each_pass(t, v, i_peak)
