"""``open_imu(kind, **options)``: one place that turns ``--imu KIND`` into an Imu.

Kinds:

===============  ==========================================================
``mpu6050``      MPU-6050/6500/9250 on I2C ``bus`` (number, default 1) at ``address``
``lsm6ds``       LSM6DSOX / LSM6DS3 on I2C ``bus`` at ``address`` (default 0x6A)
``sim``          a simulated session through the MPU-6050 emulator + driver
``emulated``     the MPU-6050 emulator lying still (``motion=`` to move it)
``replay:FILE``  a recording played back (``speed=``, ``loop=``)
===============  ==========================================================

Options are passed to the source (``fs_hz``, ``clock``, ``sleep``, ranges,
retries ...); an option the source does not take raises SettingsError naming
it. The returned source is not opened yet: call ``open()`` (real chips touch
the bus only then; ``smbus2.SMBus`` is created lazily on the first transfer).

    >>> imu = open_imu("sim", fs_hz=100)
    >>> imu.name
    'simulated MPU-6050 (emulator)'
"""

from __future__ import annotations

import inspect

from heelraise.exceptions import SensorError, SettingsError
from heelraise.imu.fifo_imu import STUCK_AFTER_S

KINDS = ("mpu6050", "lsm6ds", "sim", "emulated", "replay:FILE")


class LazySMBus:
    """``smbus2.SMBus(bus_number)``, opened on the first transfer, with clear errors."""

    def __init__(self, bus_number: int = 1):
        self.bus_number = int(bus_number)
        self.label = f"/dev/i2c-{self.bus_number}"
        self._bus = None

    def _get(self):
        if self._bus is None:
            try:
                from smbus2 import SMBus
            except ImportError as e:  # pragma: no cover - smbus2 is a dependency
                raise SensorError("smbus2 is not installed (pip install smbus2)") from e
            try:
                self._bus = SMBus(self.bus_number)
            except FileNotFoundError:
                raise SensorError(
                    f"{self.label} does not exist: enable I2C (raspi-config > Interface "
                    f"Options > I2C) or choose another bus number"
                ) from None
            except PermissionError:
                raise SensorError(
                    f"no permission to open {self.label}: add the user to the 'i2c' group"
                ) from None
        return self._bus

    def read_byte_data(self, *a, **k):
        return self._get().read_byte_data(*a, **k)

    def write_byte_data(self, *a, **k):
        return self._get().write_byte_data(*a, **k)

    def read_i2c_block_data(self, *a, **k):
        return self._get().read_i2c_block_data(*a, **k)

    def write_i2c_block_data(self, *a, **k):
        return self._get().write_i2c_block_data(*a, **k)

    def close(self) -> None:
        if self._bus is not None:
            self._bus.close()
            self._bus = None


def open_imu(kind: str, **options):
    """Build the IMU source named by ``kind`` (see the module docstring); not opened."""
    kind = str(kind)
    if kind in ("mpu6050", "lsm6ds"):
        bus = options.pop("bus", 1)
        if isinstance(bus, int):
            lazy = LazySMBus(bus)
            options.setdefault("bus_label", lazy.label)
            bus, owns = lazy, True
        else:
            owns = False
        cls = _chip_class(kind)
        options.setdefault("stuck_after_s", STUCK_AFTER_S)  # a live chip is never noise-free
        return _build(cls, kind, bus, owns_bus=owns, **options)
    if kind == "sim":
        from heelraise.imu.sim import SimImu

        options.setdefault("stuck_after_s", STUCK_AFTER_S)  # the simulated chip has noise
        return _build(SimImu, kind, options.pop("motion", None), **options)
    if kind == "emulated":
        import time

        from heelraise.imu.emulator_mpu6050 import Mpu6050Emulator
        from heelraise.imu.mpu6050 import Mpu6050

        clock = options.get("clock", time.monotonic)
        emu = Mpu6050Emulator(options.pop("motion", None), clock=clock)
        return _build(Mpu6050, kind, emu, **options)
    if kind.startswith("replay:"):
        path = kind[len("replay:") :]
        if not path:
            raise SettingsError("--imu replay:FILE needs a file name after 'replay:'")
        from heelraise.imu.replay import ReplayImu

        return _build(ReplayImu, "replay", path, **options)
    raise SettingsError(f"unknown IMU kind {kind!r}; choose one of {', '.join(KINDS)}")


def _chip_class(kind):
    if kind == "mpu6050":
        from heelraise.imu.mpu6050 import Mpu6050

        return Mpu6050
    from heelraise.imu.lsm6ds import Lsm6ds

    return Lsm6ds


def _build(cls, kind, *args, **options):
    accepted = _accepted(cls)
    if accepted is not None:
        unknown = sorted(set(options) - accepted)
        if unknown:
            raise SettingsError(
                f"IMU kind {kind!r} does not take option(s) {', '.join(unknown)}; "
                f"it takes {', '.join(sorted(accepted))}"
            )
    return cls(*args, **options)


def _accepted(cls) -> set[str] | None:
    names: set[str] = set()
    for klass in cls.__mro__:
        if klass is object or "__init__" not in vars(klass):
            continue
        params = inspect.signature(klass.__init__).parameters.values()
        names |= {p.name for p in params if p.kind == p.KEYWORD_ONLY}
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            return names
    return names
