"""A fake IMU for running the service without hardware or wall-clock time.

With :class:`heelraise.clock.ManualClock`, whose ``sleep`` advances it, a loop
that sleeps between reads runs as fast as the CPU allows. :class:`ArrayImu`
plays arrays of samples (a simulated session, a recording) as an
:class:`~heelraise.imu.base.Imu`, handing out on each ``read()`` every sample
whose time has come on the injected clock, and optionally dropping spans of
samples to report them as gaps, like a FIFO overflow would::

    >>> from heelraise.clock import ManualClock
    >>> from heelraise.sim import simulate_session
    >>> sim = simulate_session(sets=1, reps=5, seed=1)          # doctest: +SKIP
    >>> clock = ManualClock()
    >>> imu = ArrayImu(sim.t_s, sim.acc_g, sim.gyr_dps, clock=clock)  # doctest: +SKIP
    >>> Service(config, imu=imu, clock=clock, sleep=clock.sleep).run()  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from heelraise.exceptions import SensorError
from heelraise.imu.base import Gap, SampleBlock


class ArrayImu:
    """An Imu over arrays, paced by ``clock``: sample ``i`` is readable once
    ``clock() >= t_s[i] + t0_s`` (``t0_s`` is the clock at :meth:`open`, unless given).

    ``gaps`` is a list of ``(start_s, end_s, reason)`` spans (array time base)
    whose samples are dropped; the first block after each carries a
    :class:`~heelraise.imu.base.Gap`. ``finished`` turns True when every
    sample was handed out; ``healthy`` is True (a test may set it).
    """

    def __init__(
        self,
        t_s,
        acc_g,
        gyr_dps,
        *,
        clock,
        gaps=(),
        name: str = "array",
        t0_s: float | None = None,
        fail_open: bool = False,
    ):
        self.t_s = np.asarray(t_s, dtype=float)
        self.acc_g = np.asarray(acc_g, dtype=float)
        self.gyr_dps = np.asarray(gyr_dps, dtype=float)
        if self.acc_g.shape != (len(self.t_s), 3) or self.gyr_dps.shape != (len(self.t_s), 3):
            raise ValueError("acc_g and gyr_dps must be (N, 3) for N timestamps")
        dt = np.diff(self.t_s)
        self.fs_hz = float(1.0 / np.median(dt)) if len(dt) else float("nan")
        self.name = name
        self._clock = clock
        self._t0 = t0_s
        self._fail_open = fail_open
        # drop the samples inside each gap; remember which kept sample follows each hole
        keep = np.ones(len(self.t_s), dtype=bool)
        self._gap_before: dict[int, Gap] = {}
        for start_s, end_s, _reason in gaps:
            keep &= ~((self.t_s >= start_s) & (self.t_s <= end_s))
        kept = np.flatnonzero(keep)
        for start_s, end_s, reason in sorted(gaps):
            after = np.searchsorted(self.t_s[kept], end_s, side="right")
            if after < len(kept):
                self._gap_before[int(after)] = Gap(float(start_s), float(end_s), str(reason))
        self.t_s, self.acc_g, self.gyr_dps = self.t_s[kept], self.acc_g[kept], self.gyr_dps[kept]
        self._pos = 0
        self.opened = False
        self.closed = False
        self.reads = 0
        self.healthy = True
        self.health_reason: str | None = None

    @property
    def finished(self) -> bool:
        return self._pos >= len(self.t_s)

    def open(self) -> None:
        if self._fail_open:
            raise SensorError(f"{self.name}: no sensor answers (fake)")
        if self._t0 is None:
            self._t0 = self._clock() - (self.t_s[0] if len(self.t_s) else 0.0)
        self.opened = True

    def hold(self) -> None:
        """Hand out nothing until :meth:`play_from_now` (a test sets things up first)."""
        self._t0 = float("inf")

    def play_from_now(self) -> None:
        """The next sample not yet handed out is due now; the rest follow at their pace."""
        i = min(self._pos, len(self.t_s) - 1)
        self._t0 = self._clock() - (self.t_s[i] if len(self.t_s) else 0.0)

    def read(self) -> SampleBlock:
        """Samples due by now; a block never spans a gap (the gap rides on the next one)."""
        self.reads += 1
        end = int(np.searchsorted(self.t_s, self._clock() - self._t0, side="right"))
        start = self._pos
        if end <= start:
            return SampleBlock.empty()
        gap = self._gap_before.get(start)
        for i in self._gap_before:
            if start < i < end:
                end = i
        self._pos = end
        sl = slice(start, end)
        return SampleBlock(self.t_s[sl], self.acc_g[sl], self.gyr_dps[sl], gap)

    def close(self) -> None:
        self.closed = True
