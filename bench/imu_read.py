"""CPU cost of the MPU-6050 driver: reading the emulator at 1 kHz in 20 ms reads.

Prints the driver's and the emulator's share per second of data. The
emulator's own cost (making samples, its register file) is measured separately
and subtracted, so the figure is what the driver would spend on a Pi's bus
minus the bus transfer time itself.

    python bench/imu_read.py [seconds_of_data]
"""

from __future__ import annotations

import sys
import time

from heelraise.clock import ManualClock
from heelraise.imu.emulator_mpu6050 import Mpu6050Emulator
from heelraise.imu.mpu6050 import Mpu6050
from heelraise.imu.testing import WobbleMotion


def main(seconds: float = 30.0) -> None:
    clock = ManualClock()
    emu = Mpu6050Emulator(WobbleMotion(), clock=clock, keep_history=False)
    imu = Mpu6050(emu, fs_hz=1000, clock=clock, sleep=clock.sleep)
    imu.open()
    reads = int(seconds / 0.02)
    emu_cpu = 0.0
    start = time.process_time()
    n = 0
    for _ in range(reads):
        clock.advance(0.02)
        t0 = time.process_time()
        emu._catch_up()  # the emulator's sample production, timed on its own
        emu_cpu += time.process_time() - t0
        n += len(imu.read())
    total = time.process_time() - start
    driver = total - emu_cpu
    per_s = driver / seconds
    print(f"{n} samples ({seconds:g} s of data at 1 kHz) in {reads} reads of 20 ms")
    print(f"transfers: {emu.transfers} ({emu.transfers / reads:.1f} per read)")
    print(
        f"driver + emulator register file: {per_s * 1000:.2f} ms CPU per s of data "
        f"({per_s * 100:.2f} % of one core)"
    )
    print(f"emulator sample production (excluded): {emu_cpu / seconds * 1000:.2f} ms per s")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 30.0)
