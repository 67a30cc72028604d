"""MQTT 5 or 3.1.1: the dashboard's ingest and ``heelraise watch`` against amqtt (3.1.1 only)
and mosquitto (both). By default MQTT 5, falling back once (logged) when the broker refuses it."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading

import httpx
import paho.mqtt.client as mqtt
import pytest
from conftest import free_port, wait_until
from heelraise.exceptions import SettingsError
from heelraise_host.devicesim import publish_all, session_messages
from heelraise_host.ingest import Ingest, IngestError
from heelraise_host.store import Store
from heelraise_host.watch import RepTable, watch
from rich.console import Console

FALLBACK_LOG = "refused MQTT 5"


@pytest.fixture
def amqtt(mqtt_broker_factory):
    return mqtt_broker_factory(kind="amqtt")


@pytest.fixture
def mosquitto(mqtt_broker_factory):
    return mqtt_broker_factory(kind="mosquitto")


def _shoe(broker):
    """The device side: paho's default protocol (3.1.1), as the heelraise publisher uses."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"shoe-{free_port()}")
    client.connect(broker.host, broker.port)
    client.loop_start()
    return client


def _close(client):
    client.disconnect()
    client.loop_stop()


def _events(msgs):
    return [m for m in msgs if "/event/" in m.topic]


def _fallback_lines(caplog):
    return [r for r in caplog.records if FALLBACK_LOG in r.getMessage()]


def test_the_ingest_falls_back_to_311_once_and_stores_a_session_from_amqtt(amqtt, tmp_path, caplog):
    store = Store(tmp_path / "h.db")
    ingest = Ingest(store, broker=f"{amqtt.host}:{amqtt.port}")
    shoe = _shoe(amqtt)
    with caplog.at_level(logging.INFO, logger="heelraise_host"):
        ingest.start(timeout_s=15)
        try:
            assert ingest.protocol == "3.1.1" and ingest.health()["protocol"] == "3.1.1"
            msgs = session_messages("shoe-1", "s-1", reps_per_set=[4, 3], endurance=True)
            publish_all(shoe, msgs)
            n = len(_events(msgs))
            wait_until(lambda: store.counts()["messages"] == n, 15, "the session stored")
            detail = store.session_detail("shoe-1", "s-1")
            assert detail["rep_count"] == 7 and detail["set_count"] == 2
            assert detail["summary"] is not None and all(
                r["final"] for s in detail["sets"] for r in s["reps"]
            )
            assert ingest.rejected == {}
        finally:
            _close(shoe)
            ingest.stop()
    lines = _fallback_lines(caplog)
    assert len(lines) == 1 and lines[0].levelno == logging.WARNING
    assert f"{amqtt.host}:{amqtt.port}" in lines[0].getMessage()
    # the failed MQTT 5 attempt is not reported as a lost connection
    assert not [r for r in caplog.records if "lost the broker" in r.getMessage()]


@pytest.mark.parametrize(
    "kwargs, reason",
    [
        ({"protocol": "5"}, "Unsupported protocol version"),  # asked for 5: no fallback
        ({"group": "dash"}, "Unsupported protocol version"),  # $share needs MQTT 5
    ],
)
def test_no_fallback_when_mqtt_5_is_required(amqtt, tmp_path, caplog, kwargs, reason):
    ingest = Ingest(Store(tmp_path / "h.db"), broker=f"{amqtt.host}:{amqtt.port}", **kwargs)
    with pytest.raises(IngestError, match=reason):
        ingest.start(timeout_s=3)
    assert _fallback_lines(caplog) == []


def test_a_group_with_311_or_an_unknown_protocol_is_refused_by_name(tmp_path):
    store = Store(tmp_path / "h.db")
    with pytest.raises(SettingsError, match="group 'dash' is an MQTT 5 shared subscription"):
        Ingest(store, group="dash", protocol="3.1.1")
    with pytest.raises(SettingsError, match=r"MQTT protocol '3' is not supported.*5, 3\.1\.1"):
        Ingest(store, protocol="3")


def test_mosquitto_keeps_mqtt_5_and_311_works_there_with_a_persistent_session(
    mosquitto, tmp_path, caplog
):
    broker = f"{mosquitto.host}:{mosquitto.port}"
    v5 = Ingest(Store(tmp_path / "five.db"), broker=broker)
    v5.start()
    assert v5.protocol == "5"
    v5.stop()
    # 3.1.1 on purpose, with a fixed id: clean_session=False, the broker queues our events.
    store = Store(tmp_path / "h.db")
    first = Ingest(store, broker=broker, protocol="3.1.1", client_id="dash-311")
    first.start()
    assert first.protocol == "3.1.1"
    first.stop()
    shoe = _shoe(mosquitto)
    msgs = _events(session_messages("shoe-1", "s-1", reps_per_set=[3]))
    publish_all(shoe, msgs)  # nobody connected with that id now
    again = Ingest(store, broker=broker, protocol="3.1.1", client_id="dash-311")
    again.start()
    try:
        wait_until(lambda: store.counts()["messages"] == len(msgs), 10, "queued events")
        assert store.counts()["reps"] == 3
    finally:
        again.stop()
        _close(shoe)
    assert _fallback_lines(caplog) == []


