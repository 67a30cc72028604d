"""A still block's bias is what the gyro read beyond the turn the accelerometer saw.

The slow ends of a 3 s lowering turn at 1-2 deg/s with a spread under the still limit: the
accelerometer's direction (gravity) moves with them, while a gyro bias moves nothing.
"""

from __future__ import annotations

import numpy as np
from heelraise.chain.calibration import STILL, StillCalibrator

BLOCK = 100  # rows (1 s at 100 Hz)
DT_S = 0.01


def block(rate_dps: float, bias_dps: float, seed: int = 5):
    """One block turning about the y axis at ``rate_dps`` (the accelerometer sees it), the
    gyro reading that plus ``bias_dps`` on y, with sensor noise."""
    rng = np.random.default_rng(seed)
    k = np.arange(BLOCK)
    angle = np.radians(rate_dps * k * DT_S)
    # Gravity fixed in the world turns the other way in the sensor: da/dt = -w x a.
    acc = np.column_stack([-np.sin(angle), np.zeros(BLOCK), np.cos(angle)])
    acc += rng.normal(0.0, 0.004, acc.shape)
    gyr = np.zeros((BLOCK, 3))
    gyr[:, 1] = rate_dps + bias_dps
    gyr += rng.normal(0.0, 0.1, gyr.shape)
    return k, acc, gyr


def updates(rate_dps: float, bias_dps: float):
    cal = StillCalibrator(BLOCK, 2.0, 0.02, BLOCK * DT_S)
    return cal.update(*block(rate_dps, bias_dps))


def test_a_gyro_offset_with_gravity_fixed_is_taken_as_bias():
    (u,) = updates(0.0, 1.2)
    assert abs(u.bias_dps[1] - 1.2) < 0.05


def test_a_slow_turn_is_not_taken_as_bias():
    # Real rotation the spread test (gyro and accelerometer) passes as still: the block is
    # still taken, its turn is not bias.
    for rate_dps, bias_dps in ((1.2, 0.0), (-1.5, 0.0), (1.5, -0.8)):
        (u,) = updates(rate_dps, bias_dps)
        assert abs(u.bias_dps[1] - bias_dps) < 0.1, (rate_dps, bias_dps, u.bias_dps)
        assert abs(u.bias_dps[0]) < 0.1 and abs(u.bias_dps[2]) < 0.1


def test_standing_sway_is_left_in_the_mean():
    # Below StillSettings.seen_turn_dps the block's gyro mean is the bias, as before the
    # correction.
    assert 0.3 < STILL.seen_turn_dps
    (u,) = updates(0.3, 0.5)
    assert abs(u.bias_dps[1] - 0.8) < 0.05
