"""Where the service's events go: the sink interface, and the console / JSON-lines sinks.

The service calls, from its single loop thread, for every sink:
``on_event(event)`` for each :class:`~heelraise.events.RepEvent`,
:class:`~heelraise.events.SetEvent`, :class:`~heelraise.events.GapEvent` and
the session end, ``on_state(state)`` when the snapshot changes, ``on_live(t_s,
pitch_deg, phase)`` at up to 25 Hz when live output is on, and ``close()`` once
at shutdown (flush). A sink must never block the loop for long: network sinks
queue and return.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class EventSink(Protocol):
    def on_event(self, event) -> None: ...

    def on_state(self, state: dict) -> None: ...

    def on_live(self, t_s: float, pitch_deg: float, phase: str) -> None: ...

    def close(self) -> None: ...
