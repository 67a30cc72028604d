"""LSM6DSOX / LSM6DS3 driver: accel + gyro through the FIFO over I2C.

Wiring (Raspberry Pi, I2C bus 1; breakout boards such as Adafruit's)::

    LSM6DSOX   Pi header
    VIN    ->  pin 1 (3.3 V)
    GND    ->  pin 6
    SDA    ->  pin 3 (GPIO2)
    SCL    ->  pin 5 (GPIO3)
    SA0/DO ->  GND for 0x6A, 3.3 V for 0x6B (most breakouts pull it up: 0x6A... check)

The chip is told apart by WHO_AM_I (0x6C LSM6DSOX, 0x69 LSM6DS3). Rates are
the chip's (12.5, 26, 52, 104, 208, 416, 833, 1666 Hz); ``fs_hz`` picks the
nearest, and ``fs_hz`` on the driver then says which (100 -> 104 Hz).

- LSM6DSOX: tagged FIFO; each sample is a gyro and an accel word (7 bytes:
  tag, then X, Y, Z little-endian) with the same TAG_CNT; words are read in
  28-byte bursts (4 words) and paired by tag, so a word out of place is
  caught (FIFO reset, gap ``fifo_misaligned``) instead of mixing samples.
- LSM6DS3: FIFO of 16-bit words Gx Gy Gz Ax Ay Az; FIFO_PATTERN must be 0
  before a read, so every read starts on a sample boundary.

Both run the FIFO in continuous mode; FIFO_OVR / OVER_RUN resets it and the
gap is reported (see :class:`~heelraise.imu.fifo_imu.FifoImu`).

    >>> from heelraise.clock import ManualClock
    >>> from heelraise.imu.emulator_lsm6ds import Lsm6dsEmulator
    >>> clock = ManualClock()
    >>> imu = Lsm6ds(Lsm6dsEmulator(clock=clock), fs_hz=100, clock=clock, sleep=clock.sleep)
    >>> imu.open(); imu.fs_hz
    104.0
"""

from __future__ import annotations

import time

import numpy as np

from heelraise.exceptions import SensorError, SettingsError
from heelraise.imu import lsm6ds_regs as R
from heelraise.imu.fifo_imu import FifoFramingError, FifoImu, check_chip_settings

BURST_WORDS_DSOX = 4  # 28 bytes, under smbus2's 32-byte limit
BURST_BYTES_DS3 = 24  # two whole samples


