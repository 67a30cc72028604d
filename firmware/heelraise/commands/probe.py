"""``heelraise probe``: find the IMUs on the I2C bus, name them and self-check them.

Scans 0x68/0x69 (MPU-6050 family, WHO_AM_I at 0x75) and 0x6A/0x6B (LSM6DS,
WHO_AM_I at 0x0F). For each chip found it reads for ``--seconds`` (2) with
the shoe still and reports: gravity magnitude (should be 1 g), gyro bias
(deg/s, should be a few at most), the achieved sample rate against the
configured one, and which sensor axis gravity lies along (so you can check
the mounting). Exit status 0 when every IMU found passes, 1 otherwise.

Two shoes: with exactly two IMUs found (two MPU-6050s at 0x68 and 0x69 with AD0 high on
the second, two LSM6DSOX at 0x6A / 0x6B, or one on each of two buses) it names them
``left`` (the first by bus, then address: AD0 low) and ``right``, and prints the
``[sensor.left]`` / ``[sensor.right]`` config for them (hardware/wiring.md, "Two shoes").

    heelraise probe                      # /dev/i2c-1
    heelraise probe --bus 3
    heelraise probe --bus 1 --bus 3      # two buses, a shoe on each
    heelraise probe --emulate            # an emulated MPU-6050 and LSM6DSOX, no hardware
    heelraise probe --emulate mpu-pair   # two MPU-6050s, 0x68 and 0x69, on one bus
"""

from __future__ import annotations

import errno
import time

HELP = "scan the I2C bus for IMUs and self-check them"

MPU_ADDRESSES = (0x68, 0x69)
LSM_ADDRESSES = (0x6A, 0x6B)
GRAVITY_TOLERANCE_G = 0.1
GYRO_BIAS_LIMIT_DPS = 10.0
RATE_TOLERANCE = 0.1
#: ``--emulate`` kinds: the default two different chips, or a pair for two shoes.
EMULATED = ("chips", "mpu-pair", "lsm-pair", "two-buses")
#: The config's sensor type of each chip family (``[sensor] type``).
SENSOR_TYPE = {"MPU": "mpu6050", "LSM": "lsm6ds"}


def add_arguments(parser) -> None:
    parser.add_argument(
        "--bus",
        type=int,
        action="append",
        help="I2C bus number (default 1); twice for two buses, a shoe on each",
    )
    parser.add_argument("--seconds", type=float, default=2.0, help="self-check length (2 s)")
    parser.add_argument("--fs-hz", type=float, default=100.0, help="rate to check (100 Hz)")
    parser.add_argument(
        "--emulate",
        nargs="?",
        const="chips",
        choices=EMULATED,
        help="probe emulated chips instead of the bus: chips (default: an MPU-6050 and an "
        "LSM6DSOX), mpu-pair (0x68 + 0x69), lsm-pair (0x6A + 0x6B), two-buses",
    )


def run(args) -> int:
    from heelraise.exceptions import SettingsError

    if not args.seconds > 0:
        raise SettingsError(f"--seconds must be positive, got {args.seconds:g}")
    if args.emulate and args.bus:
        raise SettingsError("--emulate probes emulated buses: leave out --bus")
    if args.emulate:
        buses, clock, sleep = _emulated_buses(args.emulate)
    else:
        from heelraise.imu.factory import LazySMBus

        numbers = args.bus or [1]
        if len(set(numbers)) != len(numbers):
            raise SettingsError(f"--bus {numbers}: each bus once")
        buses = [(n, LazySMBus(n)) for n in numbers]
        buses = [(n, b, b.label) for n, b in buses]
        clock, sleep = time.monotonic, time.sleep
    found = []
    for number, bus, label in buses:
        print(f"scanning {label} at 0x68, 0x69, 0x6a, 0x6b")
        found += [(number, bus, label, address, chip) for address, chip in scan(bus)]
    if not found:
        print("no IMU found: check power, SDA/SCL wiring and that I2C is enabled")
        return 1
    ok = True
    for _, bus, label, address, chip in found:
        where = f"{label} " if len(buses) > 1 else ""
        print(f"{where}0x{address:02x}: {chip}")
        if chip.startswith("unknown"):
            ok = False
            continue
        ok &= self_check(bus, address, chip, args, clock, sleep, label)
    imus = [(n, a, c) for n, _, _, a, c in found if not c.startswith("unknown")]
    for line in name_sides(imus):
        print(line)
    return 0 if ok else 1


