"""The README's promises that code can check: its commands, its tables, its defaults."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

from heelraise.settings import AnalyzerSettings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def first_block() -> list[str]:
    block = README.split("```sh", 1)[1].split("```", 1)[0]
    return [ln for ln in block.strip().splitlines() if ln.strip()]


def test_readme_opens_with_two_commands_and_ci_runs_the_second_verbatim():
    head = README.split("```sh", 1)[0]
    assert head.count("\n") < 8, "the commands must be in the README's first lines"
    demo, tests = first_block()
    assert "heelraise demo" in demo
    assert "pytest" in tests
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert tests in [ln.strip() for ln in ci], ".ci/run must call the README's test command"


def table_rows(heading: str) -> list[list[str]]:
    section = README.split(heading, 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if line.startswith("|") and not set(line) <= set("|- "):
            rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows[1:]  # without the header


def test_pin_table_matches_pins_toml():
    pins = tomllib.loads((ROOT / "hardware" / "pins.toml").read_text())
    want = {
        "IMU SDA": pins["i2c"]["sda"],
        "IMU SCL": pins["i2c"]["scl"],
        "LED": pins["led"]["gpio"],
        "buzzer": pins["buzzer"]["gpio"],
        "button": pins["button"]["gpio"],
    }
    rows = table_rows("## Building the hardware")
    got = {}
    for name, gpio, _pin in rows:
        key = next(k for k in want if name.startswith(k))
        got[key] = int(gpio.removeprefix("GPIO"))
    assert got == want


def test_settings_table_lists_every_setting_with_its_default():
    rows = table_rows("### Analysis settings")
    documented = {}
    for names, defaults, _why in rows:
        keys = re.findall(r"`([a-z_]+)`", names)
        values = [v.strip() for v in defaults.split(",")]
        assert len(keys) == len(values), names
        documented.update(zip(keys, values, strict=True))
    defaults = AnalyzerSettings()
    fields = {f.name for f in dataclasses.fields(AnalyzerSettings)}
    assert set(documented) == fields
    for name, text in documented.items():
        value = getattr(defaults, name)
        if value is None:
            assert text == "none", name
        elif isinstance(value, str):
            assert text == value, name
        else:
            assert float(text) == value, name


def test_every_mqtt_topic_is_documented():
    rows = table_rows("## MQTT topics and Home Assistant")
    documented = " ".join(r[0] for r in rows)
    for suffix in (
        "status",
        "state",
        "event/rep",
        "event/set",
        "event/session",
        "live",
        "cmd",
        "cmd/result",
    ):
        assert f"`{suffix}`" in documented, suffix
