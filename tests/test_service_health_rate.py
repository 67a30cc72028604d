"""A bus that drops out at every read cannot flood the broker: health at most once a second,
but a change of health goes out at once, and the last gaps are sent at shutdown."""

from __future__ import annotations

from heelraise.clock import ManualClock
from heelraise.imu.base import Gap, SampleBlock
from heelraise.service.assemble import build_service
from heelraise.service.config import parse_config
from heelraise.service.health import HEALTH_MIN_INTERVAL_S
from heelraise.service.sinks import EventSink


class FlakyImu:
    """No samples; a 10 ms hole at every read; unhealthy from clock 3 s to 4 s."""

    name, fs_hz = "flaky", 100.0

    def __init__(self, clock):
        self.clock = clock
        self.healthy = True
        self.health_reason = None

    def open(self):
        pass

    def read(self):
        now = self.clock()
        self.healthy = not 3.0 <= now < 4.0
        self.health_reason = None if self.healthy else "read_failures"
        return SampleBlock.empty(Gap(now - 0.01, now, "i2c_error"))

    def close(self):
        pass


class HealthSink(EventSink):
    def __init__(self, clock):
        self.clock, self.sent = clock, []

    def on_health(self, health):
        self.sent.append((self.clock(), health))


def test_health_is_rate_limited_but_a_change_goes_out_at_once():
    clock = ManualClock(0.0)
    sink = HealthSink(clock)
    service = build_service(
        parse_config(""), imu=FlakyImu(clock), sinks=[sink], clock=clock, sleep=clock.sleep
    )
    service.run(duration_s=6.0)  # 300 reads, 300 gaps
    times = [t for t, _ in sink.sent]
    flags = [h["healthy"] for _, h in sink.sent]
    assert len(sink.sent) <= 6.0 / HEALTH_MIN_INTERVAL_S + 4  # not 300
    assert flags[0] is True and False in flags and flags[-1] is True
    # the change to unhealthy and back went out within one read of happening
    went_bad = times[flags.index(False)]
    back = times[len(flags) - 1 - flags[::-1].index(False) + 1]
    assert 3.0 <= went_bad <= 3.03 and 4.0 <= back <= 4.03
    assert sink.sent[flags.index(False)][1]["reason"] == "sensor reads keep failing"
    # the final one, sent at shutdown whatever the limit, counts every gap
    assert sink.sent[-1][1]["gaps"] == service.health.gaps >= 299
    assert service.state()["gaps"] == service.health.gaps
