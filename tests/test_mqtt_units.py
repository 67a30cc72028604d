"""MQTT pieces without a broker: schemas, payloads, settings, outbox, discovery."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest
from heelraise.events import SessionEvent, SessionSummary
from heelraise.exceptions import OutboxError, PayloadInvalid, SettingsError
from heelraise.mqtt.discovery import discovery_messages
from heelraise.mqtt.outbox import Outbox
from heelraise.mqtt.settings import MqttSettings
from heelraise.mqtt.testing import fake_set
from heelraise.protocol import payloads, validation
from heelraise.protocol.topics import Topics
from heelraise.protocol.utctime import iso_utc
from heelraise.service.health import SensorHealth

ENV = payloads.Envelope("shoe-1", "sess-1", wall_clock=lambda: 1795576500.1239)
STATE = {
    "mode": "free",
    "calibrated": True,
    "phase": "top",
    "set": 2,
    "reps_in_set": 3,
    "rep_count": 13,
    "tempo": "3-0-2-1",
}


def test_every_schema_is_valid_draft_2020_12():
    for t in validation.TYPES:
        schema = validation.load_schema(t)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        jsonschema.Draft202012Validator.check_schema(schema)


def test_envelope_fields():
    events = fake_set(1, 2)
    d = payloads.rep_payload(ENV, events[0])
    assert d["schema"] == 1 and d["type"] == "rep" and d["device"] == "shoe-1"
    assert d["session"] == "sess-1"
    assert d["time"] == "2026-11-25T03:15:00.123Z"
    assert re.fullmatch(r"[0-9a-f]{32}", d["id"])
    assert d["sensor_t_s"] == pytest.approx(events[0].t_s)
    assert payloads.rep_payload(ENV, events[0])["id"] != d["id"]


def test_iso_time_truncates_milliseconds():
    assert iso_utc(0.9999) == "1970-01-01T00:00:00.999Z"
    assert iso_utc(1.0) == "1970-01-01T00:00:01.000Z"


def test_payloads_of_every_type_validate():
    events = fake_set(1, 4)
    rep = payloads.rep_payload(ENV, events[0])
    assert rep["rep"]["bottom_hold_s"] is None
    validation.validate("rep", rep)
    st = payloads.set_payload(ENV, events[-1])
    validation.validate("set", st)
    assert [r["index"] for r in st["set"]["reps"]] == [1, 2, 3, 4]
    assert st["set"]["reps"][0]["bottom_hold_s"] == pytest.approx(1.0)
    assert st["set"]["reps"][-1]["bottom_hold_s"] is None
    summary = SessionSummary(sets=[events[-1].summary])
    endurance = {
        "reps": 4,
        "first_heel_rise_mm": 70.2,
        "last_heel_rise_mm": 70.8,
        "mean_heel_rise_mm": 70.5,
        "decline_pct": -0.9,
        "work_j": 120.0,
        "stopped_by": "command",
    }
    for e in (None, endurance):
        validation.validate(
            "session", payloads.session_payload(ENV, SessionEvent(summary, 40.0, e))
        )
    validation.validate("state", payloads.state_payload(ENV, STATE, 12.5))
    validation.validate("state", payloads.state_payload(ENV, {**STATE, "tempo": None}, None))
    validation.validate("live", payloads.live_payload(ENV, [1.0, 1.1], [3.0, 4.5], "rising"))
    validation.validate(
        "cmd_result", payloads.cmd_result_payload(ENV, "abc", "end_set", True, None, 3.0)
    )
    validation.validate(
        "cmd_result", payloads.cmd_result_payload(ENV, "-", None, False, "not JSON", None)
    )


def test_invalid_payload_names_where():
    d = payloads.rep_payload(ENV, fake_set(1, 1)[0])
    d["rep"]["faults"] = ["wobble"]
    with pytest.raises(PayloadInvalid) as e:
        validation.validate("rep", d)
    assert e.value.where == "rep/faults/0" and "wobble" in str(e.value)
    d = payloads.state_payload(ENV, STATE, 1.0)
    d["extra"] = 1
    with pytest.raises(PayloadInvalid, match="extra"):
        validation.validate("state", d)
    d = payloads.live_payload(ENV, [1.0, 1.1], [3.0, 4.5], "rising")
    d["pitch_deg"] = [3.0]
    with pytest.raises(PayloadInvalid, match="1 values for 2 times"):
        validation.validate("live", d)


def test_nan_cannot_be_encoded():
    d = payloads.live_payload(ENV, [1.0], [float("nan")], "top")
    with pytest.raises(ValueError):
        payloads.encode(d)


@pytest.mark.parametrize(
    "cmd, ok",
    [
        ({"id": "1", "cmd": "start_set"}, True),
        ({"id": "1", "cmd": "start_set", "args": {"tempo": "3-0-2-1", "mode": "guided"}}, True),
        ({"id": "1", "cmd": "set_tempo", "args": {"tempo": None}}, True),
        ({"id": "1", "cmd": "set_live", "args": {"on": True}}, True),
        ({"id": "1", "cmd": "start_endurance_test", "args": {"pace_bpm": 30}}, True),
        ({"id": "1", "cmd": "set_live", "args": {"on": "yes"}}, False),
        ({"id": "1", "cmd": "set_live"}, False),
        ({"id": "1", "cmd": "set_tempo", "args": {}}, False),
        ({"id": "1", "cmd": "end_set", "args": {"now": True}}, False),
        ({"id": "1", "cmd": "reboot"}, False),
        ({"cmd": "end_set"}, True),  # no id: Home Assistant buttons; run every time
        ({"id": "", "cmd": "end_set"}, False),
        ({"id": "1", "cmd": "end_set", "extra": 1}, False),
    ],
)
def test_cmd_schema(cmd, ok):
    assert (not validation.errors("cmd", cmd)) == ok


def test_topics():
    t = Topics("home/heelraise", "shoe-1")
    assert t.event("rep") == "home/heelraise/shoe-1/event/rep"
    assert t.cmd_result == "home/heelraise/shoe-1/cmd/result"
    for bad in ("a/+", "x#", "", "a b"):
        with pytest.raises(SettingsError, match="device id"):
            Topics("heelraise", bad)
    with pytest.raises(SettingsError, match="prefix"):
        Topics("heelraise/", "shoe")


# --- settings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"port": 0}, "port must be a whole number from 1 to 65535, not 0"),
        ({"port": "1883"}, "port must be a whole number"),
        ({"qos": 3}, "qos must be 0, 1 or 2, not 3"),
        ({"live_hz": 30}, "live_hz must be over 0 and at most 25, not 30"),
        ({"live_hz": 0}, "live_hz must be over 0"),
        ({"live": "yes"}, "live must be true or false"),
        ({"prefix": "a/#"}, "prefix 'a/#'"),
        ({"discovery_prefix": "/ha"}, "discovery_prefix '/ha'"),
        ({"tls_cert": "/nonexistent.crt"}, "tls_cert and tls_key go together"),
        ({"tls_ca": "/nonexistent/ca.crt"}, "tls_ca '/nonexistent/ca.crt' is not a readable file"),
        ({"password": "pw"}, "a password is set but username is empty"),
        ({"outbox_max_messages": 5}, "outbox_max_messages must be a whole number from 10"),
        ({"max_cmd_bytes": 10}, "max_cmd_bytes must be a whole number from 64"),
        ({"reconnect_min_s": 10, "reconnect_max_s": 5}, "reconnect_max_s (5) must be at least"),
        ({"host": ""}, "host must not be empty"),
    ],
)
def test_settings_refuse_bad_values(kwargs, message):
    with pytest.raises(SettingsError) as e:
        MqttSettings(**kwargs)
    assert message in str(e.value)


def test_settings_hide_the_password():
    s = MqttSettings(username="shoe-1", password="hunter2-secret")
    assert "hunter2-secret" not in repr(s) and "hunter2-secret" not in str(s)
    assert s.resolve_password() == "hunter2-secret"


def test_password_from_file_then_env(tmp_path):
    f = tmp_path / "pw"
    f.write_text("from-file-pw\nsecond line ignored\n")
    assert MqttSettings(username="u", password_file=str(f)).resolve_password() == "from-file-pw"
    env = {"HEELRAISE_MQTT_PASSWORD": "from-env-pw", "OTHER": "x"}
    assert MqttSettings(username="u").resolve_password(env) == "from-env-pw"
    s = MqttSettings(username="u", password_env="OTHER")
    assert s.resolve_password(env) == "x"
    assert MqttSettings().resolve_password(env) is None  # no username: no password
    f.write_text("\n")
    with pytest.raises(SettingsError, match="is empty"):
        MqttSettings(username="u", password_file=str(f)).resolve_password()


def test_outbox_path_default(monkeypatch, tmp_path):
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path))
    assert MqttSettings().resolve_outbox_path("shoe-1") == f"{tmp_path}/outbox-shoe-1.sqlite"
    monkeypatch.delenv("STATE_DIRECTORY")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "x"))
    assert MqttSettings().resolve_outbox_path("s") == f"{tmp_path}/x/heelraise/outbox-s.sqlite"
    assert MqttSettings(outbox_path="/o.db").resolve_outbox_path("s") == "/o.db"


def test_settings_accept_every_field_as_keyword():
    # The service config maps the [mqtt] TOML table onto these keyword arguments.
    import dataclasses

    names = [f.name for f in dataclasses.fields(MqttSettings)]
    assert {"host", "port", "prefix", "keepalive", "qos", "live", "live_hz", "outbox_path"} <= set(
        names
    )
    assert {"outbox_max_messages", "discovery", "discovery_prefix", "tls_ca", "tls_cert"} <= set(
        names
    )
    assert {"tls_key", "username", "password", "password_file", "password_env"} <= set(names)
    assert "max_cmd_bytes" in names
    assert MqttSettings().prefix == "heelraise" and MqttSettings().live is False
    assert MqttSettings().password_env == "HEELRAISE_MQTT_PASSWORD"


# --- outbox -------------------------------------------------------------------------------------


def test_outbox_order_ack_and_reopen(tmp_path):
    path = tmp_path / "o.sqlite"
    box = Outbox(str(path), max_messages=100)
    seqs = [box.put("rep", "t/rep", f"{i}".encode(), 1, False) for i in range(5)]
    assert seqs == sorted(seqs) and len(box) == 5
    assert [r.payload for r in box.pending()] == [b"0", b"1", b"2", b"3", b"4"]
    assert [r.payload for r in box.pending(after_seq=seqs[2])] == [b"3", b"4"]
    assert box.ack(seqs[0], seqs[3]) == 2
    assert box.ack(seqs[0]) == 0  # acknowledged twice: no harm
    box.close()
    again = Outbox(str(path), max_messages=100)
    rows = again.pending()
    assert [r.payload for r in rows] == [b"1", b"2", b"4"] and len(again) == 3
    assert rows[0].topic == "t/rep" and rows[0].qos == 1 and rows[0].retain is False
    assert again.put("rep", "t/rep", b"5", 1, False) > seqs[-1]  # seq never reused


def test_outbox_full_drops_state_first_then_refuses_events(tmp_path, caplog):
    box = Outbox(str(tmp_path / "o.sqlite"), max_messages=10)
    box.put("state", "t/state", b"s0", 1, True)
    box.put("cmd_result", "t/r", b"c0", 1, False)
    for i in range(8):
        box.put("rep", "t/rep", f"r{i}".encode(), 1, False)
    assert len(box) == 10
    box.put("rep", "t/rep", b"r8", 1, False)  # evicts s0
    box.put("rep", "t/rep", b"r9", 1, False)  # evicts c0
    assert "dropped the oldest state" in caplog.text
    assert [r.payload for r in box.pending()][:2] == [b"r0", b"r1"]
    with pytest.raises(OutboxError, match="new rep event refused"):
        box.put("rep", "t/rep", b"r10", 1, False)
    with pytest.raises(OutboxError, match="this state message is dropped"):
        box.put("state", "t/state", b"s1", 1, True)
    assert len(box) == 10 and box.stats.dropped == 3 and box.stats.refused == 1
    assert [r.payload for r in box.pending(limit=100)][-1] == b"r9"


def test_outbox_coalesces_unsent_state(tmp_path):
    box = Outbox(":memory:", max_messages=100)
    a = box.put("state", "t/state", b"s1", 1, True)
    box.put("rep", "t/rep", b"r", 1, False)
    box.put("state", "t/state", b"s2", 1, True, replace_unsent_after=0)
    assert [r.payload for r in box.pending()] == [b"r", b"s2"]
    box.put("state", "t/state", b"s3", 1, True, replace_unsent_after=a)
    assert [r.payload for r in box.pending()] == [b"r", b"s3"]


def test_outbox_unusable_path_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutboxError, match="cannot be made"):
        Outbox(str(blocker / "sub" / "o.sqlite"))
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(OutboxError, match="cannot be opened"):
        Outbox(str(garbage))


# --- discovery ----------------------------------------------------------------------------------


def test_discovery_configs():
    msgs = discovery_messages(Topics("heelraise", "shoe.1"), "ha", version="9.9")
    topics = [t for t, _ in msgs]
    assert "ha/sensor/heelraise_shoe_1/reps_in_set/config" in topics
    by_obj = {t.split("/")[3]: c for t, c in msgs}
    assert set(by_obj) >= {"reps_in_set", "last_raise_s", "last_lower_s", "heel_rise_mm"}
    assert set(by_obj) >= {"set_count"}
    for c in by_obj.values():
        assert c["availability_topic"] == "heelraise/shoe.1/status"
        assert c["payload_available"] == "online" and c["payload_not_available"] == "offline"
        assert c["device"]["identifiers"] == ["heelraise_shoe_1"]
        assert c["device"]["sw_version"] == "9.9"
        json.dumps(c)
    assert len({c["unique_id"] for c in by_obj.values()}) == len(by_obj)
    raise_ = by_obj["last_raise_s"]
    assert raise_["state_topic"] == "heelraise/shoe.1/last_rep"  # retained copy of event/rep
    assert raise_["unit_of_measurement"] == "s" and raise_["device_class"] == "duration"
    assert by_obj["heel_rise_mm"]["unit_of_measurement"] == "mm"
    assert by_obj["reps_in_set"]["state_topic"] == "heelraise/shoe.1/state"
    # The templates read fields the payloads really have.
    rep = payloads.rep_payload(ENV, fake_set(1, 1)[0])
    state = payloads.state_payload(ENV, STATE, 1.0)
    health = payloads.health_payload(ENV, SensorHealth().snapshot(), 1.0)
    docs = {"last_rep": rep, "state": state, "health": health}
    for c in by_obj.values():
        if "value_template" not in c:
            continue  # buttons and the switch have no state
        path = re.search(r"value_json\.(\w+)\.(\w+)", c["value_template"]).groups()
        doc = docs[c["state_topic"].rsplit("/", 1)[1]]
        assert path[1] in doc[path[0]]
