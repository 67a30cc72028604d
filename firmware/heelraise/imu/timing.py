"""Timestamps for FIFO samples: the sample counter, kept on the monotonic clock.

A FIFO hands over samples without times. Counting them at the nominal rate
drifts (a chip's oscillator is typically off by up to a few percent: 1 % is
0.6 s a minute); stamping each read with the host clock jitters with the
read schedule. :class:`SampleClock` does both: sample ``k`` is stamped
``t_next + k * period_s``, and each time the FIFO level is read it compares
the newest sample's predicted stamp with when that sample must have been
made (within one period before the count was read) and corrects a little of
the error, so phase is slewed gradually (stamps stay evenly spaced and
increasing). The period comes from the same observations over a long
baseline (``window_s``, 30 s): the chip's real rate to a few parts in 10^4,
so drift is corrected, not accumulated. Until the baseline is ``min_baseline_s``
long a second-order loop (integral term) moves the period instead.

    >>> sc = SampleClock(100.0)
    >>> sc.stamp(n_read=3, n_available=3, t_obs_s=1.0)   # 3 samples in the FIFO at t=1 s
    array([0.975, 0.985, 0.995])
"""

from __future__ import annotations

from collections import deque

import numpy as np


class SampleClock:
    """Turns runs of FIFO samples into monotonic-clock timestamps.

    ``phase_gain`` and ``freq_gain`` are per observation (per FIFO read); the
    defaults make a critically damped loop (freq_gain = phase_gain**2 / 4)
    settling in about 20 reads. ``max_rate_error`` bounds the period estimate
    around nominal; ``resync_s`` is the error beyond which the stamps jump
    (forward only) instead of slewing.
    """

    def __init__(
        self,
        fs_hz: float,
        *,
        phase_gain: float = 0.1,
        freq_gain: float = 0.0025,
        max_rate_error: float = 0.05,
        resync_s: float = 0.25,
        window_s: float = 30.0,
        min_baseline_s: float = 2.0,
    ):
        if not fs_hz > 0:
            raise ValueError(f"fs_hz must be positive, got {fs_hz!r}")
        self.nominal_period_s = 1.0 / float(fs_hz)
        self.period_s = self.nominal_period_s
        self.phase_gain = phase_gain
        self.freq_gain = freq_gain
        self.max_rate_error = max_rate_error
        self.resync_s = resync_s
        self.window_s = window_s
        self.min_baseline_s = min_baseline_s
        self._obs: deque[tuple[int, float]] = deque()  # (sample index, made at)
        self.error_s = 0.0  # last phase error seen (observed minus predicted), for plots
        self.resyncs = 0
        self._t_next: float | None = None  # stamp of the next sample to hand out
        self._last_t: float | None = None
        self._last_newest_k: int | None = None
        self._k_next = 0  # index of the next sample to hand out

    @property
    def rate_hz(self) -> float:
        """The chip's output rate as measured against the monotonic clock."""
        return 1.0 / self.period_s

    def restart(self) -> None:
        """The sample stream restarted (FIFO reset, re-initialised chip): re-anchor on the
        next read. The period estimate is kept: the oscillator has not changed."""
        self._t_next = None
        self._last_newest_k = None
        self._obs.clear()  # samples were lost: indices no longer map to time

    def stamp(self, n_read: int, n_available: int, t_obs_s: float) -> np.ndarray:
        """Stamps for the ``n_read`` oldest of the ``n_available`` samples that were in the
        FIFO when its level was read at monotonic time ``t_obs_s``."""
        if n_read > n_available or n_read < 0:
            raise ValueError(f"cannot read {n_read} samples of {n_available} available")
        if n_available == 0:
            return np.empty(0)
        p = self.period_s
        # the newest sample was made during the last period before t_obs_s
        observed_newest = t_obs_s - 0.5 * p
        newest_k = self._k_next + n_available - 1
        floor = None if self._last_t is None else self._last_t + 0.5 * self.nominal_period_s
        if self._t_next is None:
            self._t_next = observed_newest - (n_available - 1) * p
            if floor is not None and self._t_next < floor:
                self._t_next = floor
            self.error_s = 0.0
        else:
            error = observed_newest - (self._t_next + (n_available - 1) * p)
            self.error_s = error
            if abs(error) > self.resync_s:
                self.resyncs += 1
                self._t_next += error
            else:
                if self._last_newest_k is not None and newest_k > self._last_newest_k:
                    since = newest_k - self._last_newest_k
                    self._update_period(
                        newest_k, observed_newest, p + self.freq_gain * error / since
                    )
                self._t_next += self.phase_gain * error
            if floor is not None and self._t_next < floor:
                self._t_next = floor
        if self._last_newest_k != newest_k:
            self._obs.append((newest_k, observed_newest))
        self._last_newest_k = newest_k
        t = self._t_next + np.arange(n_read) * self.period_s
        if n_read:
            self._last_t = float(t[-1])
            self._t_next = float(t[-1]) + self.period_s
            self._k_next += n_read
        return t

    def _update_period(self, newest_k: int, observed_newest: float, loop_period_s: float) -> None:
        while len(self._obs) > 1 and observed_newest - self._obs[0][1] > self.window_s:
            self._obs.popleft()
        period = loop_period_s
        if self._obs:
            k0, t0 = self._obs[0]
            if observed_newest - t0 >= self.min_baseline_s and newest_k > k0:
                period = (observed_newest - t0) / (newest_k - k0)
        lo = self.nominal_period_s * (1 - self.max_rate_error)
        hi = self.nominal_period_s * (1 + self.max_rate_error)
        self.period_s = min(hi, max(lo, period))
