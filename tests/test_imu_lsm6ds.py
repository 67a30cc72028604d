"""LSM6DSOX / LSM6DS3 driver through the register-level emulator."""

from __future__ import annotations

import numpy as np
import pytest
from heelraise.clock import ManualClock
from heelraise.exceptions import SensorError, SettingsError
from heelraise.imu import lsm6ds_regs as R
from heelraise.imu.emulator_lsm6ds import Lsm6dsEmulator
from heelraise.imu.lsm6ds import Lsm6ds
from heelraise.imu.mpu6050 import Mpu6050
from heelraise.imu.testing import WobbleMotion, drain, expected, joined, read_for

ACC_LSB = R.accel_lsb_per_g(R.ACCEL_FS_BITS[4])
GYR_LSB = R.gyro_lsb_per_dps(R.GYRO_FS_BITS[1000])
CHIPS = ["LSM6DSOX", "LSM6DS3"]


def make(chip, fs_hz=104.0, **emu_kw):
    clock = ManualClock(5.0)
    emu = Lsm6dsEmulator(WobbleMotion(), clock=clock, chip=chip, acc_noise_g=0.002, **emu_kw)
    imu = Lsm6ds(emu, fs_hz=fs_hz, clock=clock, sleep=clock.sleep)
    imu.open()
    return clock, emu, imu


@pytest.mark.parametrize("chip", CHIPS)
@pytest.mark.parametrize("fs_hz,odr", [(100, 104.0), (400, 416.0), (1000, 833.0)])
def test_every_sample_exactly_once(chip, fs_hz, odr):
    clock, emu, imu = make(chip, fs_hz)
    assert imu.fs_hz == odr == emu.odr_hz and imu.name.startswith(chip)
    rng = np.random.default_rng(fs_hz)
    blocks = drain(imu, read_for(imu, clock, 5.0, rng, 0.001, 0.08))
    got = joined(blocks)
    t_true, acc, gyr = expected(emu, ACC_LSB, GYR_LSB)
    assert len(got) == len(t_true) > 4.5 * odr
    np.testing.assert_array_equal(got.acc_g, acc)
    np.testing.assert_array_equal(got.gyr_dps, gyr)
    assert all(b.gap is None for b in blocks) and np.all(np.diff(got.t_s) > 0)


@pytest.mark.parametrize("chip", CHIPS)
def test_overflow_resets_and_reports_a_gap(chip):
    clock, emu, imu = make(chip, 833)
    rng = np.random.default_rng(4)
    before = read_for(imu, clock, 1.0, rng, 0.005, 0.02)
    clock.advance(6.0)  # more than either FIFO holds (256 / 682 samples)
    t_reset = clock()
    assert len(imu.read()) == 0
    assert emu.overflows > 0 and imu.stats.overflows == 1 and len(emu.fifo) == 0
    after = drain(imu, read_for(imu, clock, 1.0, rng, 0.005, 0.02))
    gaps = [b.gap for b in after if b.gap is not None]
    assert [g.reason for g in gaps] == ["fifo_overflow"]
    t_true, acc, gyr = expected(emu, ACC_LSB, GYR_LSB)
    got_before, got_after = joined(before), joined(after)
    np.testing.assert_array_equal(got_before.acc_g, acc[: len(got_before)])
    np.testing.assert_array_equal(got_after.gyr_dps, gyr[t_true > t_reset])
    assert gaps[0].start_s == got_before.t_s[-1] and gaps[0].end_s == got_after.t_s[0]


@pytest.mark.parametrize("chip", CHIPS)
def test_i2c_faults_and_replug(chip):
    clock, emu, imu = make(chip, 104)
    rng = np.random.default_rng(9)
    blocks = []
    for i in range(100):
        if i % 5 == 2:
            emu.fail_next(2, errno=121 if i % 2 else 5)
        clock.advance(rng.uniform(0.01, 0.04))
        blocks.append(imu.read())
    assert all(b.gap is None for b in blocks)
    emu.unplug()
    read_for(imu, clock, 2.0, rng)
    assert not imu.healthy
    emu.replug()
    t_replug = clock()
    after = drain(imu, read_for(imu, clock, 3.0, rng))
    assert imu.healthy and [b.gap.reason for b in after if b.gap] == ["reconnect"]
    t_true, acc, _ = expected(emu, ACC_LSB, GYR_LSB)
    np.testing.assert_array_equal(joined(blocks).acc_g, acc[: len(joined(blocks))])
    np.testing.assert_array_equal(joined(after).acc_g, acc[t_true > t_replug])


