"""Argument types shared by the commands: each names what it accepts in argparse's errors."""

from __future__ import annotations

import math


def speed(limit: float):
    """A factor above 0 up to ``limit``, or 'max' (as fast as the CPU allows)."""

    def parse(text: str) -> float:
        if text.lower() in ("max", "inf"):
            return math.inf
        value = float(text)
        if not 0 < value <= limit:
            raise ValueError(text)
        return value

    parse.__name__ = f"speed (a factor above 0 up to {limit:g}, or 'max')"
    return parse


def seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError(text)
    return value


seconds.__name__ = "number of seconds above 0"


def port(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 65535:
        raise ValueError(text)
    return value


port.__name__ = "TCP port (1 to 65535)"


def i2c_address(text: str) -> int:
    value = int(text, 0)
    if not 0x03 <= value <= 0x77:
        raise ValueError(text)
    return value


i2c_address.__name__ = "7-bit I2C address (0x03 to 0x77, e.g. 0x68)"


def fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise ValueError(text)
    return value


fraction.__name__ = "fraction from 0 to 1"
