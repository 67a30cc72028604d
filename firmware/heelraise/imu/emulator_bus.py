"""An emulated I2C bus carrying several emulated chips (``heelraise probe --emulate``).

>>> from heelraise.clock import ManualClock
>>> from heelraise.imu.emulator_mpu6050 import Mpu6050Emulator
>>> clock = ManualClock()
>>> bus = EmulatedBus(Mpu6050Emulator(clock=clock))
>>> bus.read_byte_data(0x68, 0x75)
104
"""

from __future__ import annotations

import errno
import os


class EmulatedBus:
    """smbus2-like bus dispatching each transfer to the chip at its address."""

    def __init__(self, *chips):
        self.chips = {c.address: c for c in chips}

    def _chip(self, addr):
        chip = self.chips.get(addr)
        if chip is None:  # nobody ACKs the address
            raise OSError(errno.EREMOTEIO, os.strerror(errno.EREMOTEIO))
        return chip

    def read_byte_data(self, addr, register, force=None):
        return self._chip(addr).read_byte_data(addr, register)

    def write_byte_data(self, addr, register, value, force=None):
        return self._chip(addr).write_byte_data(addr, register, value)

    def read_i2c_block_data(self, addr, register, length, force=None):
        return self._chip(addr).read_i2c_block_data(addr, register, length)

    def write_i2c_block_data(self, addr, register, data, force=None):
        return self._chip(addr).write_i2c_block_data(addr, register, data)

    def close(self) -> None:
        pass
