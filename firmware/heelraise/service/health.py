"""Sensor health and the stream's holes, as the device publishes them (``health`` message).

The service feeds every reported gap and every change of the driver's ``healthy`` flag to
one :class:`SensorHealth`; :meth:`SensorHealth.due` says when a ``health`` snapshot is to be
sent: at once when ``healthy`` changed, else (a new gap) at most every
``HEALTH_MIN_INTERVAL_S``, so a sensor that keeps dropping out cannot flood the broker.

>>> h = SensorHealth()
>>> h.add_gap(10.0, 10.2, "i2c_error"); h.due(0.0)["gaps"]
1
>>> h.add_gap(11.0, 11.5, "i2c_error"); h.due(0.5) is None    # within a second: later
True
>>> round(h.due(1.0)["gap_s"], 3)
0.7
>>> h.set_healthy(False, "stuck"); h.due(1.1)["reason"]       # health changed: at once
'sensor stuck: the same sample repeated'
"""

from __future__ import annotations

#: A ``health`` message only for new gaps goes out at most this often (s of the service's
#: clock): a bus that drops out every read would otherwise send 50 messages a second.
HEALTH_MIN_INTERVAL_S = 1.0

#: The driver's ``health_reason`` -> the short text the ``health`` message carries.
REASON_TEXT = {
    "stuck": "sensor stuck: the same sample repeated",
    "zeros": "sensor reports all-zero words",
    "read_failures": "sensor reads keep failing",
}


class SensorHealth:
    """Counts this session's gaps and holds the sensor's health (see the module docstring)."""

    def __init__(self, min_interval_s: float = HEALTH_MIN_INTERVAL_S):
        self.min_interval_s = float(min_interval_s)
        self.healthy = True
        self.reason: str | None = None
        self.gaps = 0
        self.gap_s = 0.0
        self.last_gap: dict | None = None
        self._changed = True  # the first snapshot goes out at the first due()
        self._health_changed = False
        self._sent_at: float | None = None

    def add_gap(self, start_s: float, end_s: float, kind: str) -> None:
        self.gaps += 1
        self.gap_s += max(0.0, float(end_s) - float(start_s))
        self.last_gap = {
            "kind": str(kind),
            "start_s": round(float(start_s), 3),
            "end_s": round(float(end_s), 3),
        }
        self._changed = True

    def set_healthy(self, healthy: bool, reason: str | None = None) -> None:
        healthy = bool(healthy)
        text = None if healthy else REASON_TEXT.get(reason or "", reason or "sensor unhealthy")
        if healthy == self.healthy and text == self.reason:
            return
        self._health_changed = self._health_changed or healthy != self.healthy
        self.healthy, self.reason = healthy, text
        self._changed = True

    def snapshot(self) -> dict:
        """The ``health`` body: healthy, reason, gaps, gap_s, last_gap."""
        return {
            "healthy": self.healthy,
            "reason": self.reason,
            "gaps": self.gaps,
            "gap_s": round(self.gap_s, 3),
            "last_gap": None if self.last_gap is None else dict(self.last_gap),
        }

    def due(self, now_s: float) -> dict | None:
        """The snapshot to send now, or None (nothing new, or a gap within the interval)."""
        if not self._changed:
            return None
        recent = self._sent_at is not None and now_s - self._sent_at < self.min_interval_s
        if recent and not self._health_changed:
            return None
        self._changed = self._health_changed = False
        self._sent_at = float(now_s)
        return self.snapshot()