class Lsm6ds(FifoImu):
    """An LSM6DSOX or LSM6DS3 on an I2C ``bus``."""

    def __init__(
        self,
        bus,
        *,
        address: int = 0x6A,
        fs_hz: float = 104.0,
        accel_range_g: int = 4,
        gyro_range_dps: int = 1000,
        clock=time.monotonic,
        sleep=time.sleep,
        **options,
    ):
        check_chip_settings(
            "LSM6DS",
            address,
            (0x6A, 0x6B),
            accel_range_g,
            R.ACCEL_FS_BITS,
            gyro_range_dps,
            R.GYRO_FS_BITS,
        )
        if not fs_hz > 0:
            raise SettingsError(f"fs_hz must be positive, got {fs_hz!r}")
        self.odr_code = R.nearest_odr_code(fs_hz)
        super().__init__(bus, address=address, fs_hz=fs_hz, clock=clock, sleep=sleep, **options)
        self.fs_hz = R.ODR_HZ[self.odr_code]
        self._xl_bits = R.ACCEL_FS_BITS[accel_range_g]
        self._g_bits = R.GYRO_FS_BITS[gyro_range_dps]
        self._acc_lsb = R.accel_lsb_per_g(self._xl_bits)
        self._gyr_lsb = R.gyro_lsb_per_dps(self._g_bits)
        self.chip = None
        self.tagged = True
        self.name = f"LSM6DS @0x{self.address:02x}{self._on_bus()}"

    def _identify(self) -> str:
        who = self._rb(R.WHO_AM_I)
        if who not in R.CHIPS:
            raise SensorError(
                f"device at 0x{self.address:02x}{self._on_bus()} answers WHO_AM_I=0x{who:02x}, "
                f"not an LSM6DSOX (0x6c) or LSM6DS3 (0x69)"
            )
        self.chip = R.CHIPS[who]
        self.tagged = self.chip == "LSM6DSOX"
        self.name = f"{self.chip} @0x{self.address:02x}{self._on_bus()}"
        return self.name

    def _reset_chip(self) -> None:
        self._wb(R.CTRL3_C, R.CTRL3_DEFAULT | R.CTRL3_SW_RESET)
        self.sleep(0.01)

    def _ctrl1(self) -> int:
        return (self.odr_code << 4) | (self._xl_bits << 2)

    def _mode_reg(self) -> int:
        return R.DSOX_FIFO_CTRL4 if self.tagged else R.DS3_FIFO_CTRL5

    def _mode_value(self, mode: int) -> int:
        return mode if self.tagged else (self.odr_code << 3) | mode

    def _configure(self) -> None:
        self._wb(R.CTRL3_C, R.CTRL3_BDU | R.CTRL3_IF_INC)
        self._wb(self._mode_reg(), self._mode_value(R.FIFO_MODE_BYPASS))
        self._wb(R.CTRL1_XL, self._ctrl1())
        self._wb(R.CTRL2_G, (self.odr_code << 4) | (self._g_bits << 2))
        if self.tagged:
            self._wb(R.DSOX_FIFO_CTRL3, (self.odr_code << 4) | self.odr_code)
        else:
            self._wb(R.DS3_FIFO_CTRL3, 0b001001)  # gyro and accel, no decimation

    def _is_configured(self) -> bool:
        return (
            self._rb(R.CTRL1_XL) == self._ctrl1()
            and self._rb(self._mode_reg()) & 0x07 == R.FIFO_MODE_CONTINUOUS
        )

    def _fifo_reset(self) -> None:
        self._wb(self._mode_reg(), self._mode_value(R.FIFO_MODE_BYPASS))  # empties it
        self._wb(self._mode_reg(), self._mode_value(R.FIFO_MODE_CONTINUOUS))

    def _poll(self):
        s1, s2 = self._rblock(R.FIFO_STATUS1, 2)
        t_obs = self.clock()
        if self.tagged:
            words = s1 | ((s2 & R.DSOX_STATUS2_DIFF_MASK) << 8)
            ovr = R.DSOX_STATUS2_OVR | R.DSOX_STATUS2_OVR_LATCHED | R.DSOX_STATUS2_FULL
            overflow = bool(s2 & ovr) or words + 2 > R.DSOX_FIFO_WORDS
            return overflow, False, words // 2, t_obs
        words = s1 | ((s2 & R.DS3_STATUS2_DIFF_MASK) << 8)
        overflow = bool(s2 & (R.DS3_STATUS2_OVER_RUN | R.DS3_STATUS2_FULL))
        overflow = overflow or words + 6 > R.DS3_FIFO_WORDS
        misaligned = False
        if words and not overflow:
            p3, p4 = self._rblock(R.DS3_FIFO_STATUS3, 2)
            misaligned = (p3 | (p4 & 0x03) << 8) != 0
        return overflow, misaligned, words // 6, t_obs

    def _drain(self, n: int):
        if self.tagged:
            return self._drain_tagged(n)
        want = n * 12
        data = bytearray()
        while len(data) < want:
            data += bytes(
                self._rblock(R.DS3_FIFO_DATA_OUT_L, min(BURST_BYTES_DS3, want - len(data)))
            )
        raw = np.frombuffer(bytes(data), dtype="<i2").reshape(n, 6).astype(float)
        return raw[:, 3:] / self._acc_lsb, raw[:, :3] / self._gyr_lsb

    def _drain_tagged(self, n: int):
        want = 2 * n * R.DSOX_WORD_BYTES
        data = bytearray()
        burst = BURST_WORDS_DSOX * R.DSOX_WORD_BYTES
        while len(data) < want:
            data += bytes(self._rblock(R.DSOX_FIFO_DATA_OUT_TAG, min(burst, want - len(data))))
        words = np.frombuffer(bytes(data), dtype=np.uint8).reshape(2 * n, 7)
        tags = words[:, 0] >> 3
        cnts = (words[:, 0] >> 1) & 0x03
        values = words[:, 1:].copy().view("<i2").astype(float)  # (2n, 3)
        first, second = tags[0::2], tags[1::2]
        pairs_ok = (
            ((first == R.TAG_GYRO) & (second == R.TAG_ACCEL))
            | ((first == R.TAG_ACCEL) & (second == R.TAG_GYRO))
        ) & (cnts[0::2] == cnts[1::2])
        if not pairs_ok.all():
            bad = int(np.flatnonzero(~pairs_ok)[0])
            raise FifoFramingError(
                f"FIFO words {2 * bad},{2 * bad + 1} are tags {int(first[bad])},"
                f"{int(second[bad])}: not a gyro+accel pair"
            )
        gyro_first = (first == R.TAG_GYRO)[:, None]
        a, b = values[0::2], values[1::2]
        gyr = np.where(gyro_first, a, b)
        acc = np.where(gyro_first, b, a)
        return acc / self._acc_lsb, gyr / self._gyr_lsb

    def _sleep_chip(self) -> None:
        self._wb(self._mode_reg(), self._mode_value(R.FIFO_MODE_BYPASS))
        self._wb(R.CTRL1_XL, 0)
        self._wb(R.CTRL2_G, 0)
