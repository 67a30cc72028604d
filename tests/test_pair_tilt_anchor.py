"""The tilt anchored at still poses (issue 15: deep-drop heel heights, two shoes' LSI).

On a step, balance on the toes ripples the foot at 5-25 Hz (4-8 deg/s RMS); its lever-arm
acceleration keeps the complementary filter on the gyro alone through whole top holds and
bottom pauses, for a whole set with no still second in it. A gyro bias the still blocks last
saw 0.15 deg/s off (a thermal swing of 0.4 deg/s over minutes does that) then drifted the
tilt by degrees over a set, and every rep's height with it (deep_drop dev seed 1019: +2.6 deg
by the ninth rep, heel LSI -20 pp). A still pose's mean accelerometer (the ripple's lever-arm
acceleration averages out over it) anchors the tilt again.
"""

from __future__ import annotations

import numpy as np
import pytest
from heelraise.chain.orientation import FLAG_BLEND, TiltFusion
from heelraise.physics import G_MPS2
from heelraise.sim.scoring import run_family_session

DT_S = 0.01
LEVER_M = np.array([0.0, -0.12, 0.05])  # sensor from the ball of the foot, sensor axes
BIAS_LEFT_DPS = 0.3  # on the pitch axis: what the still blocks did not see


def pitch_profile(rng, sets_s: float = 40.0) -> tuple[np.ndarray, np.ndarray]:
    """Pitch (deg) on the grid: 2 s flat, then reps from bottoms 6-10 deg below neutral to tops
    9-14 deg above, each held 0.6-1.2 s, with 5-8 Hz balance ripple throughout the set; and
    the rows of the holds in the set."""
    parts = [np.zeros(int(2.0 / DT_S))]
    holds = [np.zeros(len(parts[0]), dtype=bool)]
    last = 0.0
    while sum(len(p) for p in parts) * DT_S < sets_s:
        for target, move_s, hold_s in (
            (rng.uniform(9, 14), rng.uniform(0.5, 0.9), rng.uniform(0.6, 1.2)),
            (-rng.uniform(6, 10), rng.uniform(0.8, 1.5), rng.uniform(0.6, 1.2)),
        ):
            n = int(move_s / DT_S)
            s = np.linspace(0.0, 1.0, n, endpoint=False)
            parts.append(last + (target - last) * (10 * s**3 - 15 * s**4 + 6 * s**5))
            parts.append(np.full(int(hold_s / DT_S), target))
            holds += [np.zeros(n, dtype=bool), np.ones(len(parts[-1]), dtype=bool)]
            last = target
    pitch = np.concatenate(parts)
    t = np.arange(len(pitch)) * DT_S
    ripple = np.zeros_like(t)
    for f in rng.uniform(5.0, 8.0, 3):  # about 8 deg/s RMS of rate in all
        ripple += 6.5 / (2 * np.pi * f) * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
    ripple[: int(2.0 / DT_S)] = 0.0
    return pitch + ripple, np.concatenate(holds)


def sensor_rows(pitch_deg: np.ndarray):
    """A foot turning about the sensor's x axis on the ball of the foot: accelerometer (g:
    gravity's reaction plus the lever arm's tangential and centripetal acceleration) and the
    gyro (deg/s, the residual bias on x)."""
    th = np.radians(pitch_deg)
    w = np.gradient(th, DT_S)
    alpha = np.gradient(w, DT_S)
    g = np.column_stack([np.zeros_like(th), np.sin(th), np.cos(th)])  # up in sensor axes
    wv = np.column_stack([w, 0 * w, 0 * w])
    av = np.column_stack([alpha, 0 * w, 0 * w])
    lever = np.cross(av, LEVER_M) + np.cross(wv, np.cross(wv, LEVER_M))
    acc = g + lever / G_MPS2
    gyr = np.degrees(wv)
    gyr[:, 0] += BIAS_LEFT_DPS
    return acc, gyr


def fused_pitch(acc, gyr, step: int) -> tuple[np.ndarray, np.ndarray]:
    f = TiltFusion(acc[0], DT_S, 0.5, float(np.linalg.norm(acc[0])))
    out, flags = [], []
    for a in range(0, len(acc), step):
        out.append(f.update(acc[a : a + step], gyr[a : a + step])[0])
        flags.append(f.flags)
    r = np.concatenate(out)
    axis = f.basis.T @ np.array([1.0, 0.0, 0.0])  # the pitch axis on the tilt's basis
    return r @ axis, np.concatenate(flags)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_holds_of_a_set_under_ripple_keep_their_tilt(seed):
    pitch, holds = pitch_profile(np.random.default_rng(seed))
    acc, gyr = sensor_rows(pitch)
    got, flags = fused_pitch(acc, gyr, len(acc))
    sign = np.sign(np.corrcoef(got, pitch)[0, 1])  # the basis may point either way
    err = sign * got - pitch
    in_set = slice(int(2.0 / DT_S), None)
    # The premise: the filter is on the gyro alone for most of the set ...
    assert np.mean(flags[in_set] != FLAG_BLEND) > 0.7
    # ... where the bias drifted the tilt at the holds by 0.56-0.60 deg (median, the chain
    # before the anchors; 0.14-0.16 with them), 5-6 % of a deep drop's 10 deg raise.
    assert abs(np.median(err[holds])) < 0.2, np.median(err[holds])


def test_the_anchors_land_on_the_same_rows_in_any_chunking():
    pitch, _ = pitch_profile(np.random.default_rng(4), sets_s=20.0)
    acc, gyr = sensor_rows(pitch)
    whole, _ = fused_pitch(acc, gyr, len(acc))
    for step in (1, 7, 33):
        part, _ = fused_pitch(acc, gyr, step)
        np.testing.assert_allclose(part, whole, rtol=0, atol=1e-9)


def test_no_anchor_before_the_gains_are_fitted():
    # Brisk dev seed 2041, floor: before the self-calibration's first fit, the accelerometer's
    # own offset bent its 45 deg tops by 2-3 deg; anchored to them, the lowerings (on the
    # gyro) ended 3.4 deg below flat: two false rocked_back faults.
    spec, sim, reps = run_family_session("brisk", 2041)
    assert spec.surface == "floor" and len(reps) == sim.truth["rep_count"]
    assert not [r.index for r in reps if "rocked_back" in r.faults]
