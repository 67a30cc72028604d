"""``ReplayImu``: plays a recording file as if a sensor were producing it.

Samples are handed out when their time has come on the injected ``clock``
(``speed`` 1 = real time, 10 = ten times faster); timestamps are the file's
own, so events line up with ``heelraise analyze`` on the same file. A hole in
the file longer than ``max_gap_s`` (the analyzer's own limit, so a replay counts
what ``heelraise analyze`` counts) is reported on the next block as
``Gap(..., "missing_samples")``, as a driver would; shorter dropouts are left to
the analyzer to interpolate over.

    >>> from heelraise.clock import ManualClock
    >>> clock = ManualClock()
    >>> imu = ReplayImu("walk.csv", clock=clock, speed=5)     # doctest: +SKIP
    >>> imu.open(); clock.advance(1.0); block = imu.read()    # 5 s of the file  # doctest: +SKIP
"""

from __future__ import annotations

import time

import numpy as np

from heelraise.exceptions import SensorError
from heelraise.imu.base import Gap, SampleBlock
from heelraise.settings import MAX_GAP_S


class ReplayImu:
    """An Imu reading from a recording (``heelraise.recording`` format)."""

    def __init__(
        self,
        path,
        *,
        speed: float = 1.0,
        clock=time.monotonic,
        sleep=None,
        loop: bool = False,
        max_gap_s: float = MAX_GAP_S,
        fs_hz: float | None = None,
    ):
        if not speed > 0:
            raise SensorError(f"replay speed must be positive, got {speed!r}")
        self.path = str(path)
        self.speed = float(speed)
        self.clock = clock
        self.loop = loop
        self.max_gap_s = max_gap_s
        self.name = f"replay of {self.path}"
        self.fs_hz = float(fs_hz) if fs_hz else float("nan")
        self.recording = None
        self._i = 0
        self._t0 = None
        self._offset_s = 0.0  # added to file times on each loop
        self.healthy = True

    def open(self) -> None:
        from heelraise.recording import read_recording

        self.recording = read_recording(self.path)  # RecordingError names file and line
        rec = self.recording
        if np.isnan(self.fs_hz):
            self.fs_hz = rec.sample_rate_hz
        dt = np.diff(rec.t_s)
        self._holes = set(np.flatnonzero(dt > self.max_gap_s) + 1)
        self._t0 = self.clock()
        self._i = 0
        self._offset_s = 0.0

    @property
    def finished(self) -> bool:
        return self.recording is not None and not self.loop and self._i >= len(self.recording)

    def read(self) -> SampleBlock:
        if self.recording is None:
            raise SensorError(f"{self.name}: read() before open()")
        rec = self.recording
        now_file = rec.t_s[0] + (self.clock() - self._t0) * self.speed - self._offset_s
        j = int(np.searchsorted(rec.t_s, now_file, side="right"))
        i = self._i
        if j <= i:
            if self.loop and i >= len(rec):
                self._offset_s += rec.duration_s + 1.0 / self.fs_hz
                self._i = 0
            return SampleBlock.empty()
        self._i = j
        t = rec.t_s[i:j] + self._offset_s
        gap = None
        holes = [k for k in self._holes if i <= k < j]
        if holes:
            # one block carries at most one gap: stop the block at the second hole
            holes.sort()
            k = holes[0]
            if k > i:
                self._i = k
                return SampleBlock(t[: k - i], rec.acc_g[i:k], rec.gyr_dps[i:k])
            if len(holes) > 1:
                self._i = j = holes[1]
                t = t[: j - i]
            gap = Gap(float(rec.t_s[k - 1] + self._offset_s), float(t[0]), "missing_samples")
        return SampleBlock(t, rec.acc_g[i:j], rec.gyr_dps[i:j], gap)

    def close(self) -> None:
        pass
