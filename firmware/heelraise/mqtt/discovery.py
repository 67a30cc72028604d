"""Home Assistant MQTT discovery: the shoe appears as a device with sensors and controls.

Published retained to ``<discovery_prefix>/<component>/<node>/<object>/config``
when the publisher connects, and again whenever Home Assistant announces itself
(``<discovery_prefix>/status`` = ``online``, after it restarts). Every entity
takes its availability from the device's retained ``status`` (``online`` /
``offline``, the last will), so it greys out when the shoe is gone. Each
config names the entity (``default_entity_id``, which replaced the deprecated
``object_id``) and carries an ``origin`` block (who sent the config).

Sensors (values read from our own topics with HA value templates):

==================  ===============  =========================================
object              topic            value
==================  ===============  =========================================
``reps_in_set``     ``state``        reps counted in the current set
``rep_count``       ``state``        reps counted this session
``set_count``       ``state``        the current set's number
``phase``           ``state``        an ``enum``: one of :data:`PHASES`
``last_raise_s``    ``last_rep``     the last rep's raise time, seconds
``last_lower_s``    ``last_rep``     the last rep's lowering time, seconds
``heel_rise_mm``    ``last_rep``     the last rep's heel height, millimetres
``gaps``            ``health``       holes in the sensor stream this session
==================  ===============  =========================================

Two shoes (``sides=("left", "right")``; one named shoe: ``sides=("left",)``): the
``state`` and ``last_rep`` sensors are made for each shoe, from its own retained topics
(``state/left``, ``last_rep/left``, ...), as ``left_reps_in_set``, ``right_heel_rise_mm``
and so on, named "Left reps in set", ...; each shoe also gets its totals of the last
session from the retained ``last_session`` (``left_session_reps``,
``left_session_heel_rise_mm``, ``left_session_work_j``), and with two shoes the
session's LSIs (``reps_lsi``, ``heel_rise_lsi``, ``work_lsi``, %, with the ratio, label,
involved side and note as attributes): unknown when the session could not take them.
The tempo select reads the first shoe's state (one coach leads both).

A ``binary_sensor`` ``sensor_problem`` (device_class ``problem``) reads ``health``: on
while the sensor is unhealthy (stuck, all-zero words, failing reads), the reason and the
last gap as its attributes.

``last_rep`` is the newest rep again, retained, so these show the last rep
after Home Assistant restarts (``event/rep`` is not retained).

Controls (all publish to the device's ``cmd`` topic, payloads without an ``id``:
the device runs every id-less command it gets, so a button works every press):

=========================  ========  ==========================================
object                     kind      payload
=========================  ========  ==========================================
``start_set``              button    ``{"cmd": "start_set"}``
``end_set``                button    ``{"cmd": "end_set"}``
``start_endurance_test``   button    ``{"cmd": "start_endurance_test"}``
``stop_endurance_test``    button    ``{"cmd": "stop_endurance_test"}``
``tempo``                  select    ``{"cmd": "set_tempo", "args": {"tempo": ...}}``
``live``                   switch    ``{"cmd": "set_live", "args": {"on": ...}}``
=========================  ========  ==========================================

>>> msgs = discovery_messages(Topics("heelraise", "shoe-1"), "homeassistant", version="0.1.0")
>>> msgs[0][0]
'homeassistant/sensor/heelraise_shoe-1/reps_in_set/config'
"""

from __future__ import annotations

import json
import re

from heelraise.protocol.topics import Topics

#: Every phase the analyzer reports in ``state`` (heelraise.chain.analyzer; checked by a
#: test against its source), the options of the ``phase`` enum sensor.
PHASES = ("uncalibrated", "searching", "still", "rising", "top", "lowering", "bottom", "walking")

#: Tempos offered by the ``tempo`` select (lower-bottom-raise-top; "none": no target).
#: The guide's floor raise, its step raise with a hold, and slower / longer-hold variants.
TEMPO_OPTIONS = ("none", "3-0-2-0", "3-0-2-1", "3-0-2-2", "4-0-2-1", "4-1-2-2", "3-0-1-1")

