"""MPU-6050 / MPU-6500 / MPU-9250 driver: accel + gyro through the FIFO over I2C.

Wiring (Raspberry Pi, I2C bus 1)::

    MPU-6050   Pi header
    VCC    ->  pin 1 (3.3 V)
    GND    ->  pin 6
    SDA    ->  pin 3 (GPIO2, SDA1)
    SCL    ->  pin 5 (GPIO3, SCL1)
    AD0    ->  GND for address 0x68, 3.3 V for 0x69

Enable I2C (``raspi-config`` > Interface Options > I2C), then ``heelraise
probe`` should name the chip. Example::

    >>> from smbus2 import SMBus                         # doctest: +SKIP
    >>> imu = Mpu6050(SMBus(1), fs_hz=100)               # doctest: +SKIP
    >>> imu.open(); block = imu.read()                   # doctest: +SKIP

On a laptop, the same code runs against the register-level emulator::

    >>> from heelraise.clock import ManualClock
    >>> from heelraise.imu.emulator_mpu6050 import Mpu6050Emulator
    >>> clock = ManualClock()
    >>> imu = Mpu6050(Mpu6050Emulator(clock=clock), fs_hz=100, clock=clock, sleep=clock.sleep)
    >>> imu.open(); clock.advance(0.5); len(imu.read())
    50

Settings: ``fs_hz`` must be 1000/n (DLPF on; the DLPF bandwidth is then the
largest of 188/98/42/20/10/5 Hz below fs/2) or 8000/n (DLPF off, e.g. 400 Hz):
anything else raises SettingsError naming the nearest rates. Ranges default
to +-4 g and +-1000 deg/s: a heel raise stays far below both, and a shoe
strike stays mostly inside them.

The FIFO holds accel + gyro, 12 bytes a sample (1024 bytes = 85 samples on the
MPU-6050: 85 ms at 1 kHz). Each read takes the FIFO level, then the whole
samples it counted in block reads of at most 32 bytes (smbus2's limit), so no
sample is read twice and none is skipped; an overflow (INT_STATUS
FIFO_OFLOW_INT, or a level too full to read safely, or not a multiple of 12)
resets the FIFO and reports the gap.
"""

from __future__ import annotations

import time

import numpy as np

from heelraise.exceptions import SensorError, SettingsError
from heelraise.imu import mpu6050_regs as R
from heelraise.imu.fifo_imu import FifoImu, check_chip_settings

BLOCK_MAX = 32


def rate_settings(fs_hz: float, dlpf_cfg: int | None = None) -> tuple[int, int, float]:
    """(DLPF_CFG, SMPLRT_DIV, actual rate) for a requested output rate in Hz."""
    if not fs_hz > 0:
        raise SettingsError(f"fs_hz must be positive, got {fs_hz!r}")
    candidates = []
    for base, cfgs in ((1000.0, (1, 2, 3, 4, 5, 6)), (8000.0, (0,))):
        div = round(base / fs_hz) - 1
        if 0 <= div <= 255 and abs(base / (1 + div) - fs_hz) < 1e-6 * fs_hz:
            if dlpf_cfg is not None:
                if dlpf_cfg not in cfgs and not (base == 8000.0 and dlpf_cfg == 7):
                    continue
                return dlpf_cfg, div, base / (1 + div)
            if base == 1000.0:
                # widest bandwidth below Nyquist keeps the motion and stops aliasing
                ok = [c for c in cfgs if R.DLPF_BANDWIDTH_HZ[c] < fs_hz / 2]
                cfg = ok[0] if ok else 6
            else:
                cfg = 0
            return cfg, div, base / (1 + div)
        d0 = base / fs_hz - 1
        candidates += [base / (1 + d) for d in (int(d0), int(d0) + 1) if 0 <= d <= 255]
    near = sorted({round(c, 2) for c in candidates if c > 0}, key=lambda c: abs(c - fs_hz))[:3]
    extra = f" with dlpf_cfg={dlpf_cfg}" if dlpf_cfg is not None else ""
    raise SettingsError(
        f"fs_hz={fs_hz:g} is not a rate the MPU-6050 can make{extra} (1000/n Hz with the DLPF "
        f"on, 8000/n Hz with it off); nearest: {', '.join(f'{c:g}' for c in near)}"
    )


