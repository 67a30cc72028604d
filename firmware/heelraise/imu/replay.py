"""``ReplayImu``: plays a recording file as if a sensor were producing it.

Samples are handed out when their time has come on the injected ``clock``
(``speed`` 1 = real time, 10 = ten times faster); timestamps are the file's
own, so events line up with ``heelraise analyze`` on the same file. A hole in
the file longer than ``max_gap_s`` (the analyzer's own limit, so a replay counts
what ``heelraise analyze`` counts) is reported on the next block as
``Gap(..., "missing_samples")``, as a driver would; shorter dropouts are left to
the analyzer to interpolate over.

The file is streamed block by block (:class:`~heelraise.recording.RecordingReader`),
so memory does not depend on its length. Problems in the file's first block
(header, units, rate) are raised by :meth:`ReplayImu.open`; a bad line later on,
and the checks of the whole file, by the :meth:`ReplayImu.read` that reaches them.

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

#: bytes of text read at a time: a quarter of ``analyze``'s blocks. The service holds about
#: five times a block (text, parsed columns, the buffer it refills) while it plays, so it
#: saves ~4 MB of RSS at 1 kHz; reading is a small part of the loop's CPU either way.
REPLAY_BLOCK_BYTES = 1 << 18


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
        block_bytes: int | None = None,
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
        self.block_bytes = block_bytes
        self.healthy = True
        self.health_reason = None  # a file never turns unhealthy (the Imu protocol)
        self._reader = None
        self._blocks = None  # the pass's block iterator
        self._eof = False
        self._buf = (np.empty(0), np.empty((0, 3)), np.empty((0, 3)))  # read, not handed out
        self._i = 0  # next sample of _buf to hand out
        self._prev_t: float | None = None  # the last sample handed out (file time)
        self._t_file0 = 0.0
        self._t0 = None
        self._offset_s = 0.0  # added to file times on each loop

    def open(self) -> None:
        self._start_pass()
        if not self._fill():  # the first block: RecordingError names file and line
            raise SensorError(f"{self.name}: no samples")  # pragma: no cover - reader raises
        t = self._buf[0]
        if np.isnan(self.fs_hz):
            from heelraise.recording import estimate_rate_hz

            self.fs_hz = estimate_rate_hz(t)
        self._t_file0 = float(t[0])
        self._t0 = self.clock()
        self._offset_s = 0.0

    def _start_pass(self) -> None:
        from heelraise.recording import RecordingReader

        self._reader = RecordingReader(self.path, self.block_bytes or REPLAY_BLOCK_BYTES)
        self._blocks = iter(self._reader)
        self._eof = False
        self._prev_t = None

    def _fill(self) -> bool:
        """One more block of the file into the buffer; False at the end of the file."""
        block = next(self._blocks, None)
        if block is None:
            self._eof = True
            return False
        i = self._i
        t, acc, gyr = self._buf
        self._buf = (
            np.concatenate((t[i:], block.t_s)),
            np.concatenate((acc[i:], block.acc_g)),
            np.concatenate((gyr[i:], block.gyr_dps)),
        )
        self._i = 0
        return True

    def _all_due(self, now_file: float) -> bool:
        t = self._buf[0]
        return len(t) == self._i or t[-1] <= now_file

    @property
    def finished(self) -> bool:
        return self._eof and not self.loop and self._i >= len(self._buf[0])

    def read(self) -> SampleBlock:
        if self._t0 is None:
            raise SensorError(f"{self.name}: read() before open()")
        now_file = self._t_file0 + (self.clock() - self._t0) * self.speed - self._offset_s
        while not self._eof and self._all_due(now_file) and self._fill():
            pass  # read on until the buffer holds a sample that is not due yet
        t_all, acc_all, gyr_all = self._buf
        i = self._i
        j = int(t_all.searchsorted(now_file, side="right"))
        if j <= i:
            if self.loop and self._eof and i >= len(t_all):
                self._offset_s += self._reader.duration_s + 1.0 / self.fs_hz
                self._start_pass()
                self._fill()
            return SampleBlock.empty()
        t = t_all[i:j]
        before = self._prev_t if self._prev_t is not None else t[0]
        gap = None
        # No step is longer than the whole read (the times are sorted): most reads, shorter
        # than a hole, need no search for one.
        if t[-1] - before > self.max_gap_s:
            holes = np.flatnonzero(np.diff(t, prepend=before) > self.max_gap_s)
        else:
            holes = ()
        if len(holes):
            # one block carries at most one gap: stop the block at the next hole
            if holes[0] > 0:
                j = i + int(holes[0])
            else:
                gap = Gap(before + self._offset_s, float(t[0]) + self._offset_s, "missing_samples")
                if len(holes) > 1:
                    j = i + int(holes[1])
        self._i = j
        self._prev_t = float(t_all[j - 1])
        return SampleBlock(t_all[i:j] + self._offset_s, acc_all[i:j], gyr_all[i:j], gap)

    def close(self) -> None:
        self._blocks = None