#: the origin block's name: who sent these configs (with our version)
ORIGIN_NAME = "heelraise"

#: (object id, name, command, icon) of each button; its payload is {"cmd": command}
BUTTONS = (
    ("start_set", "Start set", "start_set", "mdi:play"),
    ("end_set", "End set", "end_set", "mdi:stop"),
    ("start_endurance_test", "Start endurance test", "start_endurance_test", "mdi:timer-play"),
    ("stop_endurance_test", "Stop endurance test", "stop_endurance_test", "mdi:timer-stop"),
)

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
        "enum",
        None,
        "mdi:shoe-sneaker",
    ),
    (
        "last_raise_s",
        "Last raise",
        "last_rep",
        "{{ value_json.rep.raise_s }}",
        "s",
        "duration",
        "measurement",
        None,
    ),
    (
        "last_lower_s",
        "Last lowering",
        "last_rep",
        "{{ value_json.rep.lower_s }}",
        "s",
        "duration",
        "measurement",
        None,
    ),
    (
        "heel_rise_mm",
        "Heel height",
        "last_rep",
        "{{ value_json.rep.heel_rise_mm }}",
        "mm",
        "distance",
        "measurement",
        None,
    ),
    (
        "gaps",
        "Sensor gaps",
        "health",
        "{{ value_json.health.gaps }}",
        None,
        None,
        "total_increasing",  # counts a session's gaps: it restarts at 0 with the service
        "mdi:link-variant-off",
    ),
)


#: per shoe, from the retained last session: (object, name, total, unit, icon)
SIDE_SESSION_SENSORS = (
    ("session_reps", "reps last session", "reps", None, "mdi:counter"),
    ("session_heel_rise_mm", "mean heel height last session", "mean_heel_rise_mm", "mm", None),
    ("session_work_j", "work last session", "work_j", "J", "mdi:weight-lifter"),
)

#: the session's limb symmetry indices (heelraise.symmetry.LSI_OF): (object, name)
LSI_SENSORS = (
    ("reps_lsi", "Reps LSI"),
    ("heel_rise_lsi", "Heel height LSI"),
    ("work_lsi", "Work LSI"),
)


def node_id(device_id: str) -> str:
    """HA allows ``[a-zA-Z0-9_-]`` in discovery topic levels; dots become underscores."""
    return "heelraise_" + re.sub(r"[^A-Za-z0-9_-]", "_", device_id)


def entity_id(component: str, node: str, obj: str) -> str:
    """``component.object``: HA entity ids are lower-case letters, digits and ``_``."""
    return f"{component}." + re.sub(r"[^a-z0-9_]", "_", f"{node}_{obj}".lower())


def _command(cmd: str, args: dict | None = None) -> str:
    return json.dumps({"cmd": cmd} if args is None else {"cmd": cmd, "args": args})


