"""Home Assistant discovery: every config (sensors and controls) passes HA's own discovery
schema; controls send fixed id-less commands the device's schema accepts; the last-rep
sensors read a retained topic (they survive an HA restart); ``phase`` is an enum sensor.

HA's schema is run in HA's own interpreter (HA pins packages the project does not, and its
newer releases need a newer Python): ``$HEELRAISE_HA_PYTHON``, and the venvs made by::

    python3.13 -m venv ~/.cache/heelraise/ha-venv
    ~/.cache/heelraise/ha-venv/bin/pip install homeassistant            # 2025.4.4 on 3.13.0
    python3.11 -m venv ~/.cache/heelraise/ha2024-venv
    ~/.cache/heelraise/ha2024-venv/bin/pip install homeassistant==2024.1.6

When none of them is found (a fresh machine), the second is made with this interpreter
before the tests run (``provision_ha``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import wait_until
from heelraise.mqtt.discovery import BUTTONS, PHASES, TEMPO_OPTIONS, discovery_messages
from heelraise.mqtt.publisher import MqttPublisher
from heelraise.mqtt.settings import MqttSettings
from heelraise.mqtt.testing import fake_set
from heelraise.protocol import payloads, validation
from heelraise.protocol.topics import Topics
from heelraise.tempo import Tempo

HERE = Path(__file__).resolve().parent
CHECKER = HERE / "ha_discovery_check.py"
HA_VENVS = [
    Path.home() / ".cache" / "heelraise" / v / "bin" / "python" for v in ("ha-venv", "ha2024-venv")
]
TOPICS = Topics("heelraise", "shoe.1")
MSGS = discovery_messages(TOPICS, "homeassistant", version="0.1.0")
BY_OBJ = {t.split("/")[3]: (t, c) for t, c in MSGS}


def newer_than(version: str) -> set[str]:
    """Keys a Home Assistant release does not know yet (its schema drops them, harmlessly):
    ``default_entity_id`` came in 2025.10, a sensor's ``options`` in 2024.2."""
    year, month = (int(x) for x in version.split(".")[:2])
    keys = {"default_entity_id"}
    if (year, month) < (2024, 2):
        keys.add("options")  # the enum sensor then accepts any phase
    return keys


#: what a fresh machine gets when no Home Assistant is found: the release that installs on
#: this Python (HA 2025.x needs 3.13), into the second venv above (about 4 minutes, once)
PROVISION_HA = "homeassistant==2024.1.6"


def ha_pythons() -> list[str]:
    found = [os.environ["HEELRAISE_HA_PYTHON"]] if os.environ.get("HEELRAISE_HA_PYTHON") else []
    return found + [str(p) for p in HA_VENVS if p.exists()]


def provision_ha() -> list[str]:
    """Make the 2024 venv with this interpreter, so a fresh clone's test command checks
    discovery against HA's own schema with nothing installed beforehand."""
    venv = HA_VENVS[1].parent.parent
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    subprocess.run(
        [str(HA_VENVS[1]), "-m", "pip", "install", "-q", PROVISION_HA],
        check=True,
        timeout=1200,
    )
    return ha_pythons()


#: every Home Assistant found here (made if there is none); each test below runs against each
HA_FOUND = ha_pythons() or provision_ha()


@pytest.fixture(params=HA_FOUND)
def ha_python(request) -> str:
    return request.param


def ha_check(python: str, items) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [python, str(CHECKER)],
        input=json.dumps(items),
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_every_config_passes_home_assistants_schema(ha_python):
    answer = ha_check(ha_python, MSGS)
    components = sorted({t.split("/")[1] for t, _ in MSGS})
    assert components == ["binary_sensor", "button", "select", "sensor", "switch"]
    assert len(answer["results"]) == len(MSGS) == 8 + 1 + 4 + 1 + 1
    for r in answer["results"]:
        assert r["ok"], f"HA {answer['version']} refuses {r['topic']}: {r['error']}"
        # Nothing we send is silently ignored, apart from keys newer than this HA.
        assert set(r["dropped"]) <= newer_than(answer["version"]), (r["topic"], r["dropped"])