class Mpu6050(FifoImu):
    """An MPU-6050 family chip on an I2C ``bus`` (smbus2.SMBus or an emulator)."""

    def __init__(
        self,
        bus,
        *,
        address: int = 0x68,
        fs_hz: float = 100.0,
        accel_range_g: int = 4,
        gyro_range_dps: int = 1000,
        dlpf_cfg: int | None = None,
        clock=time.monotonic,
        sleep=time.sleep,
        **options,
    ):
        check_chip_settings(
            "MPU-6050",
            address,
            (0x68, 0x69),
            accel_range_g,
            R.ACCEL_RANGES_G,
            gyro_range_dps,
            R.GYRO_RANGES_DPS,
        )
        self.dlpf_cfg, self.smplrt_div, actual = rate_settings(fs_hz, dlpf_cfg)
        super().__init__(bus, address=address, fs_hz=fs_hz, clock=clock, sleep=sleep, **options)
        self.fs_hz = actual
        self.accel_range_g = accel_range_g
        self.gyro_range_dps = gyro_range_dps
        self._afs = R.ACCEL_RANGES_G[accel_range_g]
        self._gfs = R.GYRO_RANGES_DPS[gyro_range_dps]
        self._acc_lsb = R.accel_lsb_per_g(self._afs)
        self._gyr_lsb = R.gyro_lsb_per_dps(self._gfs)
        self.chip = None
        self.fifo_bytes = 1024
        self.name = f"MPU-6050 @0x{self.address:02x}{self._on_bus()}"

    def _identify(self) -> str:
        who = self._rb(R.WHO_AM_I)
        if who not in R.CHIPS:
            raise SensorError(
                f"device at 0x{self.address:02x}{self._on_bus()} answers WHO_AM_I=0x{who:02x}, "
                f"not an MPU-6050/6500/9250 ({', '.join(f'0x{w:02x}' for w in R.CHIPS)})"
            )
        self.chip, self.fifo_bytes = R.CHIPS[who]
        self.name = f"{self.chip} @0x{self.address:02x}{self._on_bus()}"
        return self.name

    def _reset_chip(self) -> None:
        self._wb(R.PWR_MGMT_1, R.PWR_DEVICE_RESET)
        self.sleep(0.1)  # the register map asks for 100 ms after DEVICE_RESET

    def _configure(self) -> None:
        # wake first: some MPU-6500 parts ignore config writes while asleep
        self._wb(R.PWR_MGMT_1, R.CLKSEL_PLL_XGYRO)
        self._wb(R.PWR_MGMT_2, 0x00)
        self._wb(R.USER_CTRL, 0x00)  # FIFO off while the rate changes
        self._wb(R.FIFO_EN, 0x00)
        self._wb(R.CONFIG, self.dlpf_cfg)
        self._wb(R.SMPLRT_DIV, self.smplrt_div)
        self._wb(R.GYRO_CONFIG, self._gfs << 3)
        self._wb(R.ACCEL_CONFIG, self._afs << 3)
        if self.chip in ("MPU-6500", "MPU-9250"):
            self._wb(R.ACCEL_CONFIG2, min(self.dlpf_cfg, 6) if self.dlpf_cfg else 0)
        self._wb(R.INT_ENABLE, R.INT_FIFO_OFLOW)
        self._wb(R.FIFO_EN, R.FIFO_EN_ACCEL_GYRO)

    def _is_configured(self) -> bool:
        pwr = self._rb(R.PWR_MGMT_1)
        user = self._rb(R.USER_CTRL)
        fifo_en = self._rb(R.FIFO_EN)
        return (
            not (pwr & R.PWR_SLEEP)
            and bool(user & R.USER_FIFO_EN)
            and fifo_en == R.FIFO_EN_ACCEL_GYRO
        )

    def _fifo_reset(self) -> None:
        self._wb(R.USER_CTRL, R.USER_FIFO_RESET)  # FIFO_EN off while resetting
        self._rb(R.INT_STATUS)  # drop a stale overflow flag
        self._wb(R.USER_CTRL, R.USER_FIFO_EN)

    def _poll(self):
        status = self._rb(R.INT_STATUS)
        hi, lo = self._rblock(R.FIFO_COUNTH, 2)
        t_obs = self.clock()
        count = (hi << 8) | lo
        # a FIFO that cannot take one more sample may be overwriting while we read it
        overflow = bool(status & R.INT_FIFO_OFLOW) or count + R.SAMPLE_BYTES > self.fifo_bytes
        misaligned = count % R.SAMPLE_BYTES != 0
        return overflow, misaligned, count // R.SAMPLE_BYTES, t_obs

    def _drain(self, n: int):
        want = n * R.SAMPLE_BYTES
        data = bytearray()
        while len(data) < want:
            data += bytes(self._rblock(R.FIFO_R_W, min(BLOCK_MAX, want - len(data))))
        raw = np.frombuffer(bytes(data), dtype=">i2").reshape(n, 6).astype(float)
        return raw[:, :3] / self._acc_lsb, raw[:, 3:] / self._gyr_lsb

    def _sleep_chip(self) -> None:
        self._wb(R.USER_CTRL, 0x00)
        self._wb(R.PWR_MGMT_1, R.PWR_SLEEP)
