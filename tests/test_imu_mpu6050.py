"""MPU-6050 driver through the register-level emulator: every sample once, gaps honest."""

from __future__ import annotations

import numpy as np
import pytest
from heelraise.clock import ManualClock
from heelraise.exceptions import SensorError, SettingsError
from heelraise.imu import mpu6050_regs as R
from heelraise.imu.emulator_mpu6050 import Mpu6050Emulator
from heelraise.imu.mpu6050 import Mpu6050
from heelraise.imu.testing import WobbleMotion, drain, expected, joined, read_for

ACC_LSB = 8192.0  # +-4 g
GYR_LSB = 32.8  # +-1000 deg/s


def make(fs_hz=100.0, seed=0, **emu_kw):
    clock = ManualClock(10.0)
    emu = Mpu6050Emulator(WobbleMotion(), clock=clock, acc_noise_g=0.002, seed=seed, **emu_kw)
    imu = Mpu6050(emu, fs_hz=fs_hz, clock=clock, sleep=clock.sleep)
    imu.open()
    return clock, emu, imu


@pytest.mark.parametrize("fs_hz", [100.0, 400.0, 1000.0])
def test_every_sample_exactly_once_at_uneven_read_intervals(fs_hz):
    clock, emu, imu = make(fs_hz, seed=int(fs_hz))
    rng = np.random.default_rng(int(fs_hz))
    blocks = drain(imu, read_for(imu, clock, 8.0, rng, 0.001, 0.07))
    got = joined(blocks)
    t_true, acc, gyr = expected(emu, ACC_LSB, GYR_LSB)
    assert emu.odr_hz == fs_hz and imu.fs_hz == fs_hz
    assert len(got) == len(t_true) > 7.5 * fs_hz
    np.testing.assert_array_equal(got.acc_g, acc)
    np.testing.assert_array_equal(got.gyr_dps, gyr)
    assert all(b.gap is None for b in blocks)
    assert np.all(np.diff(got.t_s) > 0)
    assert imu.stats.overflows == 0 and imu.healthy
    # many reads, most of them several samples long, some spanning block-read chunks
    assert sum(1 for b in blocks if len(b) * 12 > 32) > 50 or fs_hz == 100.0


def test_block_reads_never_exceed_smbus_limit():
    clock, emu, imu = make(1000.0)
    clock.advance(0.08)  # 80 samples waiting: 960 bytes
    b = imu.read()
    assert len(b) == 80  # the emulator raises ValueError on any block over 32 bytes


def test_backlog_capped_per_read_is_picked_up_next_time():
    clock = ManualClock()
    emu = Mpu6050Emulator(WobbleMotion(), clock=clock)
    imu = Mpu6050(emu, fs_hz=1000, clock=clock, sleep=clock.sleep, max_samples_per_read=7)
    imu.open()
    rng = np.random.default_rng(3)
    blocks = read_for(imu, clock, 0.5, rng, 0.001, 0.015)
    blocks = drain(imu, blocks)
    got = joined(blocks)
    _, acc, _ = expected(emu, ACC_LSB, GYR_LSB)
    assert max(len(b) for b in blocks) == 7
    np.testing.assert_array_equal(got.acc_g, acc)
    assert np.all(np.diff(got.t_s) > 0)


def test_fifo_overflow_is_detected_reset_and_reported_as_a_gap():
    clock, emu, imu = make(1000.0)
    rng = np.random.default_rng(1)
    before = read_for(imu, clock, 1.0, rng, 0.005, 0.02)
    clock.advance(0.2)  # 200 samples arrive; the FIFO holds 85
    t_reset = clock()
    lost = imu.read()
    assert emu.overflows > 0
    assert len(lost) == 0 and imu.stats.overflows == 1
    assert len(emu.fifo) == 0  # the driver reset the FIFO
    after = drain(imu, read_for(imu, clock, 1.0, rng, 0.005, 0.02))
    gaps = [b.gap for b in after if b.gap is not None]
    assert len(gaps) == 1 and gaps[0].reason == "fifo_overflow"
    first_after = next(b for b in after if len(b))
    assert first_after.gap is gaps[0]
    got_before, got_after = joined(before), joined(after)
    assert gaps[0].start_s == got_before.t_s[-1]
    assert gaps[0].end_s == first_after.t_s[0]
    assert 0.19 < gaps[0].end_s - gaps[0].start_s < 0.23
    # nothing stitched: before = the first samples, after = exactly those made after the reset
    t_true, acc, gyr = expected(emu, ACC_LSB, GYR_LSB)
    np.testing.assert_array_equal(got_before.acc_g, acc[: len(got_before)])
    np.testing.assert_array_equal(got_after.acc_g, acc[t_true > t_reset])
    np.testing.assert_array_equal(got_after.gyr_dps, gyr[t_true > t_reset])
    assert got_after.t_s[0] > got_before.t_s[-1]


