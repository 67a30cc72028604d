"""CPU and memory of the service over a simulated hour of 1 kHz data, faster than real time.

Builds the service exactly as ``heelraise run --imu sim`` does
(:func:`heelraise.service.assemble.assemble`: coach on MockFactory pins,
JSON-lines sink) but on a virtual clock that jumps over every sleep, so an
hour of sensor data runs as fast as this CPU allows. The shoe is a simulated
session looped for the whole hour (``LoopMotion``), played through the
MPU-6050 register emulator and the real FIFO driver, read every 20 ms.

Printed:
- CPU % of one core per second of sensor data: total, the emulator's share
  (it stands in for the chip, so it costs nothing on the Pi) and the rest:
  driver + analyzer + cues + sinks + loop (target <= 5 %; on a Pi 4 expect
  several times this laptop's figure);
- peak RSS, and RSS at 10 and 60 simulated minutes (no growth wanted).

    python bench/service_cpu.py [--minutes 60]
"""

from __future__ import annotations

import argparse
import io
import resource
import time

import numpy as np
from gpiozero.pins.mock import MockFactory, MockPWMPin
from heelraise.clock import ManualClock
from heelraise.imu.factory import open_imu
from heelraise.service.assemble import assemble
from heelraise.service.config import parse_config
from heelraise.sim import simulate_session

CONFIG = """
[sensor]
type = "sim"
rate_hz = 1000
[tempo]
target = "3-0-2-1"
"""


class LoopMotion:
    """``base`` motion repeated end to end for ``duration_s``."""

    def __init__(self, base, duration_s: float):
        self.base = base
        self.period_s = float(base.duration_s)
        self.duration_s = float(duration_s)

    def sample(self, t_s):
        t_s = np.asarray(t_s, dtype=float)
        return self.base.sample(np.mod(t_s, self.period_s) + float(self.base.t_s[0]))


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


class Timed:
    """Wraps a method to add up the CPU time spent in it."""

    def __init__(self, fn):
        self.fn = fn
        self.cpu_s = 0.0

    def __call__(self, *a, **k):
        t = time.process_time()
        try:
            return self.fn(*a, **k)
        finally:
            self.cpu_s += time.process_time() - t


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=60.0)
    args = p.parse_args()
    duration_s = args.minutes * 60.0

    base = simulate_session(sets=3, reps=10, rate_hz=100.0, seed=7).motion
    clock = ManualClock(10_000.0)
    imu = open_imu(
        "sim",
        motion=LoopMotion(base, duration_s + 60.0),
        fs_hz=1000.0,
        clock=clock,
        sleep=clock.sleep,
    )
    out = io.StringIO()
    parts = assemble(
        parse_config(CONFIG),
        imu=imu,
        clock=clock,
        sleep=clock.sleep,
        json_lines=True,
        stdout=out,
        pin_factory=MockFactory(pin_class=MockPWMPin),
    )
    service = parts.service

    marks = {}
    rss_samples = []
    start_clock = [None]
    real_sleep = clock.sleep
    next_mark = [60.0]
    emulator_reads = []

    def sleep(s):
        if start_clock[0] is None:
            start_clock[0] = clock()
            # the emulator exists once the IMU is open: time its bus transfers
            emu = imu.emulator
            for name in ("read_i2c_block_data", "read_byte_data", "write_byte_data"):
                timed = Timed(getattr(emu, name))
                setattr(emu, name, timed)
                emulator_reads.append(timed)
        elapsed = clock() - start_clock[0]
        if elapsed >= next_mark[0]:
            rss = rss_mb()
            rss_samples.append(rss)
            minute = round(next_mark[0] / 60.0)
            marks[minute] = rss
            if minute % 10 == 0:
                print(f"  {minute:3d} min simulated: RSS {rss:6.1f} MB", flush=True)
            next_mark[0] += 60.0
        real_sleep(s)

    service._sleep = sleep
    rss_before = rss_mb()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    service.run(duration_s=duration_s)
    cpu = time.process_time() - cpu0
    wall = time.perf_counter() - wall0
    marks.setdefault(round(args.minutes), rss_mb())  # the run ends before its last mark
    emu_cpu = sum(t.cpu_s for t in emulator_reads)
    data_s = duration_s
    reps = service.session_summary().rep_count

    print(
        f"service CPU: {args.minutes:g} simulated minutes of 1 kHz data in {wall:.0f} s "
        f"({data_s / wall:.0f}x real time); {reps} reps counted; "
        f"{len(out.getvalue().splitlines())} JSON lines"
    )
    print(f"  CPU per second of data, total            {100 * cpu / data_s:5.2f} % of one core")
    print(f"    the MPU-6050 emulator (not on the Pi)  {100 * emu_cpu / data_s:5.2f} %")
    service_pct = 100 * (cpu - emu_cpu) / data_s
    verdict = "meets" if service_pct <= 5 else "MISSES"
    print(
        f"    driver + analyzer + cues + sinks + loop {service_pct:5.2f} %  "
        f"({verdict} the 5 % target on this machine)"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"  RSS before the run {rss_before:.1f} MB; peak RSS (process) {peak:.1f} MB")
    m10 = marks.get(10)
    m60 = marks.get(round(args.minutes))
    if m10 is not None and m60 is not None:
        print(
            f"  RSS at 10 min {m10:.1f} MB, at {args.minutes:g} min {m60:.1f} MB: "
            f"growth {m60 - m10:+.1f} MB"
        )


if __name__ == "__main__":
    main()
