"""TLS, logins and the example ACL, against a real broker; secrets never reach the log."""

from __future__ import annotations

import json
import logging
import re
import time
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


# --------------------------------------------------------------------------- one line per mistake

# case -> the words its one line must carry
MISTAKES = {
    "wrong_ca": "is not signed by the CA we trust",
    "expired_certificate": "is outside its validity dates",
    "mismatched_certificate": "is not for '127.0.0.1'",
    "plain_to_tls_port": "a TLS port?",
    "tls_to_plain_port": "a plain MQTT port?",
    "wrong_password": "refused the login of user 'shoe-1'",
}


def _mistake(case, factory, tmp_path):
    """(broker, client options) for one deployment mistake, against a real broker."""
    from conftest import make_tls_files

    good = {"shoe-1": "s3cret-heel-Pa55"}
    if case == "wrong_ca":
        broker = factory(tls=True, users=good)
        other = make_tls_files(tmp_path / "other-ca")
        return broker, dict(tls_ca=str(other.ca_path), password=good["shoe-1"])
    if case == "expired_certificate":
        broker = factory(tls=make_tls_files(tmp_path / "expired", expired=True), users=good)
    elif case == "mismatched_certificate":
        files = make_tls_files(tmp_path / "other-name", server_names=("mqtt.example.org",))
        broker = factory(tls=files, users=good)
    elif case == "plain_to_tls_port":
        broker = factory(tls=True, users=good)
        return broker, dict(tls_ca=None, password=good["shoe-1"])
    elif case == "tls_to_plain_port":
        broker = factory(users=good)
        other = make_tls_files(tmp_path / "ca-for-nothing")
        return broker, dict(tls_ca=str(other.ca_path), password=good["shoe-1"])
    else:
        broker = factory(tls=True, users=good)
        return broker, dict(tls_ca=broker.ca_path, password="wrong-" + good["shoe-1"])
    return broker, dict(tls_ca=broker.ca_path, password=good["shoe-1"])


def _lines(caplog, words):
    return [r for r in caplog.records if words in r.getMessage()]


@pytest.mark.parametrize("case", list(MISTAKES))
def test_the_shoe_logs_one_clear_line_for_each_mistake(case, mqtt_broker_factory, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    broker, opts = _mistake(case, mqtt_broker_factory, tmp_path)
    settings = MqttSettings(
        host=broker.host,
        port=broker.port,
        username="shoe-1",
        outbox_path=str(tmp_path / "outbox.sqlite"),
        reconnect_min_s=0.05,
        reconnect_max_s=0.2,
        tls_ca=opts["tls_ca"] or "",
        password=opts["password"],
    )
    pub = MqttPublisher(settings, device_id="shoe-1", session_id="s")
    try:
        pub.on_event(fake_set(1, 1)[0])
        words = MISTAKES[case]
        wait_until(lambda: _lines(caplog, words), 10, f"the line saying {words!r}")
        time.sleep(0.5)  # several retries: still one line
        assert not pub.connected.is_set() and len(pub.outbox) == 1
    finally:
        pub.close()
    (record,) = _lines(caplog, words)
    assert record.levelname == "ERROR" and f"{broker.host}:{broker.port}" in record.getMessage()
    assert opts["password"] not in caplog.text


@pytest.mark.parametrize("case", list(MISTAKES))
def test_the_dashboard_says_the_same_line_at_the_default_level(
    case, mqtt_broker_factory, tmp_path, caplog
):
    from heelraise_host.ingest import Ingest, IngestError
    from heelraise_host.store import Store

    caplog.set_level(logging.WARNING)  # the dashboard's default --log-level
    broker, opts = _mistake(case, mqtt_broker_factory, tmp_path)
    ingest = Ingest(
        Store(tmp_path / "h.db"),
        broker=f"{broker.host}:{broker.port}",
        username="shoe-1",
        password=opts["password"],
        tls_ca=opts["tls_ca"],
    )
    words = MISTAKES[case]
    with pytest.raises(IngestError, match=re.escape(words)):
        ingest.start(timeout_s=3)
    (record,) = {r.getMessage(): r for r in _lines(caplog, words)}.values()
    assert record.levelname == "ERROR"
    if case == "wrong_password":
        assert "--password-file / $HEELRAISE_MQTT_PASSWORD" in record.getMessage()
    assert opts["password"] not in caplog.text


def test_a_ca_file_that_is_no_certificate_is_named_on_both_sides(mqtt_tls_broker, tmp_path):
    from heelraise.exceptions import SettingsError
    from heelraise_host.ingest import Ingest
    from heelraise_host.store import Store

    bogus = tmp_path / "ca.crt"
    bogus.write_text("this is not a certificate\n")
    with pytest.raises(SettingsError, match=f"cannot load CA file '{bogus}'.*PEM"):
        MqttPublisher(
            _tls_settings(mqtt_tls_broker, tmp_path, tls_ca=str(bogus), password="x"),
            device_id="shoe-1",
            session_id="s",
        )
    ingest = Ingest(
        Store(), broker=f"{mqtt_tls_broker.host}:{mqtt_tls_broker.port}", tls_ca=str(bogus)
    )
    with pytest.raises(SettingsError, match=f"cannot load CA file '{bogus}'"):
        ingest.start(timeout_s=2)
    ingest.stop()
