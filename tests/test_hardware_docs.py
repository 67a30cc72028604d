"""hardware/ cannot drift from the firmware: the wiring table and the SVG follow pins.toml."""

from __future__ import annotations

import re
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory
from heelraise.cues.pins import HEADER_PIN

HARDWARE = Path(__file__).resolve().parents[1] / "hardware"

#: wiring.md's "Function" column -> (pins.toml table, key)
ROLES = {
    "I2C SDA": ("i2c", "sda"),
    "I2C SCL": ("i2c", "scl"),
    "LED": ("led", "gpio"),
    "Buzzer": ("buzzer", "gpio"),
    "Button": ("button", "gpio"),
}


def pins_toml() -> dict:
    return tomllib.loads((HARDWARE / "pins.toml").read_text())


def wiring_table() -> list[dict]:
    """The rows of the table under '## Pin table' in wiring.md."""
    text = (HARDWARE / "wiring.md").read_text()
    section = text.split("## Pin table", 1)[1]
    rows = []
    header = None
    for line in section.splitlines():
        line = line.strip()
        if not line.startswith("|"):
            if header is not None:
                break  # the table ended
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if header is None:
            header = cells
        elif not set(line) <= set("|-: "):
            rows.append(dict(zip(header, cells, strict=True)))
    return rows


def test_wiring_table_gpios_match_pins_toml():
    pins = pins_toml()
    rows = {r["Function"]: r for r in wiring_table()}
    for role, (table, key) in ROLES.items():
        assert role in rows, f"wiring.md pin table has no {role!r} row"
        assert rows[role]["GPIO (BCM)"] == f"GPIO{pins[table][key]}", role


def test_wiring_table_header_pins_are_right():
    header = MockFactory().board_info.headers["J8"].pins
    rows = wiring_table()
    assert len(rows) >= len(ROLES) + 3
    for row in rows:
        physical = int(row["Header pin"])
        if row["GPIO (BCM)"].startswith("GPIO"):
            gpio = int(row["GPIO (BCM)"][4:])
            assert HEADER_PIN[gpio] == physical, row
            assert header[physical].name == row["GPIO (BCM)"], row
        else:
            assert header[physical].name == row["Function"], row  # 3V3, 5V, GND


def test_every_gpio_in_wiring_md_is_in_pins_toml():
    pins = pins_toml()
    used = {v for t in pins.values() for k, v in t.items() if k in ("gpio", "sda", "scl")}
    text = (HARDWARE / "wiring.md").read_text()
    mentioned = {int(n) for n in re.findall(r"\bGPIO(\d+)\b", text)}
    assert mentioned == used


def test_svg_is_xml_and_names_every_gpio():
    root = ET.parse(HARDWARE / "wiring.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    text = " ".join(t for t in root.itertext())
    pins = pins_toml()
    for table, key in ROLES.values():
        gpio = pins[table][key]
        assert re.search(rf"\bGPIO{gpio}\b", text), f"wiring.svg does not mention GPIO{gpio}"
        assert re.search(rf"\bpin {HEADER_PIN[gpio]}\b", text), f"no header pin for GPIO{gpio}"


@pytest.mark.parametrize("name", ["wiring.md", "parts.md", "mounting.md", "pins.toml"])
def test_hardware_files_exist_and_say_something(name):
    assert len((HARDWARE / name).read_text()) > 500


def test_resistor_and_transistor_values_are_stated():
    text = (HARDWARE / "wiring.md").read_text()
    for needle in ("330 Ω", "1 kΩ", "10 kΩ", "1N4148", "NPN", "16 mA", "100 kHz", "400 kHz"):
        assert needle in text, needle


# -- two shoes (issue 15) ------------------------------------------------------------------


def _two_shoes_section() -> str:
    return (HARDWARE / "wiring.md").read_text().split("## Two shoes", 1)[1]


def test_two_shoe_table_gives_each_side_an_address_probe_scans():
    from heelraise.commands.probe import LSM_ADDRESSES, MPU_ADDRESSES

    section = _two_shoes_section()
    rows = [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("|") and not set(line) <= set("|-: ")
    ]
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Sensor", "Chip", "Address"]
    by_chip: dict = {}
    for sensor, chip, address, *_ in body:
        by_chip.setdefault(chip.split()[0], {})[sensor.split()[0]] = int(address, 16)
    assert by_chip["MPU-6050"] == {"left": MPU_ADDRESSES[0], "right": MPU_ADDRESSES[1]}
    assert by_chip["LSM6DSOX"] == {"left": LSM_ADDRESSES[0], "right": LSM_ADDRESSES[1]}
    assert "`AD0` tied high" in section and "AD0 high on the second MPU-6050" in section


def test_two_shoe_svg_is_xml_and_shows_both_addresses_and_the_bus_pins():
    root = ET.parse(HARDWARE / "wiring-two.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    text = " ".join(root.itertext())
    pins = pins_toml()
    for key in ("sda", "scl"):
        gpio = pins["i2c"][key]
        assert re.search(rf"\bpin {HEADER_PIN[gpio]}\s+GPIO{gpio}\b", text), key
    for needle in ("0x68", "0x69", "AD0", "3V3", "left shoe", "right shoe"):
        assert needle in text, needle
    assert "wiring-two.svg" in (HARDWARE / "wiring.md").read_text()


def test_parts_and_mounting_cover_two_shoes():
    assert "Two shoes" in (HARDWARE / "parts.md").read_text()
    assert "## Two shoes" in (HARDWARE / "mounting.md").read_text()
