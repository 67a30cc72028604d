"""What the FIFO-chip drivers share: retries, recovery, gaps, timestamps.

A chip driver (``Mpu6050``, ``Lsm6ds``) says how to identify, configure and
reset its chip and how to poll and drain its FIFO; :class:`FifoImu` turns that
into the :class:`~heelraise.imu.base.Imu` contract:

- every bus transfer that fails with ``OSError`` (errno 121 Remote I/O, 5 I/O
  error, ...) is retried ``retries`` times with exponential backoff
  (``backoff_s``, 2x, 4x ...) through the injected ``sleep``;
- a read that still fails returns an empty block; the chip is re-initialised
  on a later read (attempts spaced ``reconnect_interval_s``, doubling up to
  ``reconnect_max_s``), and after ``max_failures`` consecutive failures
  ``healthy`` is False until a read succeeds again. ``read()`` never raises
  for bus trouble;
- a FIFO overflow (or a FIFO whose level breaks the sample framing) resets the
  FIFO; nothing is read from a FIFO that has lost data;
- every hole (``fifo_overflow``, ``i2c_error``, ``reconnect``, ``stall``) is
  reported on the first block after it as ``SampleBlock.gap``, from the last
  sample delivered before (``start_s``) to the first one after (``end_s``); no
  sample is ever made up to fill it;
- timestamps come from :class:`~heelraise.imu.timing.SampleClock`.

A stuck sensor is caught from the data: a live chip always has noise in its
LSBs, so the same six words repeated for ``stuck_after_s`` (1 s) mean the ADC
or the bus is stuck, and a sample whose six words are all zero is never real
(gravity is always there). Zero samples are dropped at once; repeats beyond
``stuck_after_s`` are dropped; either way the hole is reported (``stuck``,
``zeros``), ``healthy`` turns False, and the chip is re-initialised (again every
``reconnect_max_s`` while it lasts). Off by default (``None``: a noise-free
emulator repeats itself); ``open_imu`` turns it on for the real chips and the
simulated shoe at :data:`STUCK_AFTER_S`.

If no sample arrives for ``stall_timeout_s`` the driver checks the chip's
configuration; a chip found back in its power-on state (brown-out, replug
without an I2C error) is re-initialised and the gap reported as ``reconnect``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from heelraise.exceptions import SensorError, SettingsError
from heelraise.imu.base import Gap, SampleBlock
from heelraise.imu.timing import SampleClock

log = logging.getLogger(__name__)


def check_chip_settings(
    chip: str,
    address: int,
    addresses,
    accel_range_g: int,
    accel_ranges,
    gyro_range_dps,
    gyro_ranges,
) -> None:
    """SettingsError naming the setting, unless the chip has these ranges and address."""
    if accel_range_g not in accel_ranges:
        raise SettingsError(
            f"accel_range_g={accel_range_g!r}; the {chip} has {sorted(accel_ranges)}"
        )
    if gyro_range_dps not in gyro_ranges:
        raise SettingsError(
            f"gyro_range_dps={gyro_range_dps!r}; the {chip} has {sorted(gyro_ranges)}"
        )
    if address not in addresses:
        at = " or ".join(f"0x{a:02X}" for a in addresses)
        raise SettingsError(f"address 0x{address:02x}: an {chip} is at {at}")


#: The same six words this long mean a stuck sensor: a live MPU-6050 has tens of LSBs of
#: accelerometer noise at +-4 g, so even two equal samples in a row are rare.
STUCK_AFTER_S = 1.0


class FifoFramingError(Exception):
    """Raised by a driver's ``_drain`` when the FIFO words do not frame into samples."""


@dataclass
class ImuStats:
    """Counters for the progress line, the MQTT state and the logs."""

    samples: int = 0
    reads: int = 0
    overflows: int = 0
    i2c_errors: int = 0  # transfers that raised OSError (each retry counts)
    failed_reads: int = 0  # reads that gave up after the retries
    reinits: int = 0
    gaps: int = 0


