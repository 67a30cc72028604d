"""The small numeric helpers the detector times phases with, against numpy's own answers."""

import numpy as np
import pytest
from heelraise.chain.axis import _principal_axis
from heelraise.chain.detection import _peak_of_run, trailing_min
from heelraise.chain.phases import first_true, fit_span, onset_time, phase_span, stop_time
from heelraise.sim import profiles


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


def _phase(curve, t0=0.5, duration_s=2.0, fs_hz=100.0, tail_s=1.0):
    """Time and speed of one movement of ``curve`` (a 0 -> 1 profile) from t0, at rest
    either side."""
    n = int(round(duration_s * 1000))
    progress = np.concatenate(([0.0], curve(n)))
    speed_1k = np.diff(progress) * 1000 * 30.0  # a 30 degree movement, deg/s
    t_1k = t0 + (np.arange(n) + 0.5) / 1000
    t = np.arange(0.0, t0 + duration_s + tail_s, 1 / fs_hz)
    return t, np.interp(t, t_1k, speed_1k, left=0.0, right=0.0)


PROFILES = {
    "min_jerk": profiles.min_jerk,
    "cosine": profiles.cosine,
    "trapezoid": lambda n: profiles.trapezoid(n, 0.6),
    "linear_onset": lambda n: profiles.linear_onset(n, 0.45),
    "cubic_creep": lambda n: profiles.beta_profile(n, 4.0, 4.0),
}


#: s, for a 2 s phase. The old rule (2 t(1/16) - t(1/4), exact only for a speed growing as
#: t^2) was 0.08 s early at each end of a trapezoid or a cosine and 0.12 s late on the creep.
#: A bell its far side bends (minimum jerk; the creep, t^3 at rest but beta(4, 4) overall)
#: reads up to 4.5% of its duration short at each end: the fit sees a lower exponent.
TOLERANCE_S = {"cubic_creep": 0.1}


@pytest.mark.parametrize("name", list(PROFILES))
def test_onset_and_stop_whatever_the_speed_profile(name):
    t, v = _phase(PROFILES[name])
    i_peak = int(np.argmax(v))
    tol = TOLERANCE_S.get(name, 0.035)
    assert abs(onset_time(t, v, i_peak) - 0.5) < tol, name
    assert abs(stop_time(t, v, i_peak) - 2.5) < tol, name


def test_long_bells_bent_by_their_far_side_are_timed_allowing_for_it():
    """3 s classic-family bells (incomplete beta, exponents 2.4 to 3.6 each side): each end
    alone reads up to 0.12 s inside the movement (its far side lowers the exponent seen
    between L and 4L; median 0.038 s over the grid); given the other end's instant,
    phase_span allows for the bend (median 0.020 s, worst 0.093 s: exponent and bend trade
    off a little)."""
    alone, span = [], []
    for a in (2.4, 3.0, 3.6):
        for b in (2.4, 3.0, 3.6):
            t, v = _phase(lambda n, a=a, b=b: profiles.beta_profile(n, a, b), duration_s=3.0)
            i_peak = int(np.argmax(v))
            alone += [onset_time(t, v, i_peak) - 0.5, stop_time(t, v, i_peak) - 3.5]
            t0, t1 = phase_span(t, v, i_peak)
            span += [t0 - 0.5, t1 - 3.5]
    alone, span = np.abs(alone), np.abs(span)
    assert np.median(span) < 0.025 < 0.035 < np.median(alone)
    assert span.max() < 0.1


@pytest.mark.parametrize("name", list(PROFILES))
def test_phase_span_keeps_every_profile_within_its_tolerance(name):
    t, v = _phase(PROFILES[name])
    t0, t1 = phase_span(t, v, int(np.argmax(v)))
    tol = TOLERANCE_S.get(name, 0.035)
    assert abs(t0 - 0.5) < tol and abs(t1 - 2.5) < tol, name


