"""A register-level LSM6DSOX or LSM6DS3 on an emulated I2C bus.

- power-on / SW_RESET state: CTRL1_XL = CTRL2_G = 0 (both sensors powered
  down: no samples), CTRL3_C = 0x04 (IF_INC), FIFO in bypass (empty);
- output rate from ODR_XL (the gyro must run at the same rate; the FIFO
  batches at BDR_XL/BDR_GY (DSOX) or ODR_FIFO (DS3));
- range bits scale the little-endian int16 words, clipped at full scale;
- LSM6DSOX: tagged FIFO of 7-byte words (TAG_SENSOR<<3 | TAG_CNT<<1), a
  gyro word then an accel word per sample, TAG_CNT counting samples mod 4;
  DIFF_FIFO counts words; continuous mode drops the oldest *word* when full
  and sets FIFO_OVR_IA and FIFO_OVR_LATCHED (cleared by reading FIFO_STATUS2);
  a word is popped when its last byte (0x7E) is read, a burst wraps to 0x78;
- LSM6DS3: FIFO of 16-bit words in the pattern Gx Gy Gz Ax Ay Az, DIFF_FIFO
  counting words, FIFO_PATTERN the index of the next word, OVER_RUN when the
  oldest word was overwritten; a word is popped when its high byte (0x3F) is
  read, a burst wraps to 0x3E.

Not modelled: filters, timestamps in the FIFO, compression, embedded functions.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from heelraise.imu import lsm6ds_regs as R
from heelraise.imu.emulator_base import ChipEmulator

_WHO = {"LSM6DSOX": 0x6C, "LSM6DS3": 0x69}


class Lsm6dsEmulator(ChipEmulator):
    """``chip`` is "LSM6DSOX" (default) or "LSM6DS3"; address 0x6A (SA0 low) or 0x6B."""

    def __init__(self, motion=None, *, clock, address: int = 0x6A, chip: str = "LSM6DSOX", **kw):
        if chip not in _WHO:
            raise ValueError(f"chip {chip!r} is not one of {sorted(_WHO)}")
        self.chip = chip
        self.tagged = chip == "LSM6DSOX"
        self.fifo_words = R.DSOX_FIFO_WORDS if self.tagged else R.DS3_FIFO_WORDS
        self.fifo_capacity_samples = self.fifo_words // (2 if self.tagged else 6) + 1
        super().__init__(motion, address=address, clock=clock, **kw)

    def power_on_reset(self) -> None:
        self.regs = bytearray(128)
        self.regs[R.WHO_AM_I] = _WHO[self.chip]
        self.regs[R.CTRL3_C] = R.CTRL3_DEFAULT
        self.fifo: deque = deque()  # DSOX: 7-byte words; DS3: int16 words
        self._byte_in_word = 0  # read position inside the head word
        self._tag_cnt = 0
        self._pattern = 0  # DS3: index (0..5) of the head word in the pattern
        self._overrun = False
        self._ovr_latched = False
        self.overflows = 0
        self._retime()

    @property
    def odr_hz(self):
        return self._odr_hz()

    def _odr_hz(self):
        code = self.regs[R.CTRL1_XL] >> 4
        return R.ODR_HZ.get(code)

    def _acc_lsb(self):
        return R.accel_lsb_per_g((self.regs[R.CTRL1_XL] >> 2) & 0x03)

    def _gyr_lsb(self):
        return R.gyro_lsb_per_dps((self.regs[R.CTRL2_G] >> 2) & 0x03)

    def _fifo_mode(self) -> int:
        return self.regs[R.DSOX_FIFO_CTRL4 if self.tagged else R.DS3_FIFO_CTRL5] & 0x07

    def _batching(self) -> bool:
        odr = self.regs[R.CTRL1_XL] >> 4
        if (self.regs[R.CTRL2_G] >> 4) != odr:
            return False  # keep the emulator honest: both sensors at one rate
        if self.tagged:
            ctrl3 = self.regs[R.DSOX_FIFO_CTRL3]
            return (ctrl3 & 0x0F) == odr and (ctrl3 >> 4) == odr
        ctrl3 = self.regs[R.DS3_FIFO_CTRL3]
        odr_fifo = (self.regs[R.DS3_FIFO_CTRL5] >> 3) & 0x0F
        return ctrl3 == 0b001001 and odr_fifo == odr

    def _push(self, t_s, acc_raw, gyr_raw) -> None:
        self.regs[0x22:0x28] = np.asarray(gyr_raw[-1], "<i2").tobytes()
        self.regs[0x28:0x2E] = np.asarray(acc_raw[-1], "<i2").tobytes()
        mode = self._fifo_mode()
        if mode == R.FIFO_MODE_BYPASS or not self._batching():
            return
        for a, g in zip(acc_raw, gyr_raw, strict=True):
            if self.tagged:
                cnt = self._tag_cnt << 1
                words = [
                    bytes([(R.TAG_GYRO << 3) | cnt]) + np.asarray(g, "<i2").tobytes(),
                    bytes([(R.TAG_ACCEL << 3) | cnt]) + np.asarray(a, "<i2").tobytes(),
                ]
                self._tag_cnt = (self._tag_cnt + 1) & 0x03
            else:
                words = [int(v) for v in (*g, *a)]
            for w in words:
                if len(self.fifo) >= self.fifo_words:
                    if mode == R.FIFO_MODE_FIFO:
                        return  # FIFO mode stops when full
                    self.fifo.popleft()
                    self._byte_in_word = 0
                    self._pattern = (self._pattern + 1) % 6
                    self._overrun = self._ovr_latched = True
                    self.overflows += 1
                self.fifo.append(w)

    def _clear_fifo(self) -> None:
        self.fifo.clear()
        self._byte_in_word = 0
        self._pattern = 0
        self._tag_cnt = 0
        self._overrun = self._ovr_latched = False

    # -- registers ----------------------------------------------------------

    def _read(self, register: int) -> int:
        register &= 0x7F
        n = len(self.fifo)
        if register == R.FIFO_STATUS1:
            return n & 0xFF
        if register == R.FIFO_STATUS2:
            if self.tagged:
                value = (n >> 8) & R.DSOX_STATUS2_DIFF_MASK
                value |= R.DSOX_STATUS2_OVR if self._overrun else 0
                value |= R.DSOX_STATUS2_OVR_LATCHED if self._ovr_latched else 0
                value |= R.DSOX_STATUS2_FULL if n >= self.fifo_words else 0
                self._ovr_latched = False
                return value
            value = (n >> 8) & R.DS3_STATUS2_DIFF_MASK
            value |= R.DS3_STATUS2_OVER_RUN if self._overrun else 0
            value |= R.DS3_STATUS2_FULL if n >= self.fifo_words else 0
            value |= R.DS3_STATUS2_EMPTY if n == 0 else 0
            return value
        if self.tagged and R.DSOX_FIFO_DATA_OUT_TAG <= register <= 0x7E:
            if not self.fifo:
                return 0
            i = register - R.DSOX_FIFO_DATA_OUT_TAG
            value = self.fifo[0][i]
            if i == 6:
                self.fifo.popleft()
                self._overrun = False
            return value
        if not self.tagged and register == R.DS3_FIFO_STATUS3:
            return self._pattern & 0xFF
        if not self.tagged and register == R.DS3_FIFO_STATUS4:
            return (self._pattern >> 8) & 0x03
        if not self.tagged and register in (R.DS3_FIFO_DATA_OUT_L, R.DS3_FIFO_DATA_OUT_L + 1):
            if not self.fifo:
                return 0
            word = self.fifo[0] & 0xFFFF
            if register == R.DS3_FIFO_DATA_OUT_L:
                return word & 0xFF
            self.fifo.popleft()
            self._pattern = (self._pattern + 1) % 6
            self._overrun = False
            return word >> 8
        return self.regs[register]

    def _next_read_address(self, register: int) -> int:
        if self.tagged and register == 0x7E:
            return R.DSOX_FIFO_DATA_OUT_TAG
        if not self.tagged and register == R.DS3_FIFO_DATA_OUT_L + 1:
            return R.DS3_FIFO_DATA_OUT_L
        if not self.regs[R.CTRL3_C] & R.CTRL3_IF_INC:
            return register
        return (register + 1) & 0x7F

    def _write(self, register: int, value: int) -> None:
        register &= 0x7F
        if register == R.WHO_AM_I or 0x1A <= register <= 0x3F or register >= 0x78:
            return  # read-only
        if register == R.CTRL3_C and value & R.CTRL3_SW_RESET:
            self.power_on_reset()
            return
        self.regs[register] = value
        fifo_mode_reg = R.DSOX_FIFO_CTRL4 if self.tagged else R.DS3_FIFO_CTRL5
        if register == fifo_mode_reg and value & 0x07 == R.FIFO_MODE_BYPASS:
            self._clear_fifo()
        if register in (R.CTRL1_XL, R.CTRL2_G):
            self._retime()