def test_home_assistants_schema_does_refuse_a_bad_config(ha_python):
    topic, phase = BY_OBJ["phase"]
    bad_sensor = {**phase, "state_class": "now and then"}  # not a state class
    bad_origin = {**BY_OBJ["start_set"][1], "origin": {"sw_version": "1"}}  # origin needs a name
    answer = ha_check(ha_python, [[topic, bad_sensor], [BY_OBJ["start_set"][0], bad_origin]])
    assert [r["ok"] for r in answer["results"]] == [False, False]


def test_configs_name_entities_and_origin_without_object_id():
    for topic, c in MSGS:
        component, node, obj = topic.split("/")[1:4]
        assert "object_id" not in c
        assert c["default_entity_id"] == f"{component}.heelraise_shoe_1_{obj}"
        assert re.fullmatch(r"[a-z_]+\.[a-z0-9_]+", c["default_entity_id"])
        assert c["origin"] == {"name": "heelraise", "sw_version": "0.1.0"}
        assert c["availability_topic"] == "heelraise/shoe.1/status"


def test_phase_is_an_enum_of_every_phase_the_analyzer_reports():
    _, phase = BY_OBJ["phase"]
    assert phase["device_class"] == "enum" and phase["options"] == list(PHASES)
    assert "state_class" not in phase
    source = (HERE.parent / "firmware" / "heelraise" / "chain" / "analyzer.py").read_text()
    lines = [line for line in source.splitlines() if "st.phase = " in line]
    set_here = {word for line in lines for word in re.findall(r'"(\w+)"', line)}
    assert set_here <= set(PHASES), set_here - set(PHASES)
    assert {"uncalibrated", "searching", "still", "rising", "top", "lowering", "bottom"} <= (
        set_here
    )


def test_last_rep_sensors_read_the_retained_topic():
    rep = payloads.rep_payload(payloads.Envelope("shoe.1", "s"), fake_set(1, 1)[0])
    for obj in ("last_raise_s", "last_lower_s", "heel_rise_mm"):
        _, c = BY_OBJ[obj]
        assert c["state_topic"] == "heelraise/shoe.1/last_rep"
        field = re.fullmatch(r"\{\{ value_json\.rep\.(\w+) \}\}", c["value_template"]).group(1)
        assert field in rep["rep"]


def _as_command(payload: str) -> dict:
    """A control's payload as the device gets it, checked by the cmd schema as it is: no id
    (the device deduplicates only commands that carry one; see
    test_mqtt_publisher.py::test_each_home_assistant_control_pressed_twice_runs_twice)."""
    body = json.loads(payload)
    assert "id" not in body  # fixed payload: the same bytes at every press
    validation.validate("cmd", body)
    return body


def test_controls_send_fixed_commands_the_device_understands():
    assert [b[0] for b in BUTTONS] == [
        "start_set",
        "end_set",
        "start_endurance_test",
        "stop_endurance_test",
    ]
    for obj, _, cmd, _ in BUTTONS:
        _, c = BY_OBJ[obj]
        assert c["command_topic"] == "heelraise/shoe.1/cmd"
        assert _as_command(c["payload_press"]) == {"cmd": cmd}
    _, switch = BY_OBJ["live"]
    assert _as_command(switch["payload_on"]) == {"cmd": "set_live", "args": {"on": True}}
    assert _as_command(switch["payload_off"]) == {"cmd": "set_live", "args": {"on": False}}
    _, select = BY_OBJ["tempo"]
    assert select["options"] == list(TEMPO_OPTIONS) and select["options"][0] == "none"
    for option in TEMPO_OPTIONS[1:]:
        Tempo.parse(option)  # every option is a tempo the device accepts


def test_select_template_renders_to_a_valid_command(ha_python):
    """Rendered by HA's own template engine, for every option (as HA does on a selection)."""
    topic, select = BY_OBJ["tempo"]
    (result,) = ha_check(ha_python, [[topic, select]])["results"]
    rendered = result["rendered"]
    assert set(rendered) == set(TEMPO_OPTIONS)
    assert _as_command(rendered["none"]) == {"cmd": "set_tempo", "args": {"tempo": None}}
    for option in TEMPO_OPTIONS[1:]:
        assert _as_command(rendered[option]) == {"cmd": "set_tempo", "args": {"tempo": option}}