@pytest.mark.parametrize("errno", [121, 5])
def test_transient_i2c_errors_are_retried_without_loss(errno):
    clock, emu, imu = make(400.0)
    rng = np.random.default_rng(errno)
    blocks = []
    for i in range(200):
        if i % 7 == 3:
            emu.fail_next(1 + i % 3, errno=errno)  # 1..3 failures: within retries=3
        clock.advance(rng.uniform(0.005, 0.03))
        blocks.append(imu.read())
    blocks = drain(imu, blocks)
    got = joined(blocks)
    _, acc, gyr = expected(emu, ACC_LSB, GYR_LSB)
    np.testing.assert_array_equal(got.acc_g, acc)
    np.testing.assert_array_equal(got.gyr_dps, gyr)
    assert all(b.gap is None for b in blocks)
    assert imu.stats.i2c_errors == emu.failed_transfers > 50
    assert imu.stats.failed_reads == 0 and imu.healthy


def test_persistent_i2c_errors_go_unhealthy_then_recover_with_a_gap():
    clock, emu, imu = make(100.0)
    rng = np.random.default_rng(7)
    before = read_for(imu, clock, 1.0, rng)
    emu.fail_next(4 * 7, errno=5)  # 7 reads' worth of transfers, retries included
    during, health = [], []
    while emu._fail_queue:
        clock.advance(0.02)
        during.append(imu.read())
        health.append(imu.healthy)
    assert all(len(b) == 0 for b in during)
    assert health.count(False) > 0 and health[0]  # max_failures=5 before unhealthy
    after = drain(imu, read_for(imu, clock, 5.0, rng))
    assert imu.healthy and imu.stats.reinits >= 1
    gaps = [b.gap for b in after if b.gap is not None]
    assert [g.reason for g in gaps] == ["i2c_error"]
    got_before, got_after = joined(before), joined(after)
    assert gaps[0].start_s == got_before.t_s[-1] and gaps[0].end_s == got_after.t_s[0]
    # every sample delivered is a real one, in order; none invented for the hole
    t_true, acc, _ = expected(emu, ACC_LSB, GYR_LSB)
    np.testing.assert_array_equal(got_before.acc_g, acc[: len(got_before)])
    tail = acc[len(acc) - len(got_after) :]
    np.testing.assert_array_equal(got_after.acc_g, tail)
    assert len(got_before) + len(got_after) < len(acc)


def test_unplug_and_replug_reinitialises_the_chip():
    clock, emu, imu = make(100.0)
    rng = np.random.default_rng(11)
    before = read_for(imu, clock, 1.0, rng)
    emu.unplug()
    unplugged = read_for(imu, clock, 3.0, rng)
    assert all(len(b) == 0 for b in unplugged) and not imu.healthy
    emu.replug()
    t_replug = clock()
    assert emu.regs[R.PWR_MGMT_1] & R.PWR_SLEEP  # power-on state: asleep
    after = drain(imu, read_for(imu, clock, 4.0, rng))
    assert imu.healthy
    assert not emu.regs[R.PWR_MGMT_1] & R.PWR_SLEEP and emu.odr_hz == 100.0
    gaps = [b.gap for b in after if b.gap is not None]
    assert [g.reason for g in gaps] == ["reconnect"]
    t_true, acc, _ = expected(emu, ACC_LSB, GYR_LSB)
    got_before, got_after = joined(before), joined(after)
    np.testing.assert_array_equal(got_before.acc_g, acc[: len(got_before)])
    np.testing.assert_array_equal(got_after.acc_g, acc[t_true > t_replug])
    assert gaps[0].start_s == got_before.t_s[-1]
    assert gaps[0].end_s - gaps[0].start_s > 3.0
    # reconnect attempts back off: far fewer than one per read while unplugged
    assert emu.failed_transfers < 4 * len(unplugged)


