"""A clock you move by hand, for emulators, tests and faster-than-real-time runs.

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
"""

from __future__ import annotations


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