class FifoImu:
    """Base of the FIFO drivers; see the module docstring. Not used directly."""

    name = "FIFO IMU"

    def __init__(
        self,
        bus,
        *,
        address: int,
        fs_hz: float,
        clock=time.monotonic,
        sleep=time.sleep,
        retries: int = 3,
        backoff_s: float = 0.002,
        max_failures: int = 5,
        reconnect_interval_s: float = 0.2,
        reconnect_max_s: float = 2.0,
        stall_timeout_s: float | None = None,
        stuck_after_s: float | None = None,
        max_samples_per_read: int | None = None,
        owns_bus: bool = False,
        bus_label: str = "",
    ):
        if bus is None:
            raise SensorError("no I2C bus given (bus=smbus2.SMBus(1) on a Pi, or an emulator)")
        if retries < 0 or max_failures < 1:
            raise ValueError(f"retries={retries!r} / max_failures={max_failures!r} out of range")
        self.bus = bus
        self.address = int(address)
        self.requested_fs_hz = float(fs_hz)
        self.fs_hz = float(fs_hz)  # the chip's configured rate, set by configure
        self.clock = clock
        self.sleep = sleep
        self.retries = int(retries)
        self.backoff_s = float(backoff_s)
        self.max_failures = int(max_failures)
        self.reconnect_interval_s = float(reconnect_interval_s)
        self.reconnect_max_s = float(reconnect_max_s)
        self._stall_timeout_s = stall_timeout_s
        self.stuck_after_s = stuck_after_s
        self._run_start_t: float | None = None  # first stamp of the current run of equal samples
        self._run_ref: np.ndarray | None = None  # the repeated sample (6 values)
        self._stuck_reason: str | None = None  # "stuck" / "zeros" while it lasts
        self._stuck_reinit_s = 0.0
        self.max_samples_per_read = max_samples_per_read
        self.owns_bus = owns_bus
        self.bus_label = bus_label
        self.stats = ImuStats()
        self.healthy = True
        self.timing: SampleClock | None = None
        self._open = False
        self._need_init = False
        self._next_init_s = 0.0
        self._init_attempts = 0
        self._consecutive_failures = 0
        self._last_t: float | None = None  # stamp of the last sample delivered
        self._gap_reason: str | None = None  # a hole is open since _last_t
        self._last_data_s = 0.0

    @property
    def stall_timeout_s(self) -> float:
        if self._stall_timeout_s is not None:
            return self._stall_timeout_s
        # 5 samples overdue (0.1 s at least): a silent chip reset is found well inside the
        # chain's max_gap_s (0.25 s), so its hole is bridged; the check is three register reads
        return max(0.1, 5.0 / self.fs_hz)

    # -- the Imu protocol ----------------------------------------------------

    def open(self) -> None:
        """Find, reset and configure the chip; raises SensorError if it is absent or wrong."""
        try:
            chip = self._identify()
            self._reset_chip()
            self._configure()
            self._fifo_reset()
        except OSError as e:
            raise SensorError(
                f"no answer from an IMU at 0x{self.address:02x}{self._on_bus()}: "
                f"{e.strerror or e} (errno {e.errno}); check wiring, power and the address"
            ) from e
        log.info("opened %s", chip)
        self.timing = SampleClock(self.fs_hz)
        self._open = True
        self._last_data_s = self.clock()

    def read(self) -> SampleBlock:
        """All samples since the last read; empty (never an exception) on bus trouble."""
        if not self._open:
            raise SensorError(f"{self.name}: read() before open() (or after close())")
        self.stats.reads += 1
        now = self.clock()
        if self._need_init:
            if now < self._next_init_s or not self._reinit(now):
                return SampleBlock.empty()
        try:
            overflow, misaligned, n_avail, t_obs = self._poll()
            if overflow or misaligned:
                reason = "fifo_overflow" if overflow else "fifo_misaligned"
                if overflow:
                    self.stats.overflows += 1
                log.warning("%s: %s, FIFO reset", self.name, reason)
                self._fifo_reset()
                self.timing.restart()
                self._hole(reason)
                self._succeeded(now)
                return SampleBlock.empty()
            if n_avail == 0:
                self._succeeded(None)
                if now - self._last_data_s > self.stall_timeout_s:
                    self._check_stall(now)
                return SampleBlock.empty()
            n = (
                n_avail
                if self.max_samples_per_read is None
                else min(n_avail, self.max_samples_per_read)
            )
            try:
                acc_g, gyr_dps = self._drain(n)
            except FifoFramingError as e:
                log.warning("%s: %s, FIFO reset", self.name, e)
                self._fifo_reset()
                self.timing.restart()
                self._hole("fifo_misaligned")
                self._succeeded(now)
                return SampleBlock.empty()
        except OSError as e:
            self._failed(now, e)
            return SampleBlock.empty()
        self._succeeded(now)
        t_s = self.timing.stamp(n, n_avail, t_obs)
        if self.stuck_after_s is not None:
            t_s, acc_g, gyr_dps = self._drop_stuck(now, t_s, acc_g, gyr_dps)
            if not len(t_s):
                return SampleBlock.empty()
        return self._deliver(t_s, acc_g, gyr_dps)

    def _drop_stuck(self, now, t_s, acc_g, gyr_dps):
        """Drop all-zero samples and repeats beyond ``stuck_after_s`` (see the module doc)."""
        rows = np.hstack([acc_g, gyr_dps])
        zero = ~rows.any(axis=1)
        prev = np.vstack([self._run_ref[None] if self._run_ref is not None else rows[:1] + 1, rows])
        same = (rows == prev[:-1]).all(axis=1)
        keep = ~zero
        run_start = self._run_start_t
        for i in range(len(t_s)):  # cheap: a block holds at most the FIFO's few dozen samples
            if not same[i]:
                run_start = float(t_s[i])
            elif not zero[i] and t_s[i] - run_start >= self.stuck_after_s:
                keep[i] = False
        self._run_start_t, self._run_ref = run_start, rows[-1].copy()
        dropped = ~keep
        reason = None
        if zero.any() and (zero & dropped).any():
            reason = "zeros"
        if (dropped & ~zero).any():
            reason = "stuck"
        if reason is not None:
            self._hole(reason)
            zero_run = zero[-1] and float(t_s[-1]) - run_start >= self.stuck_after_s
            if (reason == "stuck" or zero_run) and dropped[-1]:
                if self._stuck_reason is None:
                    log.error(
                        "%s: %s for %.1f s (a live chip always has noise): unhealthy, "
                        "re-initialising",
                        self.name,
                        "the same sample repeated" if reason == "stuck" else "all-zero samples",
                        float(t_s[-1]) - run_start,
                    )
                    self._stuck_reason = reason
                    self._stuck_reinit_s = now
                    self._need_init, self._init_attempts, self._next_init_s = True, 0, now
                elif now - self._stuck_reinit_s >= self.reconnect_max_s:
                    self._stuck_reinit_s = now
                    self._need_init, self._init_attempts, self._next_init_s = True, 0, now
        if keep.any() and self._stuck_reason is not None and not dropped[-1]:
            log.info("%s: live samples again after %s", self.name, self._stuck_reason)
            self._stuck_reason = None
        self.healthy = self.healthy and self._stuck_reason is None
        return t_s[keep], acc_g[keep], gyr_dps[keep]

    def close(self) -> None:
        """Put the chip to sleep (best effort) and release the bus if we opened it."""
        if self._open:
            try:
                self._sleep_chip()
            except OSError as e:
                log.info("%s: could not put the chip to sleep: %s", self.name, e)
        self._open = False
        if self.owns_bus:
            self.bus.close()

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        self.close()

    # -- bus with retries ----------------------------------------------------

    def _xfer(self, method: str, *args):
        fn = getattr(self.bus, method)
        for attempt in range(self.retries + 1):
            try:
                return fn(self.address, *args)
            except OSError:
                self.stats.i2c_errors += 1
                if attempt == self.retries:
                    raise
                self.sleep(self.backoff_s * (2**attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def _rb(self, register: int) -> int:
        return self._xfer("read_byte_data", register)

    def _wb(self, register: int, value: int) -> None:
        self._xfer("write_byte_data", register, value)

    def _rblock(self, register: int, length: int) -> list[int]:
        return self._xfer("read_i2c_block_data", register, length)

    # -- recovery ------------------------------------------------------------

    def _hole(self, reason: str) -> None:
        """Samples are being lost from now on (or were): report it on the next block."""
        if self._last_t is None:
            return  # nothing delivered yet: the stream simply starts later
        if self._gap_reason is None or reason in ("reconnect", "fifo_overflow", "stuck", "zeros"):
            self._gap_reason = reason

    @property
    def finished(self) -> bool:
        """A live chip never runs dry (the Imu protocol)."""
        return False

    @property
    def health_reason(self) -> str | None:
        """Why ``healthy`` is False: ``stuck``, ``zeros`` or ``read_failures``; None if healthy."""
        if self.healthy:
            return None
        return getattr(self, "_stuck_reason", None) or "read_failures"

    def _failed(self, now: float, error: OSError) -> None:
        self.stats.failed_reads += 1
        self._consecutive_failures += 1
        if self._consecutive_failures >= self.max_failures and self.healthy:
            log.error("%s: %d failed reads in a row, unhealthy", self.name, self.max_failures)
            self.healthy = False
        log.warning("%s: bus error %s; will re-initialise", self.name, error)
        self._hole("i2c_error")
        if not self._need_init:
            self._need_init = True
            self._init_attempts = 0
            self._next_init_s = now  # first attempt on the next read
        else:
            delay = self.reconnect_interval_s * (2 ** min(self._init_attempts - 1, 10))
            self._next_init_s = now + min(self.reconnect_max_s, delay)

    def _succeeded(self, now: float | None) -> None:
        self._consecutive_failures = 0
        self.healthy = getattr(self, "_stuck_reason", None) is None
        if now is not None:
            self._last_data_s = now

    def _reinit(self, now: float) -> bool:
        self._init_attempts += 1
        try:
            was_reset = not self._is_configured()
            self._identify()
            self._configure()
            self._fifo_reset()
        except (OSError, SensorError) as e:
            self._failed(now, e if isinstance(e, OSError) else OSError(str(e)))
            return False
        self.stats.reinits += 1
        self._need_init = False
        self.timing.restart()
        self._hole("reconnect" if was_reset else "i2c_error")
        self._succeeded(now)
        log.info("%s: re-initialised (%s)", self.name, "chip had reset" if was_reset else "ok")
        return True

    def _check_stall(self, now: float) -> None:
        try:
            configured = self._is_configured()
        except OSError as e:
            self._failed(now, e)
            return
        self._last_data_s = now  # check again only after another timeout
        if not configured:
            log.warning("%s: no samples and chip back at power-on state", self.name)
            self._hole("reconnect")
            self._need_init = True
            self._init_attempts = 0
            self._next_init_s = now

    def _deliver(self, t_s, acc_g, gyr_dps) -> SampleBlock:
        gap = None
        if self._gap_reason is not None and self._last_t is not None:
            gap = Gap(self._last_t, float(t_s[0]), self._gap_reason)
            self.stats.gaps += 1
            self._gap_reason = None
        self._last_t = float(t_s[-1])
        self.stats.samples += len(t_s)
        return SampleBlock(t_s, acc_g, gyr_dps, gap)

    def _on_bus(self) -> str:
        return f" on {self.bus_label}" if self.bus_label else ""

    # -- chip specifics ------------------------------------------------------

    def _identify(self) -> str:
        """Read WHO_AM_I; set ``self.name``; raise SensorError for a wrong chip."""
        raise NotImplementedError

    def _reset_chip(self) -> None:
        """Full reset at open (may wait via ``self.sleep``)."""
        raise NotImplementedError

    def _configure(self) -> None:
        """Write every register the driver depends on; set ``self.fs_hz``."""
        raise NotImplementedError

    def _is_configured(self) -> bool:
        """False if the chip has lost its configuration (power cycle, brown-out)."""
        raise NotImplementedError

    def _fifo_reset(self) -> None:
        raise NotImplementedError

    def _poll(self) -> tuple[bool, bool, int, float]:
        """(overflowed, misaligned, whole samples available, monotonic time of the count)."""
        raise NotImplementedError

    def _drain(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Read the ``n`` oldest samples: acc_g (n,3), gyr_dps (n,3)."""
        raise NotImplementedError

    def _sleep_chip(self) -> None:
        raise NotImplementedError
