"""TLS, logins and the example ACL, against a real broker; secrets never reach the log."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from conftest import connect_client, wait_until
from heelraise.mqtt.publisher import MqttPublisher
from heelraise.mqtt.settings import MqttSettings
from heelraise.mqtt.testing import fake_set

ACL = Path(__file__).resolve().parents[1] / "firmware" / "deploy" / "mosquitto" / "acl"


@pytest.fixture
def debug_log(caplog):
    caplog.set_level(logging.DEBUG)  # everything, paho's packet log included
    return caplog


def _tls_settings(broker, tmp_path, **kw):
    base = dict(
        host=broker.host,
        port=broker.port,
        tls_ca=broker.ca_path,
        username=broker.username,
        outbox_path=str(tmp_path / "outbox.sqlite"),
        reconnect_min_s=0.05,
        reconnect_max_s=0.3,
    )
    base.update(kw)
    return MqttSettings(**base)


def test_tls_with_password_file_delivers_and_never_logs_the_password(
    mqtt_tls_broker, mqtt_subscriber, tmp_path, debug_log
):
    pw_file = tmp_path / "mqtt-password"
    pw_file.write_text(mqtt_tls_broker.password + "\n")
    rec = mqtt_subscriber(mqtt_tls_broker, "heelraise/shoe-1/event/#")
    pub = MqttPublisher(
        _tls_settings(mqtt_tls_broker, tmp_path, password_file=str(pw_file)),
        device_id="shoe-1",
        session_id="s",
    )
    try:
        for e in fake_set(1, 3):
            pub.on_event(e)
        rec.wait_for(lambda ms: len(ms) == 4, what="3 reps and the set over TLS")
    finally:
        pub.close()
    assert "MQTT connected" in debug_log.text
    assert mqtt_tls_broker.password not in debug_log.text
    assert mqtt_tls_broker.password not in repr(pub.settings)


def test_password_from_environment(mqtt_tls_broker, mqtt_subscriber, tmp_path, monkeypatch):
    monkeypatch.setenv("HEELRAISE_MQTT_PASSWORD", mqtt_tls_broker.password)
    status = mqtt_subscriber(mqtt_tls_broker, "heelraise/shoe-1/status")
    pub = MqttPublisher(
        _tls_settings(mqtt_tls_broker, tmp_path), device_id="shoe-1", session_id="s"
    )
    try:
        status.wait_for(lambda ms: ms and ms[-1].payload == b"online", what="online over TLS")
    finally:
        pub.close()


def test_tls_with_client_certificate(mqtt_tls_broker, mqtt_subscriber, tmp_path):
    status = mqtt_subscriber(mqtt_tls_broker, "heelraise/shoe-1/status")
    pub = MqttPublisher(
        _tls_settings(
            mqtt_tls_broker,
            tmp_path,
            password=mqtt_tls_broker.password,
            tls_cert=mqtt_tls_broker.client_cert_path,
            tls_key=mqtt_tls_broker.client_key_path,
        ),
        device_id="shoe-1",
        session_id="s",
    )
    try:
        status.wait_for(lambda ms: ms and ms[-1].payload == b"online", what="online")
    finally:
        pub.close()


def test_wrong_password_is_refused_with_a_clear_log_line(mqtt_tls_broker, tmp_path, debug_log):
    wrong = "definitely-Wrong-pw-42"
    pub = MqttPublisher(
        _tls_settings(mqtt_tls_broker, tmp_path, password=wrong), device_id="shoe-1", session_id="s"
    )
    try:
        pub.on_event(fake_set(1, 1)[0])  # kept in the outbox, the loop goes on
        wait_until(
            lambda: [r for r in debug_log.records if "refused the login" in r.getMessage()],
            10,
            "the refusal to be logged",
        )
        assert not pub.connected.is_set() and len(pub.outbox) == 1
    finally:
        pub.close()
    (line,) = {r.getMessage() for r in debug_log.records if "refused the login" in r.getMessage()}
    assert f"{mqtt_tls_broker.host}:{mqtt_tls_broker.port}" in line
    assert "user 'shoe-1'" in line and "check username and password" in line
    assert [r.levelname for r in debug_log.records if "refused the login" in r.getMessage()][0] == (
        "ERROR"
    )
    assert wrong not in debug_log.text and mqtt_tls_broker.password not in debug_log.text


def test_untrusted_ca_never_connects(mqtt_tls_broker, mqtt_broker_factory, tmp_path, caplog):
    other = mqtt_broker_factory(tls=True, users={"x": "y"})  # a CA the shoe does not trust
    pub = MqttPublisher(
        _tls_settings(
            mqtt_tls_broker, tmp_path, password=mqtt_tls_broker.password, tls_ca=other.ca_path
        ),
        device_id="shoe-1",
        session_id="s",
    )
    try:
        pub.on_event(fake_set(1, 1)[0])
        wait_until(lambda: "TLS handshake failed" in caplog.text, 10, "a failed attempt")
        assert not pub.connected.is_set() and len(pub.outbox) == 1
    finally:
        pub.close()


def test_example_acl_confines_each_device_to_its_subtree(mqtt_broker_factory, mqtt_subscriber):
    users = {"shoe-1": "pw-one", "shoe-2": "pw-two", "dashboard": "pw-dash"}
    broker = mqtt_broker_factory(users=users, acl=ACL.read_text())
    dash = dict(tls_ca=None, username="dashboard", password="pw-dash")
    watch = mqtt_subscriber(broker, "heelraise/#", **dash)
    shoe = connect_client(broker, tls_ca=None, username="shoe-1", password="pw-one")
    shoe.connect(broker.host, broker.port)
    shoe.loop_start()
    try:
        body = json.dumps({"x": 1})
        shoe.publish("heelraise/shoe-2/event/rep", body, qos=1).wait_for_publish(10)  # denied
        shoe.publish("heelraise/shoe-2/cmd", body, qos=1).wait_for_publish(10)  # denied
        shoe.publish("heelraise/shoe-1/event/rep", body, qos=1).wait_for_publish(10)  # own
        watch.wait_for(lambda ms: ms, what="the shoe's own message")
        assert [m.topic for m in watch.messages] == ["heelraise/shoe-1/event/rep"]
    finally:
        shoe.loop_stop()
        shoe.disconnect()
    # The dashboard may command a shoe; the shoe reads only its own commands.
    shoe2 = mqtt_subscriber(broker, "heelraise/+/cmd", username="shoe-2", password="pw-two")
    sender = connect_client(broker, username="dashboard", password="pw-dash")
    sender.connect(broker.host, broker.port)
    sender.loop_start()
    try:
        sender.publish("heelraise/shoe-1/cmd", b"{}", qos=1).wait_for_publish(10)
        sender.publish("heelraise/shoe-2/cmd", b"{}", qos=1).wait_for_publish(10)
        shoe2.wait_for(lambda ms: ms, what="shoe-2's command")
        assert [m.topic for m in shoe2.messages] == ["heelraise/shoe-2/cmd"]
    finally:
        sender.loop_stop()
        sender.disconnect()
