"""A stuck sensor and all-zero words are caught from the data: gap, unhealthy, re-init."""

from __future__ import annotations

import pytest
from heelraise.clock import ManualClock
from heelraise.imu.emulator_mpu6050 import Mpu6050Emulator, StillMotion
from heelraise.imu.fifo_imu import STUCK_AFTER_S
from heelraise.imu.mpu6050 import Mpu6050


def noisy_chip(clock):
    """An MPU-6050 lying still with the LSB noise every live chip has."""
    emu = Mpu6050Emulator(
        StillMotion(), clock=clock, acc_noise_g=0.004, gyr_noise_dps=0.08, keep_history=False
    )
    imu = Mpu6050(emu, fs_hz=100, clock=clock, sleep=clock.sleep, stuck_after_s=STUCK_AFTER_S)
    imu.open()
    return emu, imu


def read_for(imu, clock, seconds):
    blocks, health = [], []
    for _ in range(int(round(seconds / 0.02))):
        clock.advance(0.02)
        blocks.append(imu.read())
        health.append(imu.healthy)
    return blocks, health


@pytest.mark.parametrize(
    ("fault", "seconds", "reason"),
    [("freeze", 10.0, "stuck"), ("freeze", 120.0, "stuck"), ("zero_words", 10.0, "zeros")],
)
def test_a_stuck_or_zero_sensor_is_a_gap_unhealthy_and_reinitialised(fault, seconds, reason):
    clock = ManualClock(100.0)
    emu, imu = noisy_chip(clock)
    before, health = read_for(imu, clock, 5.0)
    assert all(health) and sum(len(b) for b in before) >= 490
    last_good = before[-1].t_s[-1]
    getattr(emu, fault)(seconds)
    during, health = read_for(imu, clock, seconds)
    delivered = [b for b in during if len(b)]
    # at most STUCK_AFTER_S of repeats is let through (zeros: none); never the whole fault
    let_through = sum(len(b) for b in delivered)
    assert let_through <= (STUCK_AFTER_S * 100 + 2 if fault == "freeze" else 0)
    assert not health[-1] and health.count(False) >= len(health) - 60  # unhealthy within 1.2 s
    assert imu.stats.reinits >= 1  # the driver tried to bring the chip back
    after, health = read_for(imu, clock, 3.0)
    assert health[-1]  # live samples again: healthy
    gaps = [b.gap for b in before + during + after if b.gap is not None]
    assert gaps, "the hole was not reported"
    stuck = [g for g in gaps if g.reason == reason]
    assert len(stuck) == 1
    hole_s = stuck[0].end_s - stuck[0].start_s
    assert seconds - STUCK_AFTER_S - 0.1 <= hole_s <= seconds + 0.2
    assert stuck[0].start_s >= last_good
    assert sum(len(b) for b in after) >= 250  # the stream goes on


def test_a_live_noisy_chip_never_looks_stuck():
    clock = ManualClock(0.0)
    _emu, imu = noisy_chip(clock)
    blocks, health = read_for(imu, clock, 30.0)
    assert all(health) and not any(b.gap for b in blocks)
    assert sum(len(b) for b in blocks) >= 2990


def test_a_stuck_sensor_in_the_running_service_gives_a_gap_and_the_trouble_cue():
    from heelraise.imu.sim import SimImu
    from heelraise.service.assemble import build_service
    from heelraise.service.config import parse_config
    from heelraise.service.sinks import EventSink

    class Coach:
        def __init__(self):
            self.sensor_ok = []

        def set_sensor_ok(self, ok):
            self.sensor_ok.append(ok)

        def on_event(self, event):
            pass

        def on_state(self, state):
            pass

        def tick(self, now_s):
            pass

        def stop(self):
            pass

        def close(self):
            pass

    class Sink(EventSink):
        def __init__(self):
            self.gaps = []

        def on_event(self, event):
            if event.kind == "gap":
                self.gaps.append(event)

    clock = ManualClock(1000.0)
    imu = SimImu(
        StillMotion(duration_s=30.0), clock=clock, sleep=clock.sleep, stuck_after_s=STUCK_AFTER_S
    )
    real_read = imu.read

    def read():
        if clock() >= 1005.0 and not getattr(imu, "_frozen", False):
            imu._frozen = True
            imu.emulator.freeze(10.0)
        return real_read()

    imu.read = read
    coach, sink = Coach(), Sink()
    service = build_service(
        parse_config(""),
        imu=imu,
        coach=coach,
        sinks=[sink],
        clock=clock,
        sleep=clock.sleep,
        stop_when_exhausted=True,
    )
    service.run()
    assert coach.sensor_ok == [False, True]  # the trouble cue on, then off when it recovered
    stuck = [g for g in sink.gaps if g.reason == "stuck"]
    assert len(stuck) == 1 and 8.5 <= stuck[0].end_s - stuck[0].start_s <= 10.3
