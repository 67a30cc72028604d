"""A sink that gives the freed C heap back to the system at the end of every set.

An hour of reads leaves malloc's heap holding pages freed by numpy's temporaries and
SQLite (about 1 MB at a time: :mod:`heelraise.heap`), so the service's RSS creeps up;
trimming when a set ends (a pause in training, never while a rep is being decided)
keeps it flatter, for about 0.2 ms a set here (2 ms on a Pi Zero 2 W).
"""

from __future__ import annotations

from heelraise.events import SessionEvent, SetEvent
from heelraise.heap import release_free_heap
from heelraise.service.sinks import EventSink


class HeapTrimSink(EventSink):
    """An EventSink: ``trim()`` (default :func:`~heelraise.heap.release_free_heap`) on every
    set and session event, nothing else."""

    def __init__(self, trim=release_free_heap):
        self._trim = trim

    def on_event(self, event) -> None:
        if isinstance(event, SetEvent | SessionEvent):
            self._trim()