def test_the_minimum_jerk_angle_fit_says_how_well_its_shape_fits():
    """fit_span's residual tells a bell (the refit's home) from a steady middle (which it
    reads 30% long): the detector's fit_shape_rms lies between them."""
    from heelraise.chain.detection import DETECTION

    def fit(curve):
        n = 2000
        t = 0.5 + np.arange(n) / 1000
        return fit_span(t, 30.0 * curve(n), 0.0, 30.0)

    bell = fit(profiles.min_jerk)
    steady = fit(lambda n: profiles.trapezoid(n, 0.6))
    assert abs(bell[0] - 0.5) < 0.01 and abs(bell[1] - 2.5) < 0.01
    assert bell[2] < DETECTION.fit_shape_rms < steady[2]


def test_a_rippled_slow_phase_is_timed_through_the_ripple():
    """7 deg/s RMS of 5 to 25 Hz balance ripple on a slow cosine (peak 24 deg/s)."""
    t, v = _phase(profiles.cosine)
    rng = np.random.default_rng(7)
    ripple = np.zeros_like(t)
    for f in rng.uniform(5.0, 25.0, 12):
        ripple += np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
    v = v + ripple * 7.0 / ripple.std()
    i_peak = int(np.argmax(v))
    assert abs(onset_time(t, v, i_peak) - 0.5) < 0.08
    assert abs(stop_time(t, v, i_peak) - 2.5) < 0.08


def test_a_sag_flowing_into_the_lowering_ends_at_the_valley():
    """A slow sag (cosine, 6 deg/s) comes to rest at 1.5 s and the lowering starts from
    there at once: the speed never falls to the fit's levels between them."""
    t = np.arange(0.0, 4.0, 0.01)
    sag = np.where((t >= 0.5) & (t < 1.5), 6.0 * np.sin(np.pi * (t - 0.5)), 0.0)
    tau = np.clip((t - 1.5) / 1.5, 0.0, 1.0)
    low = 60.0 * np.sin(np.pi * tau)
    v = sag + low
    i_peak = int(np.argmax(v))
    assert abs(onset_time(t, v, i_peak) - 1.5) < 0.03


def test_a_stop_still_under_way_when_the_data_ends_lies_past_it():
    """A stop is decided as the speed dies away; what is left of the deceleration is
    extrapolated past the last sample (a straight line: a few samples cannot tell the
    exponent; the smoothing box is one-sided there, hence 0.05 s)."""
    t, v = _phase(profiles.cosine, tail_s=0.0)
    keep = t <= 2.42
    i_peak = int(np.argmax(v))
    got = stop_time(t[keep], v[keep], i_peak)
    assert got > t[keep][-1] and abs(got - 2.5) < 0.05


def test_the_ends_of_what_was_seen_bound_a_speed_that_never_falls():
    t = np.arange(20) / 100.0
    flat = np.ones(20)
    assert onset_time(t, flat, 10) == t[0]
    assert stop_time(t, flat, 10) == t[19]


def test_peak_of_run_follows_the_movement_not_a_bigger_blip_beside_it():
    rate = np.zeros(100)
    rate[40:60] = np.hanning(20) * 20.0  # the rise proper
    pitch = np.cumsum(rate) * 0.01
    rate[5:8] = [0.0, 50.0, 0.0]  # a tap before it: fast, but the tilt does not change
    (i, _), alt = _peak_of_run(rate, pitch, 0, 99, rising=True)
    assert 40 <= i < 60 and rate[i] == rate[40:60].max()
    assert alt is None  # no ripple: the run carries the whole movement
    # The same seen as a lowering (time reversed): the speed is the negated rate.
    down_rate = -rate[::-1]
    (j, _), _ = _peak_of_run(-down_rate, pitch[::-1], 0, 99, rising=False)
    assert 40 <= j < 60 and -down_rate[j] == rate[40:60].max()


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