def name_sides(imus: list[tuple[int, int, str]]) -> list[str]:
    """With two IMUs ((bus, address, chip) each), which is which shoe and the config for it:
    the first by bus, then address (AD0 low) is left. Nothing for one IMU; a warning for
    more than two."""
    if len(imus) < 2:
        return []
    if len(imus) > 2:
        return [f"{len(imus)} IMUs found: two shoes take two, disconnect the others"]
    left, right = sorted(imus)
    lines = ["two IMUs, one per shoe:"]
    for side, (bus, address, chip) in (("left", left), ("right", right)):
        lines.append(f"  {side:<5} = bus {bus} 0x{address:02x} ({chip})")
    lines.append("config (swap the addresses if the shoes are the other way round):")
    for side, (bus, address, chip) in (("left", left), ("right", right)):
        lines += [
            f"  [sensor.{side}]",
            f'  type = "{SENSOR_TYPE[chip[:3]]}"',
            f"  bus = {bus}",
            f"  address = 0x{address:02x}",
        ]
    return lines


def scan(bus) -> list[tuple[int, str]]:
    """(address, part name) of every device answering at an IMU address."""
    from heelraise.imu import lsm6ds_regs, mpu6050_regs

    found = []
    for address in MPU_ADDRESSES + LSM_ADDRESSES:
        mpu = address in MPU_ADDRESSES
        register = mpu6050_regs.WHO_AM_I if mpu else lsm6ds_regs.WHO_AM_I
        try:
            who = bus.read_byte_data(address, register)
        except OSError as e:
            if e.errno not in (errno.EREMOTEIO, errno.ENXIO, errno.EIO, errno.ETIMEDOUT):
                raise
            continue
        table = {w: n for w, (n, _) in mpu6050_regs.CHIPS.items()} if mpu else lsm6ds_regs.CHIPS
        found.append((address, table.get(who, f"unknown device (WHO_AM_I=0x{who:02x})")))
    return found


def self_check(bus, address, chip, args, clock, sleep, label) -> bool:
    import numpy as np

    from heelraise.exceptions import SensorError

    if chip.startswith("MPU"):
        from heelraise.imu.mpu6050 import Mpu6050 as Driver
    else:
        from heelraise.imu.lsm6ds import Lsm6ds as Driver
    imu = Driver(bus, address=address, fs_hz=args.fs_hz, clock=clock, sleep=sleep, bus_label=label)
    try:
        imu.open()
    except SensorError as e:
        print(f"   FAIL  {e}")
        return False
    blocks = []
    t0 = clock()
    try:
        while clock() - t0 < args.seconds:
            sleep(0.02)
            blocks.append(imu.read())
    finally:
        imu.close()
    elapsed = clock() - t0
    n = sum(len(b) for b in blocks)
    if n == 0:
        print("   FAIL  no samples in the FIFO")
        return False
    acc = np.concatenate([b.acc_g for b in blocks if len(b)])
    gyr = np.concatenate([b.gyr_dps for b in blocks if len(b)])
    g = np.linalg.norm(acc, axis=1).mean()
    bias = gyr.mean(axis=0)
    rate = n / elapsed
    mean = acc.mean(axis=0)
    axis = int(np.argmax(np.abs(mean)))
    unit = mean / np.linalg.norm(mean)
    checks = [
        (abs(g - 1) <= GRAVITY_TOLERANCE_G, f"gravity {g:.3f} g (1 +- {GRAVITY_TOLERANCE_G})"),
        (
            np.abs(bias).max() <= GYRO_BIAS_LIMIT_DPS,
            f"gyro bias {bias[0]:+.2f} {bias[1]:+.2f} {bias[2]:+.2f} deg/s "
            f"(limit {GYRO_BIAS_LIMIT_DPS:g}; still shoe assumed)",
        ),
        (
            abs(rate / imu.fs_hz - 1) <= RATE_TOLERANCE,
            f"rate {rate:.1f} Hz of {imu.fs_hz:g} Hz configured ({n} samples in {elapsed:.2f} s)",
        ),
        (
            True,
            f"gravity along {'-' if mean[axis] < 0 else '+'}{'XYZ'[axis]} "
            f"(unit vector {unit[0]:+.2f} {unit[1]:+.2f} {unit[2]:+.2f})",
        ),
    ]
    gaps = [b.gap for b in blocks if b.gap is not None]
    if gaps:
        checks.append((False, f"{len(gaps)} gap(s) in the stream: {gaps[0].reason}"))
    for good, text in checks:
        print(f"   {'ok  ' if good else 'FAIL'}  {text}")
    return all(good for good, _ in checks)


