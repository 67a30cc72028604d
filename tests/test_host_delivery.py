"""Shoe to dashboard through a real mosquitto with the shipped config's limits: nothing lost,
nothing poisoned.

* The dashboard away while 20 shoes each play 5 sessions, then back: every event once.
* 25 hostile messages of each kind from one device, then a real session from another:
  all of its reps stored, the pages' API answers, the refusals counted by reason.
* The shipped config itself starts mosquitto; the dashboard warns when a broker cannot
  keep its session.
"""

from __future__ import annotations

import collections
import logging
import os
import pwd
import re
import socket
import subprocess
import threading

import httpx
import paho.mqtt.client as mqtt
from conftest import (
    MOSQUITTO,
    free_port,
    make_tls_files,
    wait_until,
    write_mosquitto_passwords,
)
from heelraise_host.brokerconf import SHIPPED_CONF, shipped_limits
from heelraise_host.devicesim import HOSTILE_KINDS, hostile_messages, publish_all, session_messages
from heelraise_host.ingest import Ingest
from heelraise_host.server import Dashboard
from heelraise_host.store import Store

SHOES, SESSIONS = 20, 5


def _broker(b) -> str:
    return f"{b.host}:{b.port}"


def _shoe(broker, name):
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name)
    client.connect(broker.host, broker.port)
    client.loop_start()
    return client


def _close(*clients):
    for c in clients:
        c.disconnect()
        c.loop_stop()


def test_the_fixture_brokers_run_the_shipped_limits(mqtt_broker):
    conf = mqtt_broker.config_path.read_text()
    limits = shipped_limits()
    assert {"max_queued_messages", "max_queued_bytes", "max_inflight_messages"} <= set(limits)
    for key, value in limits.items():
        assert f"\n{key} {value}\n" in conf
    assert conf.count("max_queued_messages") == 1  # nothing raises it afterwards


