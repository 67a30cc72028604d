"""The service gives malloc's freed heap back at every set and session end, and only then."""

from __future__ import annotations

import platform

import numpy as np
from heelraise.clock import ManualClock
from heelraise.events import GapEvent, SessionEvent, SessionSummary
from heelraise.heap import release_free_heap
from heelraise.mqtt.testing import fake_set
from heelraise.service.assemble import assemble
from heelraise.service.config import parse_config
from heelraise.service.heaptrim import HeapTrimSink
from heelraise.service.testing import ArrayImu


def test_the_heap_is_trimmed_on_set_and_session_events_only():
    trims = []
    sink = HeapTrimSink(trim=lambda: trims.append(1))
    events = fake_set(1, 3)  # three reps, then the set
    for event in events:
        sink.on_event(event)
        assert len(trims) == (event.kind == "set")
        trims.clear()
    sink.on_event(GapEvent(1.0, 2.0, "fifo_overflow"))
    sink.on_state({"mode": "free"})
    sink.on_live(1.0, 2.0, "still")
    sink.on_health({"sensor": "ok"})
    assert trims == []
    sink.on_event(SessionEvent(SessionSummary(sets=[]), t_s=3.0))
    assert trims == [1]


def test_release_free_heap_trims_under_glibc():
    """glibc (this machine, Raspberry Pi OS) has malloc_trim; elsewhere it says it did nothing."""
    expected = platform.libc_ver()[0] == "glibc"
    assert release_free_heap() is expected


def test_the_assembled_service_trims_after_every_other_sink():
    config = parse_config('[device]\nid = "trim-shoe"\n', "test.toml")
    clock = ManualClock()
    n = 200
    t = np.arange(n) / 100.0
    acc = np.tile([0.0, 0.0, 1.0], (n, 1))
    imu = ArrayImu(t, acc, np.zeros((n, 3)), clock=clock)
    parts = assemble(config, imu=imu, clock=clock, sleep=clock.sleep, cues=False, stdout=None)
    assert isinstance(parts.service.sinks[-1], HeapTrimSink)
    assert sum(isinstance(s, HeapTrimSink) for s in parts.service.sinks) == 1
