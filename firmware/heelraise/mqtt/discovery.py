"""Home Assistant MQTT discovery: the shoe appears as a device with a few sensors.

Published retained to ``<discovery_prefix>/sensor/<node>/<object>/config`` when
the publisher connects, and again whenever Home Assistant announces itself
(``<discovery_prefix>/status`` = ``online``, after it restarts). Every sensor
takes its availability from the device's retained ``status`` (``online`` /
``offline``, the last will), so the sensors grey out when the shoe is gone.

Sensors (values read from our own topics with HA value templates):

==================  ===============  =========================================
object              topic            value
==================  ===============  =========================================
``reps_in_set``     ``state``        reps counted in the current set
``rep_count``       ``state``        reps counted this session
``set_count``       ``state``        the current set's number
``phase``           ``state``        rising / top / lowering / bottom / ...
``last_raise_s``    ``event/rep``    the last rep's raise time, seconds
``last_lower_s``    ``event/rep``    the last rep's lowering time, seconds
``heel_rise_mm``    ``event/rep``    the last rep's heel height, millimetres
==================  ===============  =========================================

>>> msgs = discovery_messages(Topics("heelraise", "shoe-1"), "homeassistant", version="0.1.0")
>>> msgs[0][0]
'homeassistant/sensor/heelraise_shoe-1/reps_in_set/config'
"""

from __future__ import annotations

import re

from heelraise.mqtt.topics import Topics

#: (object id, name, source, value template, unit, device_class, state_class, icon)
SENSORS = (
    (
        "reps_in_set",
        "Reps in set",
        "state",
        "{{ value_json.state.reps_in_set }}",
        None,
        None,
        "measurement",
        "mdi:counter",
    ),
    (
        "rep_count",
        "Reps this session",
        "state",
        "{{ value_json.state.rep_count }}",
        None,
        None,
        "total_increasing",
        "mdi:counter",
    ),
    (
        "set_count",
        "Set",
        "state",
        "{{ value_json.state.set }}",
        None,
        None,
        "measurement",
        "mdi:format-list-numbered",
    ),
    (
        "phase",
        "Phase",
        "state",
        "{{ value_json.state.phase }}",
        None,
        None,
        None,
        "mdi:shoe-sneaker",
    ),
    (
        "last_raise_s",
        "Last raise",
        "rep",
        "{{ value_json.rep.raise_s }}",
        "s",
        "duration",
        "measurement",
        None,
    ),
    (
        "last_lower_s",
        "Last lowering",
        "rep",
        "{{ value_json.rep.lower_s }}",
        "s",
        "duration",
        "measurement",
        None,
    ),
    (
        "heel_rise_mm",
        "Heel height",
        "rep",
        "{{ value_json.rep.heel_rise_mm }}",
        "mm",
        "distance",
        "measurement",
        None,
    ),
)


def node_id(device_id: str) -> str:
    """HA allows ``[a-zA-Z0-9_-]`` in discovery topic levels; dots become underscores."""
    return "heelraise_" + re.sub(r"[^A-Za-z0-9_-]", "_", device_id)


def discovery_messages(
    topics: Topics, discovery_prefix: str = "homeassistant", version: str = ""
) -> list[tuple[str, dict]]:
    """``[(config topic, config payload)]`` for every sensor of this device."""
    node = node_id(topics.device_id)
    device = {
        "identifiers": [node],
        "name": f"Heel raise {topics.device_id}",
        "manufacturer": "heelraise",
        "model": "IMU heel-raise counter",
    }
    if version:
        device["sw_version"] = version
    out = []
    for obj, name, source, template, unit, device_class, state_class, icon in SENSORS:
        config = {
            "name": name,
            "unique_id": f"{node}_{obj}",
            "object_id": f"{node}_{obj}",
            "state_topic": topics.state if source == "state" else topics.event("rep"),
            "value_template": template,
            "availability_topic": topics.status,
            "payload_available": "online",
            "payload_not_available": "offline",
            "device": device,
        }
        if unit:
            config["unit_of_measurement"] = unit
        if device_class:
            config["device_class"] = device_class
        if state_class:
            config["state_class"] = state_class
        if icon:
            config["icon"] = icon
        out.append((f"{discovery_prefix}/sensor/{node}/{obj}/config", config))
    return out


def ha_status_topic(discovery_prefix: str) -> str:
    return f"{discovery_prefix}/status"