def test_last_rep_is_retained_for_a_late_subscriber(mqtt_broker, mqtt_subscriber, tmp_path):
    settings = MqttSettings(
        host=mqtt_broker.host,
        port=mqtt_broker.port,
        outbox_path=str(tmp_path / "o.sqlite"),
        reconnect_min_s=0.05,
        reconnect_max_s=0.3,
    )
    pub = MqttPublisher(settings, device_id="shoe-1", session_id="s-1")
    try:
        for e in fake_set(1, 3):
            pub.on_event(e)
        wait_until(lambda: pub.connected.is_set() and len(pub.outbox) == 0, 10, "all acked")
        late = mqtt_subscriber(mqtt_broker, "heelraise/shoe-1/last_rep")  # HA after a restart
        (m,) = late.wait_for(lambda ms: ms, what="the retained last rep")
        assert m.retain
        body = m.json()
        validation.validate("rep", body)
        assert (body["rep"]["set"], body["rep"]["index"]) == (1, 3)
    finally:
        pub.close()


# --- two shoes --------------------------------------------------------------------------------

PAIR = Topics("heelraise", "pair-1")
PAIR_MSGS = discovery_messages(PAIR, "homeassistant", version="0.1.0", sides=("left", "right"))
PAIR_BY_OBJ = {t.split("/")[3]: (t, c) for t, c in PAIR_MSGS}


def _pair_session(**kw) -> dict:
    from heelraise.events import SessionEvent, SessionSummary

    events = fake_set(1, 3)
    summary = SessionSummary(sets=[events[-1].summary])
    env = payloads.Envelope("pair-1", "s")
    body = payloads.session_payload(env, SessionEvent(summary, 40.0, **kw))
    validation.validate("session", body)
    return body


def test_two_shoes_get_per_side_entities_and_the_lsis_all_passing_has_schema(ha_python):
    from heelraise.symmetry import side_totals

    left = side_totals([60.0, 62.0, 58.0], body_mass_kg=70.0)
    right = side_totals([45.0, 48.0], body_mass_kg=70.0)
    session = _pair_session(sides={"left": left, "right": right}, involved="right")
    state = payloads.state_payload(
        payloads.Envelope("pair-1", "s"),
        {
            "mode": "free",
            "calibrated": True,
            "phase": "top",
            "set": 2,
            "reps_in_set": 4,
            "rep_count": 14,
            "tempo": None,
            "side": "right",
        },
        1.0,
    )
    sample = {PAIR.last_session: session, PAIR.side_state("right"): state}
    items = [[t, c, sample.get(c.get("state_topic"))] for t, c in PAIR_MSGS]
    items = [i if i[2] is not None else i[:2] for i in items]
    answer = ha_check(ha_python, items)
    assert len(answer["results"]) == len(PAIR_MSGS) == 2 * 7 + 1 + 2 * 3 + 3 + 1 + 4 + 1 + 1
    for r in answer["results"]:
        assert r["ok"], f"HA {answer['version']} refuses {r['topic']}: {r['error']}"
        assert set(r["dropped"]) <= newer_than(answer["version"]), (r["topic"], r["dropped"])
    got = {r["topic"].split("/")[3]: r for r in answer["results"]}
    # what HA shows, rendered by its own template engine from the device's messages
    assert got["reps_lsi"]["state"] == "66.7" and got["work_lsi"]["state"] == "51.7"
    assert json.loads(got["reps_lsi"]["attributes"])["ratio"] == "involved/uninvolved"
    assert json.loads(got["heel_rise_lsi"]["attributes"])["involved"] == "right"
    assert got["left_session_reps"]["state"] == "3" and got["right_session_reps"]["state"] == "2"
    assert got["right_session_work_j"]["state"] == str(right.to_dict()["work_j"])
    assert got["right_reps_in_set"]["state"] == "4" and got["right_phase"]["state"] == "top"
    # a session of one shoe: no LSI, and HA's sensor goes unknown ("None")
    one = _pair_session(side="left", sides={"left": left})
    lsi_topic, lsi = PAIR_BY_OBJ["reps_lsi"]
    right_topic, right_reps = PAIR_BY_OBJ["right_session_reps"]
    answer = ha_check(ha_python, [[lsi_topic, lsi, one], [right_topic, right_reps, one]])
    assert [r["state"] for r in answer["results"]] == ["None", "None"]


