"""One shoe as the service loop sees it: its sensor, its signal chain, its holes and health.

Each shoe has its own IMU (own clock), its own :class:`~heelraise.chain.analyzer.Analyzer`
and its own count of holes (``gaps``, ``gap_s``, in its ``state``); ``side`` is "left",
"right" or None (one unnamed sensor). The service keeps one
:class:`~heelraise.service.health.SensorHealth` for the ``health`` message.
:meth:`Shoe.read` reads the sensor once and returns the chain's events, each hole
reported once: a gap the IMU reported is not reported again when the chain finds it
from the timestamps. It is :meth:`Shoe.fetch` (empty the FIFO) then :meth:`Shoe.process`
(feed the chain what was fetched, each run of reads with no hole between in one update),
which the loop calls apart with two shoes.
"""

from __future__ import annotations

import logging

import numpy as np

from heelraise.events import GapEvent
from heelraise.imu.base import Imu
from heelraise.symmetry import check_side

log = logging.getLogger("heelraise.service")

#: A gap the chain finds within this much (s) of one the IMU reported is the same hole.
SAME_GAP_SLACK_S = 0.1


class Shoe:
    def __init__(self, imu: Imu, analyzer, side: str | None = None):
        self.imu = imu
        self.analyzer = analyzer
        self.side = check_side(side, "a shoe's side")
        self.gaps = 0
        self.gap_s = 0.0
        self.sensor_t_s = 0.0
        self.sensor_ok = True
        self.opened = False
        self._known_gap: tuple[float, float] | None = None
        self._fetched: list = []  # blocks read from the FIFO, not yet fed to the chain

    @property
    def label(self) -> str:
        return self.imu.name if self.side is None else f"{self.side}: {self.imu.name}"

    def open(self) -> None:
        self.imu.open()
        self.opened = True

    def read(self) -> list:
        """Read the sensor once; the events of what arrived (gaps first, stream order)."""
        self.fetch()
        return self.process()

    def fetch(self) -> None:
        """Read the sensor's FIFO now; its samples wait for :meth:`process` (a cheap read,
        so the loop can empty every shoe's FIFO between two chains' compute)."""
        block = self.imu.read()
        if block.gap is not None or len(block):
            self._fetched.append(block)

    def process(self, hold: bool = True) -> list:
        """Feed what :meth:`fetch` read to the chain; its events (gaps first, stream order).
        With ``hold``, reads the chain would only gather (``Analyzer.only_gathers``: no rep
        being decided, under its ``batch_s`` with those waiting) stay here and go with a
        later read, in one update: a call costs the chain mostly per call (its checks, its
        bookkeeping), and what it gives is the same however its input is cut."""
        if hold and self._holds():
            self.sensor_t_s = float(self._fetched[-1].t_s[-1])  # read, as if fed
            return []
        events: list = []
        blocks, self._fetched = self._fetched, []
        for gap, t_s, acc_g, gyr_dps in _runs(blocks):
            if gap is not None:
                events += self._imu_gap(gap)
            if len(t_s):
                self.sensor_t_s = float(t_s[-1])
                found = self.analyzer.update(t_s, acc_g, gyr_dps) or []
                events += [e for e in found if not self._is_known_gap(e)]
        for e in events:
            if isinstance(e, GapEvent):
                self.gaps += 1
                self.gap_s += max(0.0, float(e.end_s) - float(e.start_s))
        return events

    def _holds(self) -> bool:
        """May what was fetched wait for a later read? Not with a hole in it (the hole is
        reported when it is read), nor where the chain could flush or decide a rep."""
        blocks = self._fetched
        only_gathers = getattr(self.analyzer, "only_gathers", None)
        if not blocks or only_gathers is None or any(b.gap is not None for b in blocks):
            return False
        return bool(only_gathers(float(blocks[0].t_s[0]), float(blocks[-1].t_s[-1])))

    def hand_over(self) -> list:
        """Feed the chain every read held so far (before a command acts on the chain, or at
        shutdown): its events."""
        return self.process(hold=False)

    @property
    def deciding(self) -> bool:
        """The chain is deciding a rep (``Analyzer.deciding``): its next samples may decide it."""
        return bool(getattr(self.analyzer, "deciding", False))

    def health_changed(self) -> bool | None:
        """The sensor's ``healthy`` now, when it changed since the last call; else None."""
        healthy = bool(self.imu.healthy)
        if healthy == self.sensor_ok:
            return None
        self.sensor_ok = healthy
        where = "" if self.side is None else f" ({self.side})"
        if healthy:
            log.info("sensor%s healthy again", where)
        else:
            log.warning("sensor%s unhealthy: reads keep failing (retrying)", where)
        return healthy

    def _imu_gap(self, gap) -> list:
        log.warning("sensor gap %.3f-%.3f s (%s)", gap.start_s, gap.end_s, gap.reason)
        self._known_gap = (gap.start_s, gap.end_s)
        events = list(self.analyzer.mark_gap(gap.start_s, gap.end_s, gap.reason) or [])
        if not any(isinstance(e, GapEvent) for e in events):
            events.append(GapEvent(gap.start_s, gap.end_s, gap.reason, t_s=gap.end_s))
        return events

    def finish(self) -> list:
        """The chain's last events at shutdown (what was read and not yet fed first; the open
        set closes)."""
        if not self.opened:
            return []
        return self.hand_over() + list(self.analyzer.finish() or [])

    def _is_known_gap(self, event) -> bool:
        """The chain found again (from the timestamps) a hole the IMU already reported."""
        if (
            not isinstance(event, GapEvent)
            or self._known_gap is None
            or event.reason != "missing_samples"
        ):
            return False
        start_s, end_s = self._known_gap
        return (
            event.start_s <= end_s + SAME_GAP_SLACK_S and event.end_s >= start_s - SAME_GAP_SLACK_S
        )


def _runs(blocks: list):
    """``(gap, t_s, acc_g, gyr_dps)`` of each run of blocks read one after the other with no
    hole between (a block reporting a hole starts a run): one chain update a run (the chain
    gives the same events however its input is cut; a call costs it mostly per call)."""
    runs: list[tuple] = []
    for block in blocks:
        if block.gap is not None or not runs:
            runs.append((block.gap, [block]))
        else:
            runs[-1][1].append(block)
    for gap, run in runs:
        if len(run) == 1:
            yield gap, run[0].t_s, run[0].acc_g, run[0].gyr_dps
        else:
            yield (
                gap,
                np.concatenate([b.t_s for b in run]),
                np.concatenate([b.acc_g for b in run]),
                np.concatenate([b.gyr_dps for b in run]),
            )