def test_silent_chip_reset_is_caught_by_the_stall_watchdog():
    clock, emu, imu = make(100.0)
    rng = np.random.default_rng(5)
    before = read_for(imu, clock, 1.0, rng)
    emu.power_on_reset()  # brown-out: no bus error, the chip just went back to sleep
    after = drain(imu, read_for(imu, clock, 2.0, rng))
    gaps = [b.gap for b in after if b.gap is not None]
    assert [g.reason for g in gaps] == ["reconnect"]
    assert gaps[0].start_s == joined(before).t_s[-1]
    assert len(joined(after)) > 100


@pytest.mark.parametrize("rate_error", [0.01, -0.01, 0.03])
def test_timestamps_track_the_monotonic_clock_despite_oscillator_drift(rate_error):
    clock, emu, imu = make(100.0, rate_error=rate_error)
    rng = np.random.default_rng(2)
    got = joined(drain(imu, read_for(imu, clock, 60.0, rng, 0.005, 0.05)))
    t_true, _, _ = expected(emu, ACC_LSB, GYR_LSB)
    assert len(got) == len(t_true)
    err = got.t_s - t_true
    settled = t_true > t_true[0] + 5.0
    period = 0.01 / (1 + rate_error)
    assert np.max(np.abs(err[settled])) < 0.8 * period  # counting at 100 Hz would be 0.6 s off
    assert abs(imu.timing.rate_hz - 100.0 * (1 + rate_error)) < 0.05
    assert np.all(np.diff(got.t_s) > 0.5 * period)


def test_range_bits_scale_and_clip_like_the_chip():
    class Hard:
        def sample(self, t):
            n = len(t)
            return np.tile([5.0, -0.5, 1.0], (n, 1)), np.tile([1500.0, -2.0, 0.0], (n, 1))

    clock = ManualClock()
    emu = Mpu6050Emulator(Hard(), clock=clock)
    imu = Mpu6050(emu, fs_hz=100, clock=clock, sleep=clock.sleep)
    imu.open()
    clock.advance(0.1)
    b = imu.read()
    assert emu.regs[R.ACCEL_CONFIG] == 0x08 and emu.regs[R.GYRO_CONFIG] == 0x10
    np.testing.assert_allclose(b.acc_g[0], [32767 / 8192, -0.5, 1.0])
    np.testing.assert_allclose(b.gyr_dps[0], [32767 / 32.8, round(-2 * 32.8) / 32.8, 0.0])
    imu2 = Mpu6050(emu, fs_hz=100, accel_range_g=8, gyro_range_dps=2000, clock=clock)
    imu2.open()
    clock.advance(0.1)
    b2 = imu2.read()
    np.testing.assert_allclose(b2.acc_g[0], [5.0, -0.5, 1.0])
    np.testing.assert_allclose(b2.gyr_dps[0], [1500.0, -2.0, 0.0], atol=0.5 / 16.4)


@pytest.mark.parametrize("chip", ["MPU-6050", "MPU-6500", "MPU-9250"])
def test_each_family_member_is_named_and_works(chip):
    clock = ManualClock()
    emu = Mpu6050Emulator(WobbleMotion(), clock=clock, chip=chip, address=0x69)
    imu = Mpu6050(emu, address=0x69, fs_hz=200, clock=clock, sleep=clock.sleep)
    imu.open()
    assert imu.name.startswith(chip) and "0x69" in imu.name
    got = joined(drain(imu, read_for(imu, clock, 1.0, np.random.default_rng(0))))
    _, acc, _ = expected(emu, ACC_LSB, GYR_LSB)
    np.testing.assert_array_equal(got.acc_g, acc)


