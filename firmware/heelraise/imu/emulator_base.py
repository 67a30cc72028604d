"""What every register-level IMU emulator shares: the smbus2 surface, time, motion, faults.

An emulator is a stand-in for ``smbus2.SMBus`` with one chip on it. Each
transfer first lets the emulated chip catch up with the injected ``clock``:
the samples due since the last transfer are taken from ``motion`` (true
specific force in g and angular rate in deg/s, sensor axes), quantised and
clipped like the chip's ADC at the configured range, and pushed into its
FIFO. The chip's oscillator can run fast or slow (``rate_error``, e.g. 0.01
for 1 % fast) so timestamping code has something real to correct.

Fault injection, as a flaky wire or a loose connector behaves:

- ``fail_next(3, errno=121)``: the next 3 transfers raise ``OSError(121)``
  (Remote I/O, the chip did not ACK) or ``errno=5`` (I/O error); no side effects.
- ``unplug()``: every transfer fails with errno 121 until ``replug()``, after
  which the chip is in its power-on state (asleep, default registers, empty FIFO).
- ``freeze(seconds)``: the ADC is stuck: every sample for that long repeats the last
  words exactly (no noise in the LSBs, which a live chip always has);
  ``zero_words(seconds)``: every sample reads 0 in all six words.
- ``lose_fifo_bytes(1)``: a byte vanishes from the FIFO (its framing breaks).

``history()`` returns every sample ever pushed into the FIFO (true time and
the raw int16 words), the ground truth the tests compare the drivers with.
"""

from __future__ import annotations

import errno as errno_mod
import os

import numpy as np

I2C_SMBUS_BLOCK_MAX = 32  # smbus2 refuses longer block transfers


class StillMotion:
    """A sensor lying still: gravity along ``gravity_axis`` (sensor axes), no rotation."""

    def __init__(self, acc_g=(0.0, 0.0, 1.0), duration_s: float = float("inf")):
        self.acc_g = np.asarray(acc_g, dtype=float).reshape(3)
        self.duration_s = duration_s

    def sample(self, t_s):
        n = len(np.atleast_1d(t_s))
        return np.tile(self.acc_g, (n, 1)), np.zeros((n, 3))


