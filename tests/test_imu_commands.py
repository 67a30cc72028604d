"""probe and record through heelraise.cli.main, plus the factory, SimImu and ReplayImu."""

from __future__ import annotations

import re

import numpy as np
import pytest
from heelraise.cli import main
from heelraise.clock import ManualClock
from heelraise.exceptions import RecordingError, SensorError, SettingsError
from heelraise.imu.base import Imu
from heelraise.imu.emulator_base import StillMotion
from heelraise.imu.factory import open_imu
from heelraise.imu.replay import ReplayImu
from heelraise.imu.sim import SimImu
from heelraise.imu.testing import WobbleMotion, joined
from heelraise.recording import read_recording, write_recording


def test_probe_emulate_names_and_checks_both_chips(capsys):
    assert main(["probe", "--emulate"]) == 0
    out = capsys.readouterr().out
    assert "0x68: MPU-6050" in out and "0x6a: LSM6DSOX" in out
    assert "FAIL" not in out
    assert "gravity along +Z" in out and "gravity along -Y" in out
    bias = re.search(r"0x68.*?gyro bias (\S+) (\S+) (\S+) deg/s", out, re.S).groups()
    np.testing.assert_allclose([float(b) for b in bias], [0.8, -1.3, 0.4], atol=0.03)
    assert "rate 100.0 Hz of 100 Hz" in out and "of 104 Hz" in out


def test_probe_fails_a_chip_that_does_not_see_gravity(capsys, monkeypatch):
    import heelraise.commands.probe as probe

    real = probe._emulated_bus

    def weightless():
        bus, clock, sleep, label = real()
        bus.chips[0x68].motion = StillMotion((0.0, 0.0, 0.2))
        return bus, clock, sleep, label

    monkeypatch.setattr(probe, "_emulated_bus", weightless)
    assert main(["probe", "--emulate"]) == 1
    assert "FAIL  gravity 0.2" in capsys.readouterr().out


def test_probe_on_a_missing_bus_says_what_to_do(capsys):
    assert main(["probe", "--bus", "97"]) == 2
    assert "/dev/i2c-97 does not exist" in capsys.readouterr().err


def test_record_sim_writes_a_readable_recording(tmp_path, capsys):
    out = tmp_path / "rec.csv"
    assert main(["record", str(out), "--imu", "emulated", "--seconds", "3", "--fast"]) == 0
    rec = read_recording(out)
    assert 295 <= len(rec) <= 300
    assert rec.meta["sample_rate_hz"] == 100 and rec.meta["imu"] == "emulated"
    np.testing.assert_allclose(rec.acc_g, np.tile([0, 0, 1.0], (len(rec), 1)))
    err = capsys.readouterr().err
    assert "samples" in err and "overflows 0" in err and "Hz" in err


def test_record_keeps_rows_written_before_ctrl_c(tmp_path, monkeypatch, capsys):
    import heelraise.imu.mpu6050 as mpu

    reads = {"n": 0}
    real_read = mpu.Mpu6050.read

    def read_then_interrupt(self):
        reads["n"] += 1
        if reads["n"] == 60:
            raise KeyboardInterrupt
        return real_read(self)

    monkeypatch.setattr(mpu.Mpu6050, "read", read_then_interrupt)
    out = tmp_path / "cut.csv"
    assert main(["record", str(out), "--imu", "emulated", "--seconds", "30", "--fast"]) == 0
    rec = read_recording(out)
    assert 100 <= len(rec) <= 120  # ~59 reads of 20 ms
    assert "Ctrl-C" in capsys.readouterr().out


def test_record_rejects_fast_on_hardware(tmp_path, capsys):
    assert main(["record", str(tmp_path / "x.csv"), "--fast", "--seconds", "1"]) == 2
    assert "--fast" in capsys.readouterr().err


def test_factory_kinds_and_errors(tmp_path):
    clock = ManualClock()
    imu = open_imu("emulated", clock=clock, sleep=clock.sleep, fs_hz=200)
    assert isinstance(imu, Imu)
    imu.open()
    clock.advance(0.25)
    assert len(imu.read()) == 50
    with pytest.raises(SettingsError, match="unknown IMU kind 'bmi160'"):
        open_imu("bmi160")
    with pytest.raises(SettingsError, match="does not take option.*colour"):
        open_imu("lsm6ds", colour="red")
    with pytest.raises(SettingsError, match="replay:FILE needs a file"):
        open_imu("replay:")
    with pytest.raises(RecordingError, match="no such file"):
        open_imu(f"replay:{tmp_path / 'nope.csv'}").open()
    with pytest.raises(SensorError, match="i2c-99"):
        open_imu("lsm6ds", bus=99).open()


def test_sim_imu_plays_motion_through_emulator_and_driver():
    clock = ManualClock()
    imu = SimImu(WobbleMotion(), fs_hz=100, clock=clock, sleep=clock.sleep, acc_noise_g=0)
    imu.open()
    blocks = []
    for _ in range(100):
        clock.advance(0.02)
        blocks.append(imu.read())
    got = joined(blocks)
    assert 195 <= len(got) <= 201 and imu.driver.stats.reads == 100
    true_acc, _ = WobbleMotion().sample(got.t_s - imu._t0)
    assert np.abs(got.acc_g - true_acc).max() < 0.02  # quantised, stamped within a period
    imu.emulator.unplug()
    for _ in range(100):  # reconnect attempts back off: 5 failures take ~1.5 s
        clock.advance(0.02)
        imu.read()
    assert not imu.healthy


def test_sim_imu_default_session_and_speed():
    clock = ManualClock()
    imu = SimImu(clock=clock, sleep=clock.sleep, speed=10.0, session_options={"sets": 1, "reps": 2})
    imu.open()
    assert imu.session is not None and imu.session.truth["rep_count"] == 2
    n = 0
    for _ in range(100):
        clock.advance(0.005)  # 50 ms of motion
        n += len(imu.read())
    assert 490 <= n <= 501  # 5 s of motion at 100 Hz
    assert not imu.finished
    clock.advance(imu.motion.duration_s / 10)
    assert imu.finished


def test_replay_plays_in_time_reports_holes_and_finishes(tmp_path):
    t = np.arange(0, 10, 0.01)
    keep = (t < 4.0) | (t >= 4.5)  # a 0.5 s hole
    t = t[keep]
    acc = np.column_stack([t, -t, np.ones_like(t)])
    path = tmp_path / "r.csv"
    write_recording(path, t, acc, np.zeros_like(acc), meta={"sample_rate_hz": 100})
    clock = ManualClock()
    imu = ReplayImu(path, clock=clock, speed=2.0)
    imu.open()
    assert imu.fs_hz == pytest.approx(100)
    clock.advance(1.0)
    first = imu.read()
    assert len(first) == 201 and first.t_s[-1] == pytest.approx(2.0)
    blocks = [first]
    while not imu.finished:
        clock.advance(0.13)
        blocks.append(imu.read())
    got = joined(blocks)
    np.testing.assert_allclose(got.t_s, t, atol=1e-6)
    gaps = [b.gap for b in blocks if b.gap]
    assert len(gaps) == 1 and gaps[0].reason == "missing_samples"
    assert gaps[0].start_s == pytest.approx(3.99) and gaps[0].end_s == pytest.approx(4.5)
