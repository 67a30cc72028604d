"""Run under a Python that has Home Assistant installed: validate discovery configs with
HA's own MQTT discovery schemas (the platform's DISCOVERY_SCHEMA and the origin schema).

stdin: JSON ``[[topic, config], ...]``; stdout: JSON ``{"version": ..., "results": [...]}``
with, per config, ``ok``, ``error``, ``dropped`` (keys HA's schema silently removed, that
is keys this HA version does not know) and ``rendered``: for a ``command_template``, what
HA's template engine makes of each of the config's ``options`` (as HA does on a selection).
An item ``[topic, config, payload]`` also gets ``state`` and ``attributes``: what HA's
engine makes of its ``value_template`` and ``json_attributes_template`` for that payload
(a JSON object, as the device publishes it).
Used by tests/test_views_discovery.py.
"""

import importlib
import json
import sys

import homeassistant.components.persistent_notification  # noqa: F401  (2024.x: import order)
import voluptuous as vol
from homeassistant.const import __version__

try:  # where the origin schema lives: 2025.x, else 2024.x
    from homeassistant.components.mqtt.schemas import MQTT_ORIGIN_INFO_SCHEMA
except ImportError:
    from homeassistant.components.mqtt.discovery import MQTT_ORIGIN_INFO_SCHEMA


def check(topic: str, config: dict, payload=None) -> dict:
    component = topic.split("/")[1]
    module = importlib.import_module(f"homeassistant.components.mqtt.{component}")
    out = {"topic": topic, "ok": True, "error": None, "dropped": []}
    try:
        if "origin" in config:
            MQTT_ORIGIN_INFO_SCHEMA(config["origin"])
        validated = module.DISCOVERY_SCHEMA(dict(config))
    except vol.Invalid as e:
        out.update(ok=False, error=str(e))
        return out
    out["dropped"] = sorted(set(config) - set(validated))
    if "command_template" in validated:
        template = validated["command_template"]
        out["rendered"] = {
            v: template.async_render({"value": v}, parse_result=False)
            for v in config.get("options", [])
        }
    if payload is not None:
        variables = {"value": json.dumps(payload), "value_json": payload}
        for key, name in (("value_template", "state"), ("json_attributes_template", "attributes")):
            if key in validated:
                out[name] = validated[key].async_render(variables, parse_result=False)
    return out


async def _main(items, config_dir) -> list[dict]:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers import frame

    hass = HomeAssistant(config_dir)  # templates are validated against a running core
    if hasattr(frame, "async_setup"):  # 2025.x; 2024.x needs no frame helper
        frame.async_setup(hass)
    try:
        results = [check(*item) for item in items]
        return results
    finally:
        await hass.async_stop(force=True)


def main() -> None:
    import asyncio
    import tempfile

    items = json.load(sys.stdin)
    with tempfile.TemporaryDirectory() as config_dir:
        results = asyncio.run(_main(items, config_dir))
    json.dump({"version": __version__, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