@pytest.mark.parametrize("protocol", [None, "3.1.1"])
def test_watch_shows_reps_from_amqtt(amqtt, protocol, caplog):
    console = Console(record=True, width=160, color_system=None, force_terminal=False)
    stop, table, result = threading.Event(), RepTable(), {}
    thread = threading.Thread(
        target=lambda: result.setdefault(
            "rc",
            watch(
                f"{amqtt.host}:{amqtt.port}",
                protocol=protocol,
                console=console,
                stop=stop,
                table=table,
                connect_timeout_s=15,
            ),
        )
    )
    shoe = _shoe(amqtt)
    with caplog.at_level(logging.WARNING, logger="heelraise_host"):
        thread.start()
        try:
            msgs = session_messages("shoe-7", "s-7", reps_per_set=[3], seed=5)

            def shown():  # the watcher subscribes in its thread: publish until it counts
                publish_all(shoe, msgs)
                return table.rep_totals["shoe-7"] == 3

            wait_until(shown, 15, "the watcher to count shoe-7's reps", interval_s=0.3)
        finally:
            stop.set()
            thread.join(10)
            _close(shoe)
    assert result == {"rc": 0}
    assert "shoe-7" in console.export_text()
    assert len(_fallback_lines(caplog)) == (1 if protocol is None else 0)


def test_the_dashboard_command_stores_a_session_from_amqtt(amqtt, tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "heelraise",
            "dashboard",
            "--broker",
            f"{amqtt.host}:{amqtt.port}",
            "--db",
            str(tmp_path / "h.db"),
            "--bind",
            f"127.0.0.1:{port}",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    shoe = _shoe(amqtt)
    try:
        store = Store(tmp_path / "h.db")  # the same file, read beside the dashboard
        msgs = session_messages("shoe-3", "s-3", reps_per_set=[2, 2], seed=9)

        def stored():  # the command subscribes in the background: publish until it stored all
            publish_all(shoe, msgs)
            return store.counts()["messages"] == len(_events(msgs))

        wait_until(stored, 30, "the dashboard command to store the session", interval_s=0.5)
        health = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=10).json()
        assert health["ingest"]["protocol"] == "3.1.1"
        detail = httpx.get(
            f"http://127.0.0.1:{port}/api/session",
            params={"device": "shoe-3", "session": "s-3"},
            timeout=10,
        ).json()
        assert detail["rep_count"] == 4 and detail["set_count"] == 2
    finally:
        _close(shoe)
        proc.terminate()
        _, err = proc.communicate(timeout=15)
    assert err.count(FALLBACK_LOG) == 1, err


def test_a_broker_that_chokes_on_mqtt_5_properties_is_given_311_after_the_timeout(amqtt, caplog):
    """amqtt never answers a CONNECT carrying a session expiry (a persistent session's)."""
    from heelraise_host.mqttlink import MqttLink

    subscribed = threading.Event()
    link = MqttLink(
        amqtt.host,
        amqtt.port,
        client_id="dash-keep",
        session_expiry_s=3600,
        connack_timeout_s=0.5,
        on_connect=lambda c: c.subscribe("heelraise/#", 1),
        on_subscribe=lambda c, codes: subscribed.set(),
    )
    link.start()
    try:
        assert subscribed.wait(15)
        assert link.protocol == "3.1.1" and link.fell_back
    finally:
        link.stop()
    lines = [r.getMessage() for r in caplog.records if "did not answer an MQTT 5" in r.getMessage()]
    assert len(lines) == 1 and "within 0.5 s" in lines[0]


def test_no_broker_at_all_is_not_taken_for_a_311_broker():
    from heelraise_host.mqttlink import MqttLink

    link = MqttLink("127.0.0.1", free_port(), connack_timeout_s=0.1, reconnect_delay_s=(0.1, 0.1))
    link.start()
    try:
        # paho keeps retrying a refused TCP connection; the CONNACK watch keeps looking.
        wait_until(lambda: link.client.socket() is None, 5, "a refused TCP connection")
        threading.Event().wait(0.5)  # several CONNACK checks pass with no TCP connection
        assert link.protocol == "5" and not link.fell_back
    finally:
        link.stop()
