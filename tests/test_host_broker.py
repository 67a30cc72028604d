"""Ingest against a real mosquitto: a simulated device publishes through paho, the store
holds exactly its session; redelivery changes nothing; a shared-subscription group of two
dashboard instances stores every event exactly once."""

from __future__ import annotations

import paho.mqtt.client as mqtt
import pytest
from conftest import wait_until
from heelraise_host.devicesim import publish_all, session_messages
from heelraise_host.ingest import Ingest, IngestError
from heelraise_host.store import Store


@pytest.fixture
def device(mqtt_broker):
    """A connected paho client playing the shoe."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="shoe-sim")
    client.connect(mqtt_broker.host, mqtt_broker.port)
    client.loop_start()
    yield client
    client.disconnect()
    client.loop_stop()


def _broker(b) -> str:
    return f"{b.host}:{b.port}"


def _events(msgs):
    return [m for m in msgs if "/event/" in m.topic]


def test_the_store_holds_exactly_the_published_session(mqtt_broker, device, tmp_path):
    store = Store(tmp_path / "h.db")
    ingest = Ingest(store, broker=_broker(mqtt_broker))
    ingest.start()
    try:
        msgs = session_messages("shoe-1", "s-1", reps_per_set=[5, 4], live=True, endurance=True)
        publish_all(device, msgs)
        n_events = len(_events(msgs))
        wait_until(lambda: store.counts()["messages"] == n_events, 10, "all events stored")
        assert store.counts() == {
            "messages": n_events,
            "devices": 1,
            "sessions": 1,
            "sets": 2,
            "reps": 9,
        }
        sent_sets = [m.json()["set"] for m in msgs if m.topic.endswith("event/set")]
        detail = store.session_detail("shoe-1", "s-1")
        for got, sent in zip(detail["sets"], sent_sets, strict=True):
            assert [r["raise_s"] for r in got["reps"]] == [r["raise_s"] for r in sent["reps"]]
            assert [r["bottom_hold_s"] for r in got["reps"]] == [
                r["bottom_hold_s"] for r in sent["reps"]
            ]
        assert detail["endurance"]["reps"] == 9
        # The retained state and the QoS 0 pitch trace came through but are not events.
        wait_until(lambda: store.devices()[0]["state"] is not None, 5, "state")
        assert ingest.rejected == {}

        # The broker (or a reconnecting device) delivers everything again: nothing changes.
        before = store.counts()
        publish_all(device, msgs)
        wait_until(lambda: ingest.counters["duplicate"] == n_events, 10, "redelivered events seen")
        assert store.counts() == before
    finally:
        ingest.stop()


def test_bad_messages_on_the_wire_are_counted_not_stored(mqtt_broker, device, tmp_path):
    store = Store(tmp_path / "h.db")
    ingest = Ingest(store, broker=_broker(mqtt_broker), max_payload_bytes=10_000)
    ingest.start()
    try:
        good = _events(session_messages("shoe-1", "s-1", reps_per_set=[2]))
        device.publish("heelraise/shoe-1/event/rep", b"{oops", qos=1).wait_for_publish(5)
        device.publish("heelraise/shoe-1/event/set", b"z" * 20_000, qos=1).wait_for_publish(5)
        publish_all(device, good)
        wait_until(lambda: store.counts()["messages"] == len(good), 10, "good events stored")
        assert ingest.rejected == {"malformed_json": 1, "oversized": 1}
        assert ingest.connected
    finally:
        ingest.stop()


def test_a_shared_group_of_two_instances_stores_each_event_once(mqtt_broker, device, tmp_path):
    db = tmp_path / "shared.db"  # the documented set-up: one file for the whole group
    a = Ingest(Store(db), broker=_broker(mqtt_broker), group="dash", client_id=None)
    b = Ingest(Store(db), broker=_broker(mqtt_broker), group="dash", client_id=None)
    a.start()
    b.start()
    try:
        msgs = []
        for i in range(6):
            msgs += _events(session_messages(f"shoe-{i}", f"s-{i}", reps_per_set=[4], seed=i))
        publish_all(device, msgs)
        store = Store(db)
        wait_until(lambda: store.counts()["messages"] == len(msgs), 10, "all events stored")
        got_a, got_b = a.counters["stored"], b.counters["stored"]
        # Each event reached exactly one instance: no duplicates seen, the work was split.
        assert got_a + got_b == len(msgs)
        assert a.counters["duplicate"] == b.counters["duplicate"] == 0
        assert got_a > 0 and got_b > 0
        assert store.counts()["reps"] == 6 * 4 and store.counts()["sessions"] == 6
    finally:
        a.stop()
        b.stop()


def test_events_published_while_the_dashboard_is_down_arrive_later(mqtt_broker, device, tmp_path):
    """A fixed client id makes a persistent session: the broker queues QoS 1 events."""
    store = Store(tmp_path / "h.db")
    first = Ingest(store, broker=_broker(mqtt_broker), client_id="dash-home")
    first.start()
    first.stop()
    msgs = _events(session_messages("shoe-1", "s-1", reps_per_set=[3]))
    publish_all(device, msgs)  # nobody connected with that id now
    again = Ingest(store, broker=_broker(mqtt_broker), client_id="dash-home")
    again.start()
    try:
        wait_until(lambda: store.counts()["messages"] == len(msgs), 10, "queued events")
        assert store.counts()["reps"] == 3
    finally:
        again.stop()


def test_no_broker_is_a_clear_error(tmp_path):
    from conftest import free_port

    ingest = Ingest(Store(tmp_path / "h.db"), broker=f"127.0.0.1:{free_port()}")
    with pytest.raises(IngestError, match=r"could not subscribe at broker 127\.0\.0\.1:\d+"):
        ingest.start(timeout_s=1.0)
