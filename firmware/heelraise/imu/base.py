"""The driver interface every IMU source implements (real chips, emulators, replay, sim).

A source hands out :class:`SampleBlock` s: timestamped accelerometer (g) and
gyroscope (deg/s) samples in the sensor's own axes. A hole in the stream (FIFO
overflow, I2C fault, sensor unplugged) is never stitched over silently: the
first block after it carries ``gap``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class Gap:
    """Samples are missing between ``start_s`` and ``end_s`` (sensor clock)."""

    start_s: float
    end_s: float
    reason: str  # "fifo_overflow", "i2c_error", "reconnect", "missing_samples", ...


@dataclass
class SampleBlock:
    t_s: np.ndarray  # (N,) seconds, non-decreasing, on the monotonic-aligned sensor clock
    acc_g: np.ndarray  # (N, 3)
    gyr_dps: np.ndarray  # (N, 3)
    gap: Gap | None = None  # a hole precedes these samples

    def __len__(self) -> int:
        return len(self.t_s)

    @classmethod
    def empty(cls, gap: Gap | None = None) -> SampleBlock:
        return cls(np.empty(0), np.empty((0, 3)), np.empty((0, 3)), gap)


@runtime_checkable
class Imu(Protocol):
    """What the service needs of a sensor."""

    name: str  # e.g. "MPU-6050 @0x68 on /dev/i2c-1"
    fs_hz: float  # configured output data rate

    @property
    def healthy(self) -> bool:
        """False while reads keep failing or the sensor is stuck (the service says so)."""

    @property
    def health_reason(self) -> str | None:
        """Why ``healthy`` is False (``stuck``, ``zeros``, ``read_failures``); None if healthy."""

    @property
    def finished(self) -> bool:
        """No sample will ever come again (a replay or simulation played to its end); a
        live sensor is never finished."""

    def open(self) -> None:
        """Find, reset and configure the sensor; start sampling."""

    def read(self) -> SampleBlock:
        """Every sample that arrived since the last read (possibly none). Never blocks long."""

    def close(self) -> None:
        """Stop sampling and release the bus."""
