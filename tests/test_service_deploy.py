"""The deployment files: the systemd unit keeps the devices visible, the example config loads."""

from __future__ import annotations

import configparser
from pathlib import Path

from heelraise.service.config import load_config

DEPLOY = Path(__file__).resolve().parents[1] / "firmware" / "deploy"


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read(DEPLOY / "heelraise.service")
    return parser


def test_the_unit_runs_as_heelraise_in_the_i2c_and_gpio_groups():
    service = unit()["Service"]
    assert service["User"] == "heelraise"
    assert set(service["SupplementaryGroups"].split()) >= {"i2c", "gpio"}
    assert service["ExecStart"].split()[1:3] == ["run", "--config"]
    assert service["ExecStart"].split()[3] == "/etc/heelraise/config.toml"
    assert service["Restart"] == "on-failure"
    assert service["KillSignal"] == "SIGTERM"
    lines = (DEPLOY / "heelraise.service").read_text().splitlines()
    assert "Environment=GPIOZERO_PIN_FACTORY=lgpio" in lines  # the Pi 5 needs lgpio
    assert unit()["Install"]["WantedBy"] == "multi-user.target"


def test_the_unit_does_not_hide_the_devices():
    allowed = []
    for line in (DEPLOY / "heelraise.service").read_text().splitlines():
        line = line.strip()
        if line.startswith("#"):
            continue
        key = line.split("=", 1)[0]
        assert key != "PrivateDevices", line
        if key == "DeviceAllow":
            allowed.append(line.split("=", 1)[1])
    # a closed device policy must still let the IMU bus and the GPIO chips through
    assert "char-i2c rw" in allowed and "char-gpiochip rw" in allowed


def test_the_example_config_loads():
    config = load_config(DEPLOY / "config.example.toml")
    assert config.sensor.type == "mpu6050" and config.sensor.rate_hz == 1000
    assert config.device.id == "pi-left-shoe"
    assert config.tempo.target is not None
    assert config.mqtt is not None  # the example publishes


def test_install_steps_cover_i2c_the_user_the_venv_and_the_unit():
    text = (DEPLOY / "install.md").read_text()
    for needle in (
        "raspi-config",
        "--groups i2c,gpio",
        "python3 -m venv",
        "pip install",
        "systemctl enable --now heelraise",
        "GPIOZERO_PIN_FACTORY=lgpio",
        "PrivateDevices",
    ):
        assert needle in text, needle
