"""A register-level MPU-6050 / MPU-6500 / MPU-9250 on an emulated I2C bus.

It behaves like the chip where a driver can tell the difference:

- power-on state: ``PWR_MGMT_1 = 0x40`` (asleep), every other register 0, no
  samples while asleep; ``DEVICE_RESET`` restores that state;
- output data rate = gyro output rate / (1 + SMPLRT_DIV), the gyro output rate
  being 1 kHz with the DLPF on (DLPF_CFG 1..6) and 8 kHz with it off;
- ACCEL_CONFIG / GYRO_CONFIG range bits scale the big-endian int16 words;
  values beyond full scale clip at -32768 / 32767;
- FIFO (1024 bytes on the MPU-6050, 512 on the 6500/9250) filled at the sample
  rate with the registers enabled in FIFO_EN, in register order (accel, temp,
  gyro); when it is full the oldest *bytes* are dropped to make room, as on
  the chip, so the data lose their 12-byte alignment, and INT_STATUS
  FIFO_OFLOW_INT is set (when enabled in INT_ENABLE; cleared by reading INT_STATUS);
- FIFO_COUNTH latches the count for COUNTL; FIFO_R_W pops a byte per read, a
  burst read stays on FIFO_R_W, and an empty FIFO repeats the last byte read;
- WHO_AM_I 0x68 / 0x70 / 0x71.

Not modelled: the DLPF's filtering (the motion is taken as already band
limited), temperature, the DMP, the auxiliary I2C master.

Example::

    >>> from heelraise.clock import ManualClock
    >>> clock = ManualClock()
    >>> chip = Mpu6050Emulator(clock=clock)
    >>> hex(chip.read_byte_data(0x68, 0x75))
    '0x68'
"""

from __future__ import annotations

import numpy as np

from heelraise.imu import mpu6050_regs as R
from heelraise.imu.emulator_base import ChipEmulator, StillMotion  # noqa: F401

_WHO_AM_I = {"MPU-6050": 0x68, "MPU-6500": 0x70, "MPU-9250": 0x71}


class Mpu6050Emulator(ChipEmulator):
    """An MPU-60x0 family chip; ``chip`` is "MPU-6050", "MPU-6500" or "MPU-9250"."""

    def __init__(self, motion=None, *, clock, address: int = 0x68, chip: str = "MPU-6050", **kw):
        if chip not in _WHO_AM_I:
            raise ValueError(f"chip {chip!r} is not one of {sorted(_WHO_AM_I)}")
        self.chip = chip
        self.who_am_i = _WHO_AM_I[chip]
        self.fifo_bytes = R.CHIPS[self.who_am_i][1]
        self.fifo_capacity_samples = self.fifo_bytes // R.SAMPLE_BYTES + 1
        super().__init__(motion, address=address, clock=clock, **kw)

    # -- state --------------------------------------------------------------

    def power_on_reset(self) -> None:
        self.regs = bytearray(128)
        self.regs[R.PWR_MGMT_1] = R.POWER_ON_PWR_MGMT_1
        self.regs[R.WHO_AM_I] = self.who_am_i
        self.fifo = bytearray()
        self._count_latch = 0
        self._last_fifo_byte = 0
        self.overflows = 0  # times data were lost to a full FIFO (test visibility)
        self._retime()

    def _odr_hz(self):
        if self.regs[R.PWR_MGMT_1] & R.PWR_SLEEP:
            return None
        return R.sample_rate_hz(self.regs[R.CONFIG] & 0x07, self.regs[R.SMPLRT_DIV])

    def _acc_lsb(self):
        return R.accel_lsb_per_g((self.regs[R.ACCEL_CONFIG] >> 3) & 0x03)

    def _gyr_lsb(self):
        return R.gyro_lsb_per_dps((self.regs[R.GYRO_CONFIG] >> 3) & 0x03)

    @property
    def odr_hz(self) -> float | None:
        """The chip's nominal output data rate now (None while asleep)."""
        return self._odr_hz()

    def _push(self, t_s, acc_raw, gyr_raw) -> None:
        last = len(t_s) - 1
        # the data registers always hold the newest sample
        self.regs[R.ACCEL_XOUT_H : R.ACCEL_XOUT_H + 6] = _be(acc_raw[last : last + 1])
        self.regs[R.GYRO_XOUT_H : R.GYRO_XOUT_H + 6] = _be(gyr_raw[last : last + 1])
        if not (self.regs[R.USER_CTRL] & R.USER_FIFO_EN):
            return
        en = self.regs[R.FIFO_EN]
        parts = []
        if en & 0x08:
            parts.append(acc_raw)
        if en & 0x80:
            parts.append(np.zeros((len(t_s), 1), np.int64))  # temperature word
        if en & 0x70:
            cols = [i for i, bit in enumerate((0x40, 0x20, 0x10)) if en & bit]
            parts.append(gyr_raw[:, cols])
        if not parts:
            return
        data = _be(np.hstack(parts))
        self.fifo += data
        excess = len(self.fifo) - self.fifo_bytes
        if excess > 0:
            del self.fifo[:excess]  # oldest bytes lost, alignment with them
            self.overflows += 1
            if self.regs[R.INT_ENABLE] & R.INT_FIFO_OFLOW:
                self.regs[R.INT_STATUS] |= R.INT_FIFO_OFLOW

    # -- registers ----------------------------------------------------------

    def _read(self, register: int) -> int:
        register &= 0x7F
        if register == R.FIFO_R_W:
            if self.fifo:
                self._last_fifo_byte = self.fifo.pop(0)
            return self._last_fifo_byte
        if register == R.FIFO_COUNTH:
            self._count_latch = len(self.fifo)
            return (self._count_latch >> 8) & 0xFF
        if register == R.FIFO_COUNTL:
            return self._count_latch & 0xFF
        if register == R.INT_STATUS:
            value = self.regs[R.INT_STATUS]
            self.regs[R.INT_STATUS] = 0
            return value
        return self.regs[register]

    def _next_read_address(self, register: int) -> int:
        if register == R.FIFO_R_W:
            return register  # bursts keep popping the FIFO
        return (register + 1) & 0x7F

    def _write(self, register: int, value: int) -> None:
        register &= 0x7F
        if register in (R.WHO_AM_I, R.INT_STATUS, R.FIFO_COUNTH, R.FIFO_COUNTL):
            return  # read-only
        if R.ACCEL_XOUT_H <= register <= 0x60:
            return  # sensor and external data: read-only
        if register == R.FIFO_R_W:
            self.fifo.append(value)  # the chip allows it; nobody should
            return
        if register == R.PWR_MGMT_1 and value & R.PWR_DEVICE_RESET:
            self.power_on_reset()
            return
        if register == R.USER_CTRL:
            if value & R.USER_FIFO_RESET:
                self.fifo.clear()
            value &= ~(R.USER_FIFO_RESET | 0x03) & 0xFF  # reset bits self-clear
        self.regs[register] = value
        if register in (R.PWR_MGMT_1, R.SMPLRT_DIV, R.CONFIG):
            self._retime()


def _be(words: np.ndarray) -> bytes:
    return np.asarray(words, dtype=">i2").tobytes()