class ChipEmulator:
    """Base class: a register file behind smbus2's method names, driven by a clock."""

    #: subclasses: FIFO capacity in samples when full of accel+gyro data (bounds catch-up work)
    fifo_capacity_samples = 1024

    def __init__(
        self,
        motion=None,
        *,
        address: int,
        clock,
        motion_t0_s: float | None = None,
        rate_error: float = 0.0,
        acc_noise_g: float = 0.0,
        gyr_noise_dps: float = 0.0,
        gyr_bias_dps=(0.0, 0.0, 0.0),
        seed: int = 0,
        keep_history: bool = True,
    ):
        if not -0.2 < rate_error < 0.2:
            raise ValueError(f"rate_error {rate_error!r} is not a plausible oscillator error")
        self.motion = motion if motion is not None else StillMotion()
        self.address = int(address)
        self.clock = clock
        self.motion_t0_s = clock() if motion_t0_s is None else float(motion_t0_s)
        self.rate_error = float(rate_error)
        self.acc_noise_g = float(acc_noise_g)
        self.gyr_noise_dps = float(gyr_noise_dps)
        self.gyr_bias_dps = np.asarray(gyr_bias_dps, dtype=float).reshape(3)
        self._rng = np.random.default_rng(seed)
        self.keep_history = keep_history
        self._hist_t: list[np.ndarray] = []
        self._hist_acc: list[np.ndarray] = []
        self._hist_gyr: list[np.ndarray] = []
        self.transfers = 0  # successful bus transfers
        self.failed_transfers = 0
        self._fail_queue: list[int] = []
        self._stuck_until_s = -np.inf  # freeze() / zero_words(): samples before this are stuck
        self._stuck_zero = False
        self._last_raw = (np.zeros(3, np.int64), np.zeros(3, np.int64))
        self.plugged = True
        self._now = self.clock()
        self._period_s: float | None = None  # true sample period while sampling
        self._anchor_s = self._now
        self._k = 0  # samples produced since the anchor
        self.power_on_reset()

    # -- the smbus2 surface -------------------------------------------------

    def read_byte_data(self, i2c_addr, register, force=None) -> int:
        self._transfer(i2c_addr)
        return self._read(register)

    def write_byte_data(self, i2c_addr, register, value, force=None) -> None:
        self._transfer(i2c_addr)
        self._write(register, int(value) & 0xFF)

    def read_i2c_block_data(self, i2c_addr, register, length, force=None) -> list[int]:
        if length > I2C_SMBUS_BLOCK_MAX:
            raise ValueError(f"Desired block length over {I2C_SMBUS_BLOCK_MAX} bytes")
        self._transfer(i2c_addr)
        out = []
        reg = register
        for _ in range(length):
            out.append(self._read(reg))
            reg = self._next_read_address(reg)
        return out

    def write_i2c_block_data(self, i2c_addr, register, data, force=None) -> None:
        if len(data) > I2C_SMBUS_BLOCK_MAX:
            raise ValueError(f"Data length cannot exceed {I2C_SMBUS_BLOCK_MAX} bytes")
        self._transfer(i2c_addr)
        for i, value in enumerate(data):
            self._write(register + i, int(value) & 0xFF)

    def close(self) -> None:
        pass

    # -- faults -------------------------------------------------------------

    def fail_next(self, count: int, errno: int = errno_mod.EREMOTEIO) -> None:
        """Make the next ``count`` transfers raise ``OSError(errno)`` (121 or 5 typically)."""
        self._fail_queue.extend([int(errno)] * int(count))

    def freeze(self, seconds: float) -> None:
        """For ``seconds`` from now every sample repeats the last words exactly (a stuck ADC)."""
        self._catch_up()
        self._stuck_until_s, self._stuck_zero = self._now + float(seconds), False

    def zero_words(self, seconds: float) -> None:
        """For ``seconds`` from now every sample reads zero in all six words."""
        self._catch_up()
        self._stuck_until_s, self._stuck_zero = self._now + float(seconds), True

    def lose_fifo_bytes(self, count: int = 1) -> None:
        """The oldest ``count`` FIFO bytes vanish (a glitch on the bus during a burst read)."""
        self._catch_up()
        del self.fifo[: int(count)]

    def unplug(self) -> None:
        self._catch_up()
        self.plugged = False
        self._period_s = None  # no power, no samples

    def replug(self) -> None:
        """Power comes back: the chip restarts in its power-on state."""
        self._catch_up()
        self.plugged = True
        self.power_on_reset()

    # -- ground truth -------------------------------------------------------

    def history(self):
        """(t_s (N,), acc_raw (N,3) int, gyr_raw (N,3) int) of every sample pushed to the FIFO."""
        if not self._hist_t:
            return np.empty(0), np.empty((0, 3), int), np.empty((0, 3), int)
        return (
            np.concatenate(self._hist_t),
            np.concatenate(self._hist_acc),
            np.concatenate(self._hist_gyr),
        )

    # -- time ---------------------------------------------------------------

    def _transfer(self, i2c_addr) -> None:
        self._catch_up()
        if not self.plugged or i2c_addr != self.address:
            self.failed_transfers += 1
            raise OSError(errno_mod.EREMOTEIO, os.strerror(errno_mod.EREMOTEIO))
        if self._fail_queue:
            code = self._fail_queue.pop(0)
            self.failed_transfers += 1
            raise OSError(code, os.strerror(code))
        self.transfers += 1

    def _catch_up(self) -> None:
        """Produce every sample due up to the clock's now."""
        now = self.clock()
        if now < self._now:
            raise ValueError(f"clock went backwards: {now!r} after {self._now!r}")
        self._now = now
        if self._period_s is None or not self.plugged:
            return
        due = int(np.floor((now - self._anchor_s) / self._period_s + 1e-9))
        n = due - self._k
        if n <= 0:
            return
        # after a long idle only the newest samples can still be in the FIFO
        keep = min(n, self.fifo_capacity_samples + 1)
        first = self._k + (n - keep) + 1
        t = self._anchor_s + np.arange(first, first + keep) * self._period_s
        self._k = due
        acc, gyr = self.motion.sample(t - self.motion_t0_s)
        acc = np.asarray(acc, dtype=float).reshape(-1, 3)
        gyr = np.asarray(gyr, dtype=float).reshape(-1, 3) + self.gyr_bias_dps
        if self.acc_noise_g:
            acc = acc + self._rng.normal(0.0, self.acc_noise_g, acc.shape)
        if self.gyr_noise_dps:
            gyr = gyr + self._rng.normal(0.0, self.gyr_noise_dps, gyr.shape)
        acc_raw = _quantise(acc, self._acc_lsb())
        gyr_raw = _quantise(gyr, self._gyr_lsb())
        stuck = t < self._stuck_until_s
        if stuck.any():
            if self._stuck_zero:
                acc_raw[stuck], gyr_raw[stuck] = 0, 0
            else:
                acc_raw[stuck], gyr_raw[stuck] = self._last_raw
        self._last_raw = (acc_raw[-1].copy(), gyr_raw[-1].copy())
        if self.keep_history:
            self._hist_t.append(t)
            self._hist_acc.append(acc_raw)
            self._hist_gyr.append(gyr_raw)
        self._push(t, acc_raw, gyr_raw)

    def _retime(self) -> None:
        """The output rate or power state may have changed: restart the sample clock now."""
        self._catch_up()
        odr = self._odr_hz() if self.plugged else None
        self._period_s = None if not odr else 1.0 / (odr * (1.0 + self.rate_error))
        self._anchor_s = self._now
        self._k = 0

    # -- chip specifics (subclasses) -----------------------------------------

    def power_on_reset(self) -> None:
        raise NotImplementedError

    def _odr_hz(self) -> float | None:
        raise NotImplementedError

    def _acc_lsb(self) -> float:
        raise NotImplementedError

    def _gyr_lsb(self) -> float:
        raise NotImplementedError

    def _push(self, t_s, acc_raw, gyr_raw) -> None:
        raise NotImplementedError

    def _read(self, register: int) -> int:
        raise NotImplementedError

    def _write(self, register: int, value: int) -> None:
        raise NotImplementedError

    def _next_read_address(self, register: int) -> int:
        return (register + 1) & 0x7F


def _quantise(values: np.ndarray, lsb_per_unit: float) -> np.ndarray:
    """What the ADC outputs: rounded to the LSB and clipped to int16 (full scale)."""
    return np.clip(np.rint(values * lsb_per_unit), -32768, 32767).astype(np.int64)