def test_dashboard_away_while_20_shoes_play_5_sessions_then_every_event_is_stored_once(
    mqtt_broker, tmp_path
):
    store = Store(tmp_path / "h.db")
    first = Ingest(store, broker=_broker(mqtt_broker), client_id="dash-home")
    first.start()
    first.stop()  # away: the broker keeps its session and queues its QoS 1 events
    plans = {
        f"shoe-{d:02d}": [
            m
            for s in range(SESSIONS)
            for m in session_messages(
                f"shoe-{d:02d}", f"s-{s}", reps_per_set=[15, 15, 15], seed=100 * d + s
            )
        ]
        for d in range(SHOES)
    }
    shoes = [_shoe(mqtt_broker, f"sim-{name}") for name in plans]
    threads = [
        threading.Thread(target=publish_all, args=(c, msgs), kwargs={"timeout_s": 60})
        for c, msgs in zip(shoes, plans.values(), strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _close(*shoes)
    events = [m for msgs in plans.values() for m in msgs if "/event/" in m.topic]
    states = [m for msgs in plans.values() for m in msgs if m.topic.endswith("/state")]
    # More than mosquitto's default queue (1000) of events, and as many states again
    # which a QoS 1 state subscription would have queued too.
    assert len(events) == SHOES * SESSIONS * (45 + 3 + 1) and len(states) >= len(events)

    back = Ingest(store, broker=_broker(mqtt_broker), client_id="dash-home")
    back.start()
    try:
        wait_until(lambda: store.counts()["messages"] >= len(events), 60, "the queued events")
        counts = store.counts()
        assert counts["messages"] == len(events)
        assert counts["reps"] == SHOES * SESSIONS * 45
        assert counts["sets"] == SHOES * SESSIONS * 3
        assert counts["sessions"] == SHOES * SESSIONS
        ids = [r[0] for r in store._conn().execute("SELECT device || id FROM messages")]
        assert len(set(ids)) == len(events)  # none twice
        assert back.rejected == {}
        assert back.health()["session"]["session_present"] is True
    finally:
        back.stop()


def test_hostile_messages_from_one_device_cannot_keep_another_ones_session_out(
    mqtt_broker, tmp_path
):
    store = Store(tmp_path / "h.db")
    ingest = Ingest(store, broker=_broker(mqtt_broker))
    ingest.start()
    dash = Dashboard(store, ingest, bind="127.0.0.1:0").start()
    evil, shoe = _shoe(mqtt_broker, "evil"), _shoe(mqtt_broker, "good")
    try:
        hostile = hostile_messages("evil-1", each=25)
        publish_all(evil, [m for _, m in hostile], timeout_s=60)
        good = session_messages("shoe-1", "s-1", reps_per_set=[10, 8], seed=3, endurance=True)
        # The evil device also sends the real session's ids first, as its own messages:
        # ids are per device, so that takes nothing from shoe-1.
        stolen = session_messages("evil-1", "s-1", reps_per_set=[10, 8], seed=3, endurance=True)
        assert [m.json()["id"] for m in stolen] == [m.json()["id"] for m in good]
        publish_all(evil, stolen)
        publish_all(shoe, good)
        n_good = len([m for m in good if "/event/" in m.topic])
        # All of the real session is stored, even though more refused messages came first
        # than the broker lets be in flight unacknowledged.
        wait_until(
            lambda: len(store.messages_after(0, limit=10_000)) >= 2 * n_good + 1, 30, "sessions"
        )
        assert len(store.session_reps("shoe-1", "s-1")) == 18
        assert len(store.session_reps("evil-1", "s-1")) == 18
        want = collections.Counter()
        for reason in HOSTILE_KINDS.values():
            want[reason] += 25
        wait_until(lambda: ingest.rejected == want, 10, f"refusals {want}")
        with httpx.Client(base_url=dash.url, timeout=10) as c:
            live = c.get("/api/live")
            assert live.status_code == 200
            assert {d["device"] for d in live.json()["devices"]} == {"shoe-1", "evil-1"}
            assert c.get("/api/trends").status_code == 200
            assert c.get("/api/trends", params={"device": "evil-1"}).status_code == 200
            assert c.get("/api/sessions").status_code == 200
            health = c.get("/api/health").json()["ingest"]
            assert health["rejected"] == dict(want)
            assert health["refused"] == sum(want.values())
            assert c.get("/api/stream", params={"after": "9" * 40}).status_code == 400
            assert c.get("/api/stream", params={"after": str(2**70)}).status_code == 400
    finally:
        _close(evil, shoe)
        dash.stop()
        ingest.stop()


def test_the_shipped_config_starts_mosquitto_as_it_is(tmp_path):
    """The whole example file, with only its paths and ports pointed at this test."""
    tls = make_tls_files(tmp_path / "tls")
    write_mosquitto_passwords(tmp_path / "passwords", {"shoe-1": "pw-shoe-1"})
    (tmp_path / "acl").write_text((SHIPPED_CONF.parent / "acl").read_text())
    tls_port, plain_port = free_port(), free_port()
    text = SHIPPED_CONF.read_text()
    text = text.replace("/etc/mosquitto/heelraise/passwords", str(tmp_path / "passwords"))
    text = text.replace("/etc/mosquitto/heelraise/acl", str(tmp_path / "acl"))
    text = text.replace("/etc/mosquitto/heelraise/ca.crt", str(tls.ca_path))
    text = text.replace("/etc/mosquitto/heelraise/server.crt", str(tls.server_cert_path))
    text = text.replace("/etc/mosquitto/heelraise/server.key", str(tls.server_key_path))
    text = re.sub(r"^listener 8883$", f"listener {tls_port} 127.0.0.1", text, flags=re.M)
    text = re.sub(r"^listener 1883 ", f"listener {plain_port} ", text, flags=re.M)
    text += (
        f"persistence_location {tmp_path}/\nuser {pwd.getpwuid(os.getuid()).pw_name}\n"
        "log_dest stderr\n"
    )
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(text)
    os.chmod(tmp_path / "acl", 0o600)
    proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stderr=subprocess.PIPE, text=True)
    try:

        def accepting():
            assert proc.poll() is None, proc.stderr.read()
            try:
                socket.create_connection(("127.0.0.1", plain_port), 0.2).close()
                return True
            except OSError:
                return False

        wait_until(accepting, 10, "the shipped config's broker")
    finally:
        proc.kill()
        proc.wait(10)


def test_the_dashboard_warns_when_the_broker_lost_its_session(mqtt_broker, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="heelraise_host")
    ingest = Ingest(Store(tmp_path / "h.db"), broker=_broker(mqtt_broker), client_id="dash-w")
    ingest.start()
    try:
        assert ingest.health()["session"]["session_expiry_s"] == 7 * 24 * 3600
        assert not [r for r in caplog.records if "session" in r.getMessage()]
        mqtt_broker.stop()  # this fixture broker does not persist: the session goes with it
        mqtt_broker.start()
        wait_until(lambda: ingest.connected, 20, "reconnected")
        lines = [r.getMessage() for r in caplog.records]
        (line,) = [t for t in lines if "no longer had our session" in t]
        assert f"broker {_broker(mqtt_broker)}" in line and "dash-w" in line
    finally:
        ingest.stop()


def test_the_dashboard_warns_when_a_broker_grants_less_than_it_needs(caplog):
    from types import SimpleNamespace

    from heelraise_host.mqttlink import MqttLink

    caplog.set_level(logging.WARNING, logger="heelraise_host")
    link = MqttLink("broker.lan", 1883, client_id="dash-x", session_expiry_s=7 * 24 * 3600)
    flags = SimpleNamespace(session_present=False)
    link._note_connack(flags, SimpleNamespace(SessionExpiryInterval=3600, ReceiveMaximum=5))
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "only 3600 s after a disconnect, not the 604800 s asked" in text
    assert "allows only 5 QoS 1 messages in flight" in text
    assert link.connack == {
        "protocol": "5",
        "session_present": False,
        "session_expiry_s": 3600,
        "receive_maximum": 5,
    }
    caplog.clear()
    link._note_connack(flags, SimpleNamespace(ReceiveMaximum=100))  # a reconnect: all granted
    assert [r.getMessage() for r in caplog.records] == [
        "broker broker.lan:1883 no longer had our session (client id dash-x): what was"
        " published while we were disconnected is lost to us (a broker restarted without"
        " persistence?)"
    ]


def test_a_kept_session_over_mqtt_3_1_1_is_announced(mqtt_broker, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="heelraise_host")
    ingest = Ingest(
        Store(tmp_path / "h.db"), broker=_broker(mqtt_broker), client_id="d3", protocol="3.1.1"
    )
    ingest.start()
    try:
        (line,) = [r.getMessage() for r in caplog.records if "over MQTT 3.1.1" in r.getMessage()]
        assert "persistent_client_expiration" in line and "d3" in line
    finally:
        ingest.stop()
