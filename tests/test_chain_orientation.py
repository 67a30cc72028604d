"""The tilt fusion's shortcut for blend-only reads gives the general recursion's tilt."""

import numpy as np
from heelraise.chain.orientation import FLAG_BLEND, TiltFusion


def _standing_then_rep(n: int, dt_s: float):
    """Still, then a slow pitch up and back (blend-only rows), then a fast turn (gyro-only)."""
    rng = np.random.default_rng(3)
    t = np.arange(n) * dt_s
    pitch_deg = 12.0 * np.sin(np.pi * np.clip((t - 1.0) / 2.0, 0, 1)) ** 2
    rate_dps = np.gradient(pitch_deg, dt_s)
    rate_dps[int(0.8 * n) : int(0.8 * n) + 20] += 150.0  # fast turn: gyro only
    th = np.radians(pitch_deg)
    acc_g = np.column_stack((np.sin(th), np.zeros(n), np.cos(th)))
    acc_g += rng.normal(0, 0.002, acc_g.shape)
    gyr_dps = np.column_stack((np.zeros(n), rate_dps, np.zeros(n)))
    gyr_dps += rng.normal(0, 0.05, gyr_dps.shape)
    return acc_g, gyr_dps


def test_blend_only_shortcut_matches_the_general_recursion():
    dt_s = 0.01
    acc_g, gyr_dps = _standing_then_rep(1200, dt_s)
    whole = TiltFusion(np.array([0.0, 0.0, 1.0]), dt_s, 0.5)
    r_whole, _ = whole.update(acc_g, gyr_dps)  # 1200 rows > PIECE: the general path
    reads = TiltFusion(np.array([0.0, 0.0, 1.0]), dt_s, 0.5)
    parts, flags, shortcuts = [], [], 0
    for i in range(0, len(acc_g), 2):  # 20 ms reads at 1 kHz: two 100 Hz grid rows
        before = reads._solve
        called = []
        reads._solve = lambda *a, _f=before, _c=called: (_c.append(1), _f(*a))[1]
        r, _ = reads.update(acc_g[i : i + 2], gyr_dps[i : i + 2])
        reads._solve = before
        shortcuts += not called
        parts.append(r)
        flags.append(reads.flags)
    assert shortcuts > 400  # most reads took the shortcut ...
    assert shortcuts < 600  # ... and some (the first, the fast turn) did not
    np.testing.assert_allclose(np.concatenate(parts), r_whole, rtol=0, atol=1e-9)
    assert np.array_equal(np.concatenate(flags), whole.flags)
    assert (whole.flags != FLAG_BLEND).any()
