"""The gain fit's Jacobian from one batched pass over the eleven parameter vectors (p, and p
with each parameter moved in turn) gives the fit of one residual call per vector, bit for
bit, on the pose sets simulated sessions hand it."""

import numpy as np
import pytest
from heelraise.chain import calibration
from heelraise.chain.analyzer import Analyzer
from heelraise.chain.calibration import _corrected, correction_of, fit_gains, prior_sd
from heelraise.settings import AnalyzerSettings
from heelraise.sim import SessionSpec, simulate_session
from heelraise.sim.scoring import analysis_tempo, family_spec


def fit_one_vector_at_a_time(up, basis, acc_g, pairs, turn_deg, g_ref=1.0, settings=None):
    """fit_gains as it was written before: a residual call per parameter vector (kept here
    as the reference)."""
    s = settings
    sd = prior_sd(s)
    frame = np.column_stack([basis, up])
    i, j = pairs[:, 0], pairs[:, 1]
    turn = np.linalg.norm(turn_deg, axis=1)
    along = turn_deg / turn[:, None]

    def tilt(c):
        p = (c / np.linalg.norm(c, axis=1, keepdims=True)) @ frame
        sin = np.hypot(p[:, 0], p[:, 1])
        ang = np.degrees(np.arctan2(sin, p[:, 2])) / np.maximum(sin, 1e-12)
        return np.column_stack([p[:, 1] * ang, -p[:, 0] * ang])

    def residuals(p):
        c = _corrected(p, acc_g)
        norm = (np.linalg.norm(c, axis=1) - 1.0) / s.pose_norm_g
        r = tilt(c)
        acc_turn = np.einsum("ij,ij->i", r[j] - r[i], along)
        ang = (acc_turn - turn / (1.0 + p[9])) / s.pair_deg
        return np.concatenate([norm, ang])

    p = np.zeros(10)
    p[3:6] = float(np.mean(np.linalg.norm(acc_g, axis=1))) - 1.0
    eps = 1e-6
    for _ in range(s.iterations):
        r0 = residuals(p)
        jac = np.empty((len(r0), 10))
        for k in range(10):
            dp = p.copy()
            dp[k] += eps
            jac[:, k] = (residuals(dp) - r0) / eps
        a = np.abs(r0)
        w = np.where(a <= s.huber_sigma, 1.0, s.huber_sigma / np.maximum(a, 1e-12))
        h = jac.T @ (w[:, None] * jac) + np.diag(1.0 / sd**2)
        g = jac.T @ (w * r0) + p / sd**2
        p = p - np.linalg.solve(h, g)
    r = residuals(p)
    if not np.all(np.isfinite(r)) or np.sqrt(np.mean(np.minimum(r * r, 25.0))) > s.refuse_rms:
        return None
    return correction_of(p, up, g_ref)


def recorded_fits(spec):
    """Every fit_gains call the analyzer makes on a simulated session: its arguments."""
    sim = simulate_session(spec)
    calls = []

    def spy(*args, **kwargs):
        calls.append((args, kwargs))
        return fit_gains(*args, **kwargs)

    mp = pytest.MonkeyPatch()
    mp.setattr(calibration, "fit_gains", spy)
    try:
        a = Analyzer(AnalyzerSettings(tempo=analysis_tempo(spec)))
        a.update(sim.t_s, sim.acc_g, sim.gyr_dps)
        a.finish()
    finally:
        mp.undo()
    return calls


def as_bytes(c):
    if c is None:
        return None
    return [np.asarray(x).tobytes() for x in (c.acc_matrix, c.acc_offset_g, c.gyr_gain, c.params)]


@pytest.mark.parametrize(
    "spec",
    [
        SessionSpec(sets=3, reps=10, rate_hz=100.0, seed=61),
        family_spec("deep_drop", 60007),
        family_spec("brisk", 60013),
    ],
    ids=["classic-100hz", "deep_drop", "brisk"],
)
def test_batched_jacobian_fits_as_one_vector_at_a_time(spec):
    calls = recorded_fits(spec)
    assert len(calls) >= 3  # the session's poses were fitted, again as they doubled
    for args, kwargs in calls:
        settings = kwargs.get("settings", args[6] if len(args) > 6 else calibration.SELFCAL)
        want = fit_one_vector_at_a_time(*args[:6], settings=settings)
        assert as_bytes(fit_gains(*args, **kwargs)) == as_bytes(want)