def discovery_messages(
    topics: Topics,
    discovery_prefix: str = "homeassistant",
    version: str = "",
    sides: tuple[str, ...] = (),
) -> list[tuple[str, dict]]:
    """``[(config topic, config payload)]`` for every sensor and control of this device;
    ``sides``: the shoes it measures (() for one unnamed sensor)."""
    for side in sides:
        if side not in ("left", "right"):
            raise ValueError(f"side {side!r} is not 'left' or 'right'")
    node = node_id(topics.device_id)
    device = {
        "identifiers": [node],
        "name": f"Heel raise {topics.device_id}",
        "manufacturer": "heelraise",
        "model": "IMU heel-raise counter",
    }
    origin = {"name": ORIGIN_NAME}
    if version:
        device["sw_version"] = version
        origin["sw_version"] = version
    sources = {"state": topics.state, "last_rep": topics.last_rep, "health": topics.health}
    out = []

    def add(component: str, obj: str, name: str, extra: dict) -> None:
        config = {
            "name": name,
            "unique_id": f"{node}_{obj}",
            "default_entity_id": entity_id(component, node, obj),
            "availability_topic": topics.status,
            "payload_available": "online",
            "payload_not_available": "offline",
            "device": device,
            "origin": origin,
            **extra,
        }
        out.append((f"{discovery_prefix}/{component}/{node}/{obj}/config", config))

    def sensor(obj, name, topic, template, unit, device_class, state_class, icon, **more):
        extra = {"state_topic": topic, "value_template": template}
        if unit:
            extra["unit_of_measurement"] = unit
        if device_class:
            extra["device_class"] = device_class
        if device_class == "enum":
            extra["options"] = list(PHASES)
        if state_class:
            extra["state_class"] = state_class
        if icon:
            extra["icon"] = icon
        add("sensor", obj, name, {**extra, **more})

    for obj, name, source, template, unit, device_class, state_class, icon in SENSORS:
        if not sides or source == "health":  # health is the device's, not a shoe's
            sensor(obj, name, sources[source], template, unit, device_class, state_class, icon)
            continue
        for side in sides:
            topic = topics.side_state(side) if source == "state" else topics.side_last_rep(side)
            label = f"{side.capitalize()} {name[0].lower()}{name[1:]}"
            sensor(f"{side}_{obj}", label, topic, template, unit, device_class, state_class, icon)
    for side in sides:
        for obj, name, total, unit, icon in SIDE_SESSION_SENSORS:
            template = (
                f"{{{{ value_json.sides.{side}.{total} if '{side}' in value_json.sides"
                " else None }}"
            )
            label = f"{side.capitalize()} {name}"
            topic = topics.last_session
            sensor(f"{side}_{obj}", label, topic, template, unit, None, "measurement", icon)
    if len(sides) == 2:
        attributes = (
            '{{ {"ratio": value_json.symmetry.ratio, "label": value_json.symmetry.label, '
            '"involved": value_json.symmetry.involved, "note": value_json.symmetry.note} '
            "| tojson }}"
        )
        for obj, name in LSI_SENSORS:
            sensor(
                obj,
                name,
                topics.last_session,
                f"{{{{ value_json.symmetry.{obj} }}}}",
                "%",
                None,
                "measurement",
                "mdi:scale-balance",
                json_attributes_topic=topics.last_session,
                json_attributes_template=attributes,
            )
    add(
        "binary_sensor",
        "sensor_problem",
        "Sensor trouble",
        {
            "state_topic": topics.health,
            "value_template": "{{ 'OFF' if value_json.health.healthy else 'ON' }}",
            "device_class": "problem",
            "json_attributes_topic": topics.health,
            "json_attributes_template": (
                '{{ {"reason": value_json.health.reason, "gap_s": value_json.health.gap_s, '
                '"last_gap": value_json.health.last_gap} | tojson }}'
            ),
        },
    )
    for obj, name, cmd, icon in BUTTONS:
        add(
            "button",
            obj,
            name,
            {"command_topic": topics.cmd, "payload_press": _command(cmd), "icon": icon},
        )
    add(
        "select",
        "tempo",
        "Target tempo",
        {
            "command_topic": topics.cmd,
            # "none" clears the target; any other option is sent as the tempo text
            "command_template": (
                '{"cmd": "set_tempo", "args": {"tempo": '
                '{{ "null" if value == "none" else (value | tojson) }}}}'
            ),
            "state_topic": topics.side_state(sides[0] if sides else None),
            "value_template": "{{ value_json.state.tempo or 'none' }}",
            "options": list(TEMPO_OPTIONS),
            "icon": "mdi:metronome",
        },
    )
    add(
        "switch",
        "live",
        "Live pitch output",
        {
            "command_topic": topics.cmd,
            "payload_on": _command("set_live", {"on": True}),
            "payload_off": _command("set_live", {"on": False}),
            "optimistic": True,
            "icon": "mdi:chart-bell-curve",
        },
    )
    return out


def ha_status_topic(discovery_prefix: str) -> str:
    return f"{discovery_prefix}/status"
