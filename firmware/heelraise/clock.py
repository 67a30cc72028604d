"""Clocks: one you move by hand, and one that runs faster than real time.

Every piece that keeps time (IMU drivers and emulators, the service loop, the
cues) takes ``clock=`` (a callable returning seconds, monotonic) and, where it
waits, ``sleep=``. Pass ``time.monotonic`` / ``time.sleep`` on the Pi;
pass a :class:`ManualClock` (and its ``sleep``) anywhere time must be exact::

    >>> clock = ManualClock()
    >>> clock.advance(0.02)
    >>> clock()
    0.02
    >>> clock.sleep(0.01)   # "sleeping" just moves the clock on
    >>> round(clock(), 3)
    0.03

:class:`ScaledClock` runs ``speed`` times faster than the clock it is built on
(``heelraise run --speed``, the demo, the simulated IMU's chip)::

    >>> fast = ScaledClock(10.0, base=clock)
    >>> clock.advance(0.5)
    >>> round(fast() - 0.03, 3)    # 0.5 s of the base clock, ten times over
    5.0
"""

from __future__ import annotations

import time


class ManualClock:
    """A monotonic clock that only moves when told to."""

    def __init__(self, t_s: float = 0.0):
        self.t_s = float(t_s)

    def __call__(self) -> float:
        return self.t_s

    def advance(self, dt_s: float) -> None:
        if not dt_s >= 0:
            raise ValueError(f"a monotonic clock cannot move by {dt_s!r} s")
        self.t_s += float(dt_s)

    def sleep(self, dt_s: float) -> None:
        """Stand-in for ``time.sleep``: the wait passes instantly."""
        self.advance(max(0.0, float(dt_s)))

    def set(self, t_s: float) -> None:
        """Move to ``t_s`` (never back)."""
        if t_s < self.t_s:
            raise ValueError(f"a monotonic clock cannot go back from {self.t_s} to {t_s}")
        self.t_s = float(t_s)


class ScaledClock:
    """Seconds running ``speed`` times faster than ``base`` (monotonic by default) from the
    moment it is made (``start_s``: the reading then; default the base's), and a ``sleep``
    that waits ``speed`` times less."""

    def __init__(self, speed: float, *, base=time.monotonic, start_s: float | None = None):
        if not speed > 0:
            raise ValueError(f"speed must be above 0, not {speed!r}")
        self.speed = float(speed)
        self._base = base
        self._m0 = base()
        self._t0 = self._m0 if start_s is None else float(start_s)

    def __call__(self) -> float:
        return self._t0 + (self._base() - self._m0) * self.speed

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.speed)
