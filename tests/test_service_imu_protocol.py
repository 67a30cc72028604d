"""Every IMU source the service can be given is a complete ``Imu``: no duck-typing needed."""

from __future__ import annotations

import numpy as np
import pytest
from heelraise.clock import ManualClock
from heelraise.imu.base import Imu
from heelraise.imu.factory import open_imu
from heelraise.recording import write_recording
from heelraise.service.testing import ArrayImu


def sources(tmp_path):
    clock = ManualClock(0.0)
    t = np.arange(10) / 100.0
    acc = np.tile([0.0, 0.0, 1.0], (10, 1))
    path = tmp_path / "r.csv"
    write_recording(path, t, acc, np.zeros((10, 3)))
    return {
        "array": ArrayImu(t, acc, np.zeros((10, 3)), clock=clock),
        "sim": open_imu("sim", fs_hz=100, clock=clock, sleep=clock.sleep),
        "emulated": open_imu("emulated", fs_hz=100, clock=clock, sleep=clock.sleep),
        "replay": open_imu(f"replay:{path}", clock=clock),
    }


@pytest.mark.parametrize("kind", ["array", "sim", "emulated", "replay"])
def test_every_source_has_the_whole_imu_interface(kind, tmp_path):
    imu = sources(tmp_path)[kind]
    assert isinstance(imu, Imu)
    assert imu.healthy is True and imu.health_reason is None and imu.finished is False
