"""An MPU-6050-like sensor: what turns true motion into a recording.

Per axis bias, scale error and cross-axis coupling; white noise at the
datasheet densities over the digital low-pass bandwidth; gyro bias drift (random
walk plus a slow thermal swing); quantisation to int16 counts at the configured
range and clipping at full scale; a logger's timestamp jitter and dropped samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heelraise.sim.filters import lowpass
from heelraise.sim.kinematics import Motion


@dataclass(frozen=True)
class SensorModel:
    rate_hz: float = 100.0
    acc_range_g: float = 4.0
    gyr_range_dps: float = 1000.0
    acc_bias_g: float = 0.03  # 1-sigma per axis (datasheet: +-50 mg zero-g offset)
    gyr_bias_dps: float = 3.0  # 1-sigma per axis (datasheet: +-20 deg/s zero-rate output)
    scale_error: float = 0.02  # 1-sigma
    cross_axis: float = 0.01  # 1-sigma
    acc_noise_g_rthz: float = 400e-6  # datasheet noise density
    gyr_noise_dps_rthz: float = 0.005
    gyr_drift_dps_rts: float = 0.02  # bias random walk
    jitter_s: float = 0.0002  # logger timestamp jitter, 1-sigma
    drop_fraction: float = 0.003  # single samples lost
    drop_bursts_per_min: float = 0.5  # bursts of 20-150 ms of lost samples
    ideal: bool = False  # no errors at all (for tests of the maths)

    def record(self, motion: Motion, rng: np.random.Generator, errors: dict | None = None):
        """Sample ``motion`` like the sensor would: returns (t_s, acc_g, gyr_dps). A dict
        ``errors`` gets this sensor's drawn gains and zero offsets (``acc_matrix``,
        ``acc_bias_g``, ``gyr_matrix``, ``gyr_bias_dps``: reading = matrix @ true + offset),
        for a bench to take the chain's self-calibration apart; the draws are the same."""
        if errors is not None:
            errors.update(
                acc_matrix=np.eye(3),
                acc_bias_g=np.zeros(3),
                gyr_matrix=np.eye(3),
                gyr_bias_dps=np.zeros(3),
            )
        fine_hz = 1.0 / (motion.t_s[1] - motion.t_s[0])
        n = int(np.floor(motion.duration_s * self.rate_hz))
        t_nominal = np.arange(n) / self.rate_hz
        acc_true, gyr_true = motion.acc_g, motion.gyr_dps
        if self.ideal:
            acc, gyr = motion.sample(t_nominal)
            return t_nominal, acc, gyr
        # Digital low-pass of the chip (about 0.4 x rate, at most 184 Hz), causal.
        cutoff = min(0.4 * self.rate_hz, 184.0, 0.45 * fine_hz)
        acc_f = lowpass(acc_true - acc_true[0], cutoff, fine_hz) + acc_true[0]
        gyr_f = lowpass(gyr_true - gyr_true[0], cutoff, fine_hz) + gyr_true[0]
        filtered = Motion(motion.t_s, acc_f, gyr_f, motion.pitch_deg, motion.roll_deg)
        acc, gyr = filtered.sample(t_nominal)

        def gain_matrix():
            m = np.eye(3) + rng.normal(0, self.cross_axis, (3, 3))
            m[np.diag_indices(3)] = 1 + rng.normal(0, self.scale_error, 3)
            return m

        acc_matrix = gain_matrix()
        acc_bias_g = rng.normal(0, self.acc_bias_g, 3)
        acc = acc @ acc_matrix.T + acc_bias_g
        walk = np.cumsum(rng.normal(0, self.gyr_drift_dps_rts / np.sqrt(self.rate_hz), (n, 3)), 0)
        thermal = 0.4 * np.sin(
            2 * np.pi * t_nominal[:, None] / rng.uniform(300, 900) + rng.uniform(0, 2 * np.pi, 3)
        )
        gyr_matrix = gain_matrix()
        gyr_bias_dps = rng.normal(0, self.gyr_bias_dps, 3)
        gyr = gyr @ gyr_matrix.T + gyr_bias_dps + walk + thermal
        if errors is not None:
            errors.update(
                acc_matrix=acc_matrix,
                acc_bias_g=acc_bias_g,
                gyr_matrix=gyr_matrix,
                gyr_bias_dps=gyr_bias_dps,
            )
        bw = cutoff
        acc = acc + rng.normal(0, self.acc_noise_g_rthz * np.sqrt(bw), acc.shape)
        gyr = gyr + rng.normal(0, self.gyr_noise_dps_rthz * np.sqrt(bw), gyr.shape)
        # int16 counts at the configured full scale.
        acc_lsb = self.acc_range_g / 32768.0
        gyr_lsb = self.gyr_range_dps / 32768.0
        acc = np.clip(np.round(acc / acc_lsb), -32768, 32767) * acc_lsb
        gyr = np.clip(np.round(gyr / gyr_lsb), -32768, 32767) * gyr_lsb
        # The logger: jittered timestamps, lost samples.
        t = t_nominal + rng.normal(0, self.jitter_s, n)
        t = np.maximum.accumulate(t)
        keep = rng.random(n) >= self.drop_fraction
        for _ in range(rng.poisson(self.drop_bursts_per_min * motion.duration_s / 60)):
            i = rng.integers(0, n)
            keep[i : i + max(1, int(self.rate_hz * rng.uniform(0.02, 0.15)))] = False
        keep[0] = True
        return t[keep], acc[keep], gyr[keep]