def _emulated_buses(kind: str):
    """[(bus number, bus, label)], clock, sleep for ``--emulate KIND``."""
    if kind == "chips":
        bus, clock, sleep, label = _emulated_bus()
        return [(1, bus, label)], clock, sleep
    from heelraise.clock import ManualClock
    from heelraise.imu.emulator_base import StillMotion
    from heelraise.imu.emulator_bus import EmulatedBus
    from heelraise.imu.emulator_lsm6ds import Lsm6dsEmulator
    from heelraise.imu.emulator_mpu6050 import Mpu6050Emulator

    clock = ManualClock()
    # Two shoes: each sensor strapped on its own way, with its own bias and oscillator.
    left = dict(
        motion=StillMotion((0.17, -0.08, 0.98)),
        rate_error=0.004,
        gyr_bias_dps=(0.8, -1.3, 0.4),
        seed=1,
    )
    right = dict(
        motion=StillMotion((-0.05, 0.96, 0.27)),
        rate_error=-0.007,
        gyr_bias_dps=(-1.1, 0.2, 0.9),
        seed=2,
    )
    common = dict(clock=clock, acc_noise_g=0.003, gyr_noise_dps=0.04, keep_history=False)
    if kind == "mpu-pair":
        chips = (
            Mpu6050Emulator(address=0x68, **left, **common),
            Mpu6050Emulator(address=0x69, **right, **common),
        )
        return [(1, EmulatedBus(*chips), "an emulated bus")], clock, clock.sleep
    if kind == "lsm-pair":
        chips = (
            Lsm6dsEmulator(address=0x6A, **left, **common),
            Lsm6dsEmulator(address=0x6B, **right, **common),
        )
        return [(1, EmulatedBus(*chips), "an emulated bus")], clock, clock.sleep
    one = EmulatedBus(Mpu6050Emulator(address=0x68, **left, **common))
    other = EmulatedBus(Mpu6050Emulator(address=0x68, **right, **common))
    return [(1, one, "emulated bus 1"), (3, other, "emulated bus 3")], clock, clock.sleep


def _emulated_bus():
    from heelraise.clock import ManualClock
    from heelraise.imu.emulator_base import StillMotion
    from heelraise.imu.emulator_bus import EmulatedBus
    from heelraise.imu.emulator_lsm6ds import Lsm6dsEmulator
    from heelraise.imu.emulator_mpu6050 import Mpu6050Emulator

    clock = ManualClock()
    tilted = StillMotion((0.17, -0.08, 0.98))  # a shoe sensor never sits exactly level
    chips = (
        Mpu6050Emulator(
            tilted,
            clock=clock,
            rate_error=0.004,
            acc_noise_g=0.004,
            gyr_noise_dps=0.05,
            gyr_bias_dps=(0.8, -1.3, 0.4),
            keep_history=False,
        ),
        Lsm6dsEmulator(
            StillMotion((0.0, -1.0, 0.02)),
            clock=clock,
            rate_error=-0.006,
            acc_noise_g=0.002,
            gyr_noise_dps=0.03,
            gyr_bias_dps=(-0.2, 0.1, 0.3),
            keep_history=False,
        ),
    )
    return EmulatedBus(*chips), clock, clock.sleep, "an emulated bus"
