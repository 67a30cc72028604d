"""The small numeric helpers the detector times phases with, against numpy's own answers."""

import numpy as np
import pytest
from heelraise.chain.axis import _principal_axis
from heelraise.chain.detection import _level, _peak_of_run, trailing_min
from heelraise.chain.phases import first_true, onset_time, stop_time


@pytest.mark.parametrize("n", [1, 2, 5, 6, 31, 200])
def test_level_is_the_median_of_the_span(n):
    rng = np.random.default_rng(n)
    t = np.arange(n) / 100.0
    pitch = rng.normal(0.0, 5.0, n)
    assert _level(t, pitch, t[0], t[-1], 99.0) == float(np.median(pitch))
    inner = (t >= t[n // 3]) & (t <= t[-1])
    assert _level(t, pitch, t[n // 3], t[-1], 99.0) == float(np.median(pitch[inner]))


def test_level_of_an_empty_span_is_the_fallback():
    t = np.arange(10) / 100.0
    assert _level(t, np.zeros(10), 5.0, 6.0, 42.0) == 42.0


def test_principal_axis_is_the_direction_of_the_larger_spread():
    for angle in np.linspace(-3.0, 3.0, 25):
        d = np.array([np.cos(angle), np.sin(angle)])  # the spread is 3x larger along d
        cov = 9.0 * np.outer(d, d) + 1.0 * np.outer([-d[1], d[0]], [-d[1], d[0]])
        got = _principal_axis(cov)
        assert abs(np.linalg.norm(got) - 1.0) < 1e-12
        assert min(np.abs(got - d).max(), np.abs(got + d).max()) < 1e-9


def test_principal_axis_of_isotropic_spread_is_none():
    assert _principal_axis(np.eye(2) * 4.0) is None
    assert _principal_axis(np.zeros((2, 2))) is None


def test_first_true():
    assert first_true(np.array([], dtype=bool)) is None
    assert first_true(np.array([False, False])) is None
    assert first_true(np.array([False, True, True])) == 1


def test_onset_and_stop_of_a_minimum_jerk_movement():
    """v = c (t - t0)^2 near rest: the 1/16 and 1/4 crossings put the onset back at t0."""
    t = np.arange(0, 3, 0.01)
    tau = np.clip((t - 0.5) / 2.0, 0, 1)
    v = 30 * tau**2 * (1 - tau) ** 2  # minimum-jerk speed profile, 0.5 s to 2.5 s
    i_peak = int(np.argmax(v))
    assert abs(onset_time(t, v, i_peak) - 0.5) < 0.04
    assert abs(stop_time(t, v, i_peak) - 2.5) < 0.04
    # A speed that never falls below the thresholds: the ends of what was seen.
    flat = np.ones(20)
    assert onset_time(t[:20], flat, 10) == t[0]
    assert stop_time(t[:20], flat, 10) == t[19]


def test_peak_of_run_follows_the_movement_not_a_bigger_blip_beside_it():
    rate = np.zeros(100)
    rate[40:60] = np.hanning(20) * 20.0  # the rise proper
    pitch = np.cumsum(rate) * 0.01
    rate[5:8] = [0.0, 50.0, 0.0]  # a tap before it: fast, but the tilt does not change
    i = _peak_of_run(rate, pitch, 0, 99, rising=True)
    assert 40 <= i < 60 and rate[i] == rate[40:60].max()
    # The same seen as a lowering (time reversed): the speed is the negated rate.
    down_rate = -rate[::-1]
    j = _peak_of_run(-down_rate, pitch[::-1], 0, 99, rising=False)
    assert 40 <= j < 60 and -down_rate[j] == rate[40:60].max()


def _rotation(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s], [s, c]])


@pytest.mark.parametrize("n, w", [(0, 5), (1, 1), (7, 3), (300, 300), (701, 300), (50, 64)])
def test_trailing_min_equals_scipy_and_a_plain_loop(n, w):
    from scipy.ndimage import minimum_filter1d

    rng = np.random.default_rng(n + w)
    x = rng.normal(size=n)
    x[rng.random(n) < 0.2] = np.inf  # unsettled rows are +inf in the detector
    got = trailing_min(x, w)
    loop = np.array([x[max(0, i - w + 1) : i + 1].min() for i in range(n)])
    np.testing.assert_array_equal(got, loop)
    if n:
        want = minimum_filter1d(x, w, origin=(w - 1) // 2, mode="nearest")
        np.testing.assert_array_equal(got, want)


def test_the_chain_does_not_import_scipy():
    """scipy is a simulator dependency, not one the Pi's chain needs."""
    import subprocess
    import sys

    code = (
        "import sys, heelraise.chain.analyzer, heelraise.chain.offline; "
        "print(any(m == 'scipy' or m.startswith('scipy.') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
