"""Live output: whether the live pitch stream is on, and its decimation, held in one place.

The stream is asked for in one config place, ``[mqtt] live`` (at ``[mqtt] live_hz``,
at most :data:`MAX_LIVE_HZ`), and switched at run time by the ``set_live`` command;
the loop asks :meth:`LiveOutput.due` after each read and hands the sinks only the
samples it says yes to (the MQTT publisher batches whatever it is given)::

    >>> live = LiveOutput(on=True, rate_hz=10.0)
    >>> [t for t in (0.0, 0.02, 0.04, 0.1, 0.12, 0.2) if live.due(t)]
    [0.0, 0.1, 0.2]
    >>> live.set(False); live.due(0.3)
    False
"""

from __future__ import annotations

import math

from heelraise.exceptions import SettingsError
from heelraise.mqtt.settings import MAX_LIVE_HZ


class LiveOutput:
    """On/off and the due times of the live stream (sensor seconds)."""

    def __init__(self, on: bool = False, rate_hz: float = 10.0):
        if (
            isinstance(rate_hz, bool)
            or not isinstance(rate_hz, (int, float))
            or not 0 < rate_hz <= MAX_LIVE_HZ
        ):
            raise SettingsError(
                f"live rate_hz must be above 0 and at most {MAX_LIVE_HZ:g}, not {rate_hz!r}"
            )
        self.on = bool(on)
        self.period_s = 1.0 / float(rate_hz)
        self._next_s = -math.inf

    def set(self, on: bool) -> None:
        """Switch the stream; the next sample after switching on is due at once."""
        self.on = bool(on)
        self._next_s = -math.inf

    def due(self, t_s: float) -> bool:
        """True when a sample at ``t_s`` is to be sent (at most one per period; due times
        advance by whole periods, so the rate is ``rate_hz`` on average)."""
        if not self.on or t_s < self._next_s - 1e-6:
            return False
        late = t_s - self._next_s
        behind = late >= self.period_s  # a pause: start again from this sample
        self._next_s = (t_s if behind else self._next_s) + self.period_s
        return True