def test_open_names_the_trouble():
    clock = ManualClock()
    emu = Mpu6050Emulator(clock=clock, address=0x68)
    with pytest.raises(SensorError, match="0x69.*errno 121"):
        Mpu6050(emu, address=0x69, clock=clock, sleep=clock.sleep).open()
    emu.regs[R.WHO_AM_I] = 0x12
    with pytest.raises(SensorError, match="WHO_AM_I=0x12"):
        Mpu6050(emu, clock=clock, sleep=clock.sleep).open()
    with pytest.raises(SettingsError, match="fs_hz=300"):
        Mpu6050(emu, fs_hz=300)
    with pytest.raises(SettingsError, match="accel_range_g=3"):
        Mpu6050(emu, accel_range_g=3)
    with pytest.raises(SensorError, match="before open"):
        Mpu6050(emu, clock=clock).read()


def test_emulator_follows_the_register_semantics():
    clock = ManualClock()
    emu = Mpu6050Emulator(clock=clock)
    a = 0x68
    assert emu.read_byte_data(a, R.PWR_MGMT_1) == 0x40
    emu.write_byte_data(a, R.FIFO_EN, R.FIFO_EN_ACCEL_GYRO)
    emu.write_byte_data(a, R.USER_CTRL, R.USER_FIFO_EN)
    clock.advance(1.0)
    assert emu.read_i2c_block_data(a, R.FIFO_COUNTH, 2) == [0, 0]  # asleep: nothing
    emu.write_byte_data(a, R.PWR_MGMT_1, 0x01)
    emu.write_byte_data(a, R.SMPLRT_DIV, 4)  # DLPF off: 8 kHz / 5 = 1600 Hz
    assert emu.odr_hz == 1600.0
    emu.write_byte_data(a, R.CONFIG, 1)  # DLPF on: 1 kHz / 5 = 200 Hz
    assert emu.odr_hz == 200.0
    clock.advance(0.05)
    assert emu.read_i2c_block_data(a, R.FIFO_COUNTH, 2) == [0, 120]  # 10 samples
    assert emu.read_byte_data(a, R.FIFO_COUNTL) == 120  # latched by COUNTH
    first = emu.read_i2c_block_data(a, R.FIFO_R_W, 12)
    assert first[:6] == [0, 0, 0, 0, 0x40, 0x00]  # +-2 g by default: 1 g = 16384
    with pytest.raises(ValueError):
        emu.read_i2c_block_data(a, R.FIFO_R_W, 33)
    for _ in range(9):
        emu.read_i2c_block_data(a, R.FIFO_R_W, 12)
    assert emu.read_byte_data(a, R.FIFO_R_W) == first[-1]  # empty: repeats the last byte
    # overflow: oldest bytes dropped, flag only when enabled, cleared by reading
    clock.advance(1.0)
    assert emu.read_byte_data(a, R.INT_STATUS) == 0 and len(emu.fifo) == 1024
    emu.write_byte_data(a, R.INT_ENABLE, R.INT_FIFO_OFLOW)
    clock.advance(0.01)
    assert emu.read_byte_data(a, R.INT_STATUS) & R.INT_FIFO_OFLOW
    assert emu.read_byte_data(a, R.INT_STATUS) == 0
    emu.write_byte_data(a, R.USER_CTRL, R.USER_FIFO_EN | R.USER_FIFO_RESET)
    assert len(emu.fifo) == 0 and emu.regs[R.USER_CTRL] == R.USER_FIFO_EN
    emu.write_byte_data(a, R.PWR_MGMT_1, R.PWR_DEVICE_RESET)
    assert emu.regs[R.PWR_MGMT_1] == 0x40 and emu.regs[R.SMPLRT_DIV] == 0
    emu.fail_next(1, errno=5)
    with pytest.raises(OSError) as e:
        emu.read_byte_data(a, R.WHO_AM_I)
    assert e.value.errno == 5
    assert emu.read_byte_data(a, R.WHO_AM_I) == 0x68
