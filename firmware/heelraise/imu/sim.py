"""``SimImu``: a simulated shoe played through the MPU-6050 emulator and the real driver.

``--imu sim`` therefore exercises the same driver code as the Pi: FIFO bursts,
timestamps, gaps. The motion is any object with ``sample(t_s) -> (acc_g,
gyr_dps)`` (true values, sensor axes) and ``duration_s``; by default a session
from :func:`heelraise.sim.simulate_session` (made on ``open()``, seeded).

    >>> from heelraise.clock import ManualClock
    >>> from heelraise.imu.emulator_base import StillMotion
    >>> clock = ManualClock()
    >>> imu = SimImu(StillMotion(duration_s=5), clock=clock, sleep=clock.sleep)
    >>> imu.open(); clock.advance(0.5); len(imu.read())    # 100 Hz by default
    50

Half a second is read at a time here: the chip's 1 KB FIFO holds 85 samples, so a reader a
whole second late finds it overflowed (as the real chip would), reset, and nothing to read.

``speed`` > 1 plays faster than real time (timestamps are in motion time).
``emulator`` and ``driver`` are exposed after ``open()`` so tests can inject
faults (``imu.emulator.unplug()``).
"""

from __future__ import annotations

import time

from heelraise.clock import ScaledClock
from heelraise.imu.base import SampleBlock
from heelraise.imu.emulator_mpu6050 import Mpu6050Emulator
from heelraise.imu.mpu6050 import Mpu6050


class SimImu:
    """An Imu whose chip is the register-level emulator playing ``motion``."""

    def __init__(
        self,
        motion=None,
        *,
        fs_hz: float = 100.0,
        clock=time.monotonic,
        sleep=time.sleep,
        speed: float = 1.0,
        seed: int = 0,
        session_options: dict | None = None,
        rate_error: float = 0.002,
        acc_noise_g: float = 0.004,
        gyr_noise_dps: float = 0.08,
        gyr_bias_dps=(0.4, -0.25, 0.15),
        stuck_after_s: float | None = None,
        **driver_options,
    ):
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed!r}")
        self.motion = motion
        self.fs_hz = float(fs_hz)
        self.speed = float(speed)
        self.seed = seed
        self.session_options = dict(session_options or {})
        self.session = None  # the SimulatedSession when made here (ground truth in .truth)
        self._clock, self._sleep = clock, sleep
        self._emu_kw = dict(
            rate_error=rate_error,
            acc_noise_g=acc_noise_g,
            gyr_noise_dps=gyr_noise_dps,
            gyr_bias_dps=gyr_bias_dps,
            seed=seed,
            keep_history=False,
        )
        self._driver_options = {**driver_options, "stuck_after_s": stuck_after_s}
        self.emulator: Mpu6050Emulator | None = None
        self.driver: Mpu6050 | None = None
        self.name = "simulated MPU-6050 (emulator)"
        self._t0 = None

    def open(self) -> None:
        if self.motion is None:
            from heelraise.sim import simulate_session

            opts = {"seed": self.seed, "rate_hz": self.fs_hz, **self.session_options}
            self.session = simulate_session(**opts)
            self.motion = self.session.motion
        clock = ScaledClock(self.speed, base=self._clock) if self.speed != 1.0 else self._clock
        sleep = self._sleep if self.speed == 1.0 else (lambda s: self._sleep(s / self.speed))
        self.clock = clock
        self._t0 = clock()
        self.emulator = Mpu6050Emulator(
            self.motion, clock=clock, motion_t0_s=self._t0, **self._emu_kw
        )
        self.driver = Mpu6050(
            self.emulator, fs_hz=self.fs_hz, clock=clock, sleep=sleep, **self._driver_options
        )
        self.driver.open()
        self.fs_hz = self.driver.fs_hz
        self.name = f"simulated {self.driver.name} (emulator)"

    def read(self) -> SampleBlock:
        if self.driver is None:
            from heelraise.exceptions import SensorError

            raise SensorError(f"{self.name}: read() before open()")
        return self.driver.read()

    def close(self) -> None:
        if self.driver is not None:
            self.driver.close()

    @property
    def healthy(self) -> bool:
        return self.driver is None or self.driver.healthy

    @property
    def health_reason(self) -> str | None:
        return None if self.driver is None else self.driver.health_reason

    @property
    def stats(self):
        return None if self.driver is None else self.driver.stats

    @property
    def finished(self) -> bool:
        """The motion has played to its end."""
        if self._t0 is None:
            return False
        return self.clock() - self._t0 >= getattr(self.motion, "duration_s", float("inf"))
