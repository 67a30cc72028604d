"""``heelraise probe`` finds both shoes' IMUs (two chips on one emulated bus, or two buses),
checks each and names them left and right with their config."""

from __future__ import annotations

import re

import pytest
from heelraise.cli import main
from heelraise.commands.probe import name_sides


@pytest.mark.parametrize(
    "kind, chip, addresses, kind_name",
    [
        ("mpu-pair", "MPU-6050", ("0x68", "0x69"), "mpu6050"),
        ("lsm-pair", "LSM6DSOX", ("0x6a", "0x6b"), "lsm6ds"),
    ],
)
def test_two_chips_on_one_bus_are_found_checked_and_named(capsys, kind, chip, addresses, kind_name):
    assert main(["probe", "--emulate", kind]) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out
    for address in addresses:
        assert f"{address}: {chip}" in out
    assert f"left  = bus 1 {addresses[0]} ({chip})" in out
    assert f"right = bus 1 {addresses[1]} ({chip})" in out
    # each chip's own mounting and bias is what its self-check reports
    assert "gravity along +Z" in out and "gravity along +Y" in out
    biases = re.findall(r"gyro bias (\S+) (\S+) (\S+) deg/s", out)
    assert [round(float(b[0]), 1) for b in biases] == [0.8, -1.1]
    config = out.split("config", 1)[1]
    assert config.count(f'type = "{kind_name}"') == 2
    assert "[sensor.left]" in config and f"address = {addresses[0]}" in config
    assert "[sensor.right]" in config and f"address = {addresses[1]}" in config


def test_one_chip_on_each_of_two_buses(capsys):
    assert main(["probe", "--emulate", "two-buses"]) == 0
    out = capsys.readouterr().out
    assert "emulated bus 1 0x68: MPU-6050" in out and "emulated bus 3 0x68: MPU-6050" in out
    assert "left  = bus 1 0x68" in out and "right = bus 3 0x68" in out
    assert "bus = 3" in out.split("[sensor.right]", 1)[1]


def test_one_imu_is_not_named_a_side_and_more_than_two_are_refused():
    assert name_sides([(1, 0x68, "MPU-6050")]) == []
    three = [(1, 0x68, "MPU-6050"), (1, 0x69, "MPU-6050"), (1, 0x6A, "LSM6DSOX")]
    assert name_sides(three) == ["3 IMUs found: two shoes take two, disconnect the others"]
    # the order found does not matter: AD0 low is left
    lines = name_sides([(1, 0x69, "MPU-6050"), (1, 0x68, "MPU-6050")])
    assert lines[1] == "  left  = bus 1 0x68 (MPU-6050)"


def test_a_bus_given_twice_or_with_emulate_is_refused(capsys):
    assert main(["probe", "--bus", "1", "--bus", "1"]) == 2
    assert "each bus once" in capsys.readouterr().err
    assert main(["probe", "--emulate", "mpu-pair", "--bus", "1"]) == 2
    assert "leave out --bus" in capsys.readouterr().err
