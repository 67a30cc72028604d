"""The broker fixtures themselves: they must really broker, restart on the same port, and
refuse what they are configured to refuse (other tests rely on that)."""

from __future__ import annotations

import paho.mqtt.client as mqtt
from conftest import connect_client, wait_until


def _publish_and_receive(broker, mqtt_subscriber, **kwargs):
    rec = mqtt_subscriber(broker, "fixture/#", **kwargs)
    pub = connect_client(broker, **(kwargs or broker.client_kwargs()))
    pub.connect(broker.host, broker.port)
    pub.loop_start()
    try:
        pub.publish("fixture/x", b"hello", qos=1).wait_for_publish(10)
        msgs = rec.wait_for(lambda m: [x for x in m if x.topic == "fixture/x"], what="fixture/x")
        assert msgs[0].payload == b"hello"
    finally:
        pub.disconnect()
        pub.loop_stop()


def test_plain_broker_delivers(mqtt_broker, mqtt_subscriber):
    assert mqtt_broker.host == "127.0.0.1" and mqtt_broker.port > 0
    _publish_and_receive(mqtt_broker, mqtt_subscriber)


def test_restart_keeps_port_and_kill_closes_it(mqtt_broker, mqtt_subscriber):
    port = mqtt_broker.port
    mqtt_broker.stop()
    assert not mqtt_broker.running
    mqtt_broker.start()
    assert mqtt_broker.port == port and mqtt_broker.running
    mqtt_broker.kill()
    assert not mqtt_broker.running
    mqtt_broker.start()
    _publish_and_receive(mqtt_broker, mqtt_subscriber)
    assert mqtt_broker.starts == 3


def test_tls_broker_with_password(mqtt_tls_broker, mqtt_subscriber):
    assert mqtt_tls_broker.ca_path and mqtt_tls_broker.password
    _publish_and_receive(mqtt_tls_broker, mqtt_subscriber)


def test_tls_broker_refuses_wrong_password(mqtt_tls_broker):
    client = connect_client(
        mqtt_tls_broker,
        tls_ca=mqtt_tls_broker.ca_path,
        username=mqtt_tls_broker.username,
        password="wrong",
    )
    codes = []
    client.on_connect = lambda c, u, f, rc, p: codes.append(rc)
    client.connect(mqtt_tls_broker.host, mqtt_tls_broker.port)
    client.loop_start()
    try:
        wait_until(lambda: codes, 10, "CONNACK")
        assert codes[0].is_failure
        assert codes[0] == mqtt.CONNACK_REFUSED_NOT_AUTHORIZED or "authori" in str(codes[0])
    finally:
        client.loop_stop()


def test_tls_broker_refuses_plaintext(mqtt_tls_broker):
    client = connect_client(
        mqtt_tls_broker, username=mqtt_tls_broker.username, password=mqtt_tls_broker.password
    )
    events = []
    client.on_connect = lambda c, u, f, rc, p: events.append(("connect", rc))
    client.on_disconnect = lambda c, u, f, rc, p: events.append(("disconnect", rc))
    client.connect(mqtt_tls_broker.host, mqtt_tls_broker.port)
    client.loop_start()
    try:
        wait_until(lambda: any(e[0] == "disconnect" for e in events), 10, "the broker to hang up")
        assert not [e for e in events if e[0] == "connect" and not e[1].is_failure]
    finally:
        client.disconnect()
        client.loop_stop()


def test_amqtt_fallback_delivers(mqtt_broker_factory, mqtt_subscriber):
    broker = mqtt_broker_factory(kind="amqtt")
    _publish_and_receive(broker, mqtt_subscriber)
    broker.stop()
    broker.start()
    _publish_and_receive(broker, mqtt_subscriber)