def test_each_shoes_entities_read_its_own_topics_and_keep_unique_ids():
    ids = [c["unique_id"] for _, c in PAIR_MSGS]
    assert len(ids) == len(set(ids))
    for side in ("left", "right"):
        _, reps = PAIR_BY_OBJ[f"{side}_reps_in_set"]
        assert reps["state_topic"] == f"heelraise/pair-1/state/{side}"
        assert reps["name"] == f"{side.capitalize()} reps in set"
        _, heel = PAIR_BY_OBJ[f"{side}_heel_rise_mm"]
        assert heel["state_topic"] == f"heelraise/pair-1/last_rep/{side}"
    assert PAIR_BY_OBJ["gaps"][1]["state_topic"] == "heelraise/pair-1/health"
    assert PAIR_BY_OBJ["tempo"][1]["state_topic"] == "heelraise/pair-1/state/left"
    for obj in ("reps_lsi", "heel_rise_lsi", "work_lsi"):
        _, c = PAIR_BY_OBJ[obj]
        assert c["state_topic"] == "heelraise/pair-1/last_session"
        assert c["unit_of_measurement"] == "%"
    # one named shoe: its own entities, no LSI; one unnamed sensor: as before
    one = {t.split("/")[3] for t, _ in discovery_messages(PAIR, sides=("right",))}
    assert "right_reps_in_set" in one and "reps_lsi" not in one and "left_phase" not in one
    assert {t.split("/")[3] for t, _ in discovery_messages(PAIR)} == set(BY_OBJ)
    with pytest.raises(ValueError, match="middle"):
        discovery_messages(PAIR, sides=("middle",))


def test_a_pairs_last_rep_and_session_are_retained_per_shoe(mqtt_broker, mqtt_subscriber, tmp_path):
    import dataclasses

    from heelraise.events import SessionEvent, SessionSummary
    from heelraise.symmetry import side_totals

    settings = MqttSettings(
        host=mqtt_broker.host,
        port=mqtt_broker.port,
        outbox_path=str(tmp_path / "o.sqlite"),
        reconnect_min_s=0.05,
        reconnect_max_s=0.3,
    )
    pub = MqttPublisher(settings, device_id="pair-1", session_id="s-1", sides=("left", "right"))
    try:
        left, right = fake_set(1, 3), fake_set(1, 2)
        for e in left:
            pub.on_event(dataclasses.replace(e, side="left"))
        for e in right:
            pub.on_event(dataclasses.replace(e, side="right"))
        totals = {
            "left": side_totals([r.heel_rise_mm for r in left[-1].summary.reps], 70.0),
            "right": side_totals([r.heel_rise_mm for r in right[-1].summary.reps], 70.0),
        }
        summary = SessionSummary(sets=[left[-1].summary, right[-1].summary])
        pub.on_event(SessionEvent(summary, 50.0, sides=totals, involved="right"))
        wait_until(lambda: pub.connected.is_set() and len(pub.outbox) == 0, 10, "all acked")
        late = mqtt_subscriber(mqtt_broker, "heelraise/pair-1/#")  # HA after a restart
        late.wait_for(
            lambda ms: (
                {m.topic for m in ms if m.retain}
                >= {
                    "heelraise/pair-1/last_rep/left",
                    "heelraise/pair-1/last_rep/right",
                    "heelraise/pair-1/last_session",
                }
            ),
            what="the retained copies",
        )
        retained = [m for m in late.messages if m.retain and m.topic != PAIR.status]
        by_topic = {m.topic: m.json() for m in retained}
        assert by_topic["heelraise/pair-1/last_rep/left"]["rep"]["index"] == 3
        assert by_topic["heelraise/pair-1/last_rep/right"]["rep"]["index"] == 2
        session = by_topic["heelraise/pair-1/last_session"]
        validation.validate("session", session)
        assert session["symmetry"]["reps_lsi"] == 66.7
    finally:
        pub.close()
