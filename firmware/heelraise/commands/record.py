"""``heelraise record OUT.csv``: capture raw IMU samples to a recording file.

Rows are written and flushed as they arrive, so Ctrl-C (or a pulled plug)
loses nothing already read. A hole in the stream is written as a comment
line (``# gap start_s=... end_s=... reason=...``), never papered over. A
progress line on stderr shows elapsed time, samples, achieved rate and FIFO
overflows.

    heelraise record session.csv --seconds 120                 # MPU-6050 on /dev/i2c-1
    heelraise record sim.csv --imu sim --seconds 30 --fast     # no hardware, no waiting
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

from heelraise.commands import argtypes

HELP = "capture raw IMU samples to a recording file"


def add_arguments(parser) -> None:
    parser.add_argument("out", metavar="OUT.csv", help="recording file to write")
    parser.add_argument("--seconds", type=float, default=None, help="stop after N s (Ctrl-C)")
    parser.add_argument(
        "--imu",
        default="mpu6050",
        metavar="KIND",
        help="mpu6050 (default), lsm6ds, sim, emulated or replay:FILE",
    )
    parser.add_argument("--bus", type=int, default=1, help="I2C bus number (default 1)")
    parser.add_argument("--address", type=argtypes.i2c_address, default=None, help="e.g. 0x69")
    parser.add_argument("--fs-hz", type=float, default=100.0, help="sample rate (default 100)")
    parser.add_argument(
        "--fast",
        action="store_true",
        help="sim/emulated/replay only: run on a virtual clock, as fast as possible",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress line")


def run(args) -> int:
    from heelraise.clock import ManualClock
    from heelraise.exceptions import SettingsError
    from heelraise.imu.factory import open_imu

    if args.seconds is not None and not args.seconds > 0:
        raise SettingsError(f"--seconds must be positive, got {args.seconds:g}")
    hardware = args.imu in ("mpu6050", "lsm6ds")
    if args.fast and hardware:
        raise SettingsError("--fast needs a sim, emulated or replay source, not real hardware")
    if args.fast and args.seconds is None and not args.imu.startswith("replay:"):
        raise SettingsError("--fast without --seconds would never stop; give --seconds")
    if args.fast:
        clock = ManualClock()
        sleep = clock.sleep
    else:
        clock, sleep = time.monotonic, time.sleep
    options = {"clock": clock}
    if hardware:
        options["bus"] = args.bus
        if args.address is not None:
            options["address"] = args.address
    if not args.imu.startswith("replay:"):
        options["fs_hz"] = args.fs_hz
        options["sleep"] = sleep
    imu = open_imu(args.imu, **options)
    imu.open()
    try:
        return _record(imu, args, clock, sleep)
    finally:
        imu.close()


def _record(imu, args, clock, sleep) -> int:
    from heelraise.recording import HEADER

    started = datetime.now(UTC).isoformat(timespec="seconds")
    n = 0
    gaps = 0
    t_start = clock()
    last_progress = -1.0
    stats = getattr(imu, "stats", None)
    interrupted = False
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        f.write(f"# recorded by heelraise record from {imu.name}\n")
        f.write(f"# sample_rate_hz={imu.fs_hz:g}\n# imu={args.imu}\n# started={started}\n")
        f.write(HEADER + "\n")
        f.flush()
        try:
            while True:
                elapsed = clock() - t_start
                if args.seconds is not None and elapsed >= args.seconds:
                    break
                if getattr(imu, "finished", False):
                    break
                block = imu.read()
                if block.gap is not None:
                    g = block.gap
                    gaps += 1
                    f.write(
                        f"# gap start_s={g.start_s:.6f} end_s={g.end_s:.6f} reason={g.reason}\n"
                    )
                if len(block):
                    f.write(_rows(block))
                    f.flush()
                    n += len(block)
                if not args.quiet and elapsed - last_progress >= 0.5:
                    last_progress = elapsed
                    _progress(elapsed, n, stats, gaps, imu)
                sleep(0.02)
        except KeyboardInterrupt:
            interrupted = True
    elapsed = clock() - t_start
    if not args.quiet:
        _progress(elapsed, n, stats, gaps, imu)
        sys.stderr.write("\n")
    how = "stopped by Ctrl-C" if interrupted else "done"
    print(f"{args.out}: {n} samples in {elapsed:.1f} s ({how}; {gaps} gap(s))")
    return 0


def _rows(block) -> str:
    import numpy as np

    data = np.column_stack([block.t_s, block.acc_g, block.gyr_dps])
    return "".join(
        f"{r[0]:.6f},{r[1]:.6f},{r[2]:.6f},{r[3]:.6f},{r[4]:.4f},{r[5]:.4f},{r[6]:.4f}\n"
        for r in data
    )


def _progress(elapsed, n, stats, gaps, imu) -> None:
    rate = n / elapsed if elapsed > 0 else 0.0
    overflows = stats.overflows if stats is not None else 0
    health = "" if getattr(imu, "healthy", True) else "  SENSOR NOT ANSWERING"
    sys.stderr.write(
        f"\r{elapsed:7.1f} s  {n:8d} samples  {rate:7.1f} Hz  "
        f"overflows {overflows}  gaps {gaps}{health}   "
    )
    sys.stderr.flush()