def test_a_lost_fifo_word_is_caught_by_the_tags():
    clock, emu, imu = make("LSM6DSOX", 104)
    clock.advance(0.1)
    imu.read()
    clock.advance(0.1)
    emu.read_i2c_block_data(0x6A, R.DSOX_FIFO_DATA_OUT_TAG, 7)  # someone else pops a word
    assert len(imu.read()) == 0 and len(emu.fifo) == 0
    clock.advance(0.1)
    b = imu.read()
    assert b.gap is not None and b.gap.reason == "fifo_misaligned"


def test_wrong_chip_and_missing_chip_are_named():
    clock = ManualClock()
    emu = Lsm6dsEmulator(clock=clock)
    with pytest.raises(SensorError, match="0x6b"):
        Lsm6ds(emu, address=0x6B, clock=clock, sleep=clock.sleep).open()
    emu.regs[R.WHO_AM_I] = 0x6A
    with pytest.raises(SensorError, match="WHO_AM_I=0x6a"):
        Lsm6ds(emu, clock=clock, sleep=clock.sleep).open()


def test_emulator_register_semantics_dsox():
    clock = ManualClock()
    emu = Lsm6dsEmulator(clock=clock)
    a = 0x6A
    assert emu.read_byte_data(a, R.WHO_AM_I) == 0x6C
    assert emu.read_byte_data(a, R.CTRL3_C) == 0x04
    emu.write_byte_data(a, R.DSOX_FIFO_CTRL3, 0x44)
    emu.write_byte_data(a, R.DSOX_FIFO_CTRL4, R.FIFO_MODE_CONTINUOUS)
    clock.advance(1.0)
    assert emu.read_i2c_block_data(a, R.FIFO_STATUS1, 2) == [0, 0]  # powered down
    emu.write_byte_data(a, R.CTRL1_XL, 0x40)  # 104 Hz, +-2 g
    emu.write_byte_data(a, R.CTRL2_G, 0x40)
    clock.advance(0.05)  # 5 samples = 10 words
    assert emu.read_i2c_block_data(a, R.FIFO_STATUS1, 2) == [10, 0]
    words = emu.read_i2c_block_data(a, R.DSOX_FIFO_DATA_OUT_TAG, 14)  # wraps 0x7E -> 0x78
    assert words[0] == (R.TAG_GYRO << 3) and words[7] == (R.TAG_ACCEL << 3)
    assert words[12:14] == list((16393).to_bytes(2, "little"))  # 1 g at 0.061 mg/LSB
    assert emu.read_byte_data(a, R.FIFO_STATUS1) == 8
    clock.advance(10.0)
    s2 = emu.read_byte_data(a, R.FIFO_STATUS2)
    assert s2 & R.DSOX_STATUS2_OVR_LATCHED and (s2 & 3) == 2  # 512 words
    assert not emu.read_byte_data(a, R.FIFO_STATUS2) & R.DSOX_STATUS2_OVR_LATCHED
    emu.write_byte_data(a, R.CTRL3_C, R.CTRL3_SW_RESET)
    assert emu.regs[R.CTRL1_XL] == 0 and len(emu.fifo) == 0 and emu.odr_hz is None


@pytest.mark.parametrize(
    ("chip", "setting", "message"),
    [
        (Lsm6ds, {"accel_range_g": 3}, "accel_range_g=3; the LSM6DS has [2, 4, 8, 16]"),
        (Lsm6ds, {"gyro_range_dps": 300}, "gyro_range_dps=300; the LSM6DS has [250, 500,"),
        (Lsm6ds, {"address": 0x68}, "address 0x68: an LSM6DS is at 0x6A or 0x6B"),
        (Mpu6050, {"gyro_range_dps": 300}, "gyro_range_dps=300; the MPU-6050 has [250, 500,"),
        (Mpu6050, {"address": 0x6A}, "address 0x6a: an MPU-6050 is at 0x68 or 0x69"),
    ],
)
def test_a_setting_the_chip_does_not_have_is_named(chip, setting, message):
    with pytest.raises(SettingsError) as err:
        chip(None, **setting)
    assert str(err.value).startswith(message)
