"""Ingest without a broker: every message checked, refused ones counted and logged once."""

from __future__ import annotations

import json
import logging

import pytest
from heelraise.exceptions import MessageRejected, SettingsError
from heelraise_host import messages
from heelraise_host.devicesim import session_messages
from heelraise_host.ingest import Ingest, parse_hostport
from heelraise_host.store import Store
from hypothesis import given, settings
from hypothesis import strategies as st


@pytest.fixture
def ingest(tmp_path):
    return Ingest(Store(tmp_path / "h.db"), clock=lambda: 1_790_000_000.0)


def _rep_payload(**changes):
    msgs = session_messages("shoe-1", "s-1", reps_per_set=[1], seed=7)
    body = next(m.json() for m in msgs if m.topic.endswith("event/rep"))
    body.update(changes)
    return body


def test_a_whole_simulated_session_passes_the_shipped_schemas(ingest):
    msgs = session_messages("shoe-1", "s-1", reps_per_set=[3, 2], live=True, endurance=True)
    outcomes = [ingest.handle(m.topic, m.payload) for m in msgs]
    assert ingest.rejected == {}
    assert outcomes.count("stored") == 5 + 2 + 1
    assert outcomes.count("live") > 10 and outcomes.count("state") > 5
    assert ingest.store.counts()["reps"] == 5


def test_redelivery_changes_nothing_and_does_not_notify(ingest):
    seen = []
    ingest.add_listener(lambda outcome, msg: seen.append(outcome))
    msgs = [m for m in session_messages(reps_per_set=[2]) if "/event/" in m.topic]
    assert [ingest.handle(m.topic, m.payload) for m in msgs] == ["stored"] * len(msgs)
    before = ingest.store.counts()
    assert [ingest.handle(m.topic, m.payload) for m in msgs] == ["duplicate"] * len(msgs)
    assert ingest.store.counts() == before
    assert seen == ["stored"] * len(msgs)
    assert ingest.counters["duplicate"] == len(msgs)


@pytest.mark.parametrize(
    "payload, kind",
    [
        (b"{not json", "malformed_json"),
        (b"\xff\xfe\x00", "malformed_json"),
        (b"[1, 2, 3]", "malformed_json"),
        (json.dumps(_rep_payload(schema=2)).encode(), "schema_version"),
        (json.dumps(_rep_payload(schema="1")).encode(), "schema_version"),
        (
            json.dumps({k: v for k, v in _rep_payload().items() if k != "schema"}).encode(),
            "schema_version",
        ),
        (json.dumps(_rep_payload(type="set")).encode(), "topic_mismatch"),
        (json.dumps(_rep_payload(device="shoe-2")).encode(), "topic_mismatch"),
        (json.dumps(_rep_payload(rep={"set": 1})).encode(), "invalid"),
        (json.dumps(_rep_payload(id=None)).encode(), "invalid"),
        (b"x" * (messages.MAX_PAYLOAD_BYTES + 1), "oversized"),
    ],
    ids=[
        "truncated",
        "not-utf8",
        "array",
        "schema-2",
        "schema-string",
        "no-schema",
        "type-vs-topic",
        "device-vs-topic",
        "rep-missing-fields",
        "id-null",
        "oversized",
    ],
)
def test_bad_messages_are_refused_counted_and_never_stored(ingest, payload, kind):
    assert ingest.handle("heelraise/shoe-1/event/rep", payload) == "rejected"
    assert ingest.rejected == {kind: 1}
    assert ingest.rejected_by_device == {(kind, "shoe-1"): 1}
    assert ingest.store.counts()["messages"] == 0


def test_the_rejection_names_what_was_wrong():
    bad = _rep_payload()
    del bad["rep"]["raise_s"]
    with pytest.raises(MessageRejected) as e:
        messages.parse("heelraise/shoe-1/event/rep", json.dumps(bad).encode())
    assert e.value.kind == "invalid" and e.value.device == "shoe-1"
    assert "raise_s" in str(e.value)
    with pytest.raises(MessageRejected, match="envelope schema 7 is not supported"):
        messages.parse("heelraise/shoe-1/event/rep", json.dumps(_rep_payload(schema=7)).encode())


def test_unknown_topics_and_status_texts(ingest):
    assert ingest.handle("heelraise/shoe-1/event/nope", b"{}") == "rejected"
    assert ingest.handle("other/shoe-1/state", b"{}") == "rejected"
    assert ingest.handle("heelraise/shoe-1/status", b"sleepy") == "rejected"
    assert ingest.rejected == {"unknown_topic": 2, "invalid": 1}
    assert ingest.handle("heelraise/shoe-1/status", b"online") == "status"
    assert ingest.store.devices()[0]["status"] == "online"


def test_each_kind_is_logged_once_per_device(ingest, caplog):
    caplog.set_level(logging.WARNING, logger="heelraise_host.ingest")
    for _ in range(5):
        ingest.handle("heelraise/shoe-1/event/rep", b"{oops")
        ingest.handle("heelraise/shoe-2/event/rep", b"{oops")
        ingest.handle("heelraise/shoe-1/event/rep", json.dumps(_rep_payload(schema=3)).encode())
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3
    assert sum("malformed_json" in x and "'shoe-1'" in x for x in lines) == 1
    assert sum("malformed_json" in x and "'shoe-2'" in x for x in lines) == 1
    assert sum("schema_version" in x for x in lines) == 1
    assert ingest.rejected == {"malformed_json": 10, "schema_version": 5}
    health = ingest.health()
    assert {"kind": "malformed_json", "device": "shoe-2", "count": 5} in health[
        "rejected_by_device"
    ]


@settings(max_examples=200, deadline=None)
@given(
    suffix=st.sampled_from(["event/rep", "event/set", "event/session", "state", "live", "x"]),
    payload=st.one_of(
        st.binary(max_size=300),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
            lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
            max_leaves=20,
        ).map(lambda v: json.dumps(v).encode()),
    ),
)
def test_garbage_never_crashes_and_is_never_stored(tmp_path_factory, suffix, payload):
    ingest = Ingest(Store(":memory:"))
    assert ingest.handle(f"heelraise/dev/{suffix}", payload) == "rejected"
    assert ingest.store.counts()["messages"] == 0
    assert sum(ingest.rejected.values()) == 1


def test_prefix_and_group_shape_the_subscriptions(tmp_path):
    store = Store(tmp_path / "h.db")
    plain = Ingest(store, prefix="gym/heelraise/")
    assert plain.topics[0] == ("gym/heelraise/+/event/+", 1)
    shared = Ingest(store, group="dash")
    assert shared.topics[0] == ("$share/dash/heelraise/+/event/+", 1)
    # snapshots are never shared, and QoS 0: the broker never queues them for an absent dashboard
    assert ("heelraise/+/state", 0) in shared.topics
    with pytest.raises(SettingsError, match="group"):
        Ingest(store, group="a/b")
    with pytest.raises(SettingsError, match="prefix"):
        Ingest(store, prefix="heel/#")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("pi.local", ("pi.local", 1883)),
        ("10.0.0.2:1884", ("10.0.0.2", 1884)),
        ("[::1]:1885", ("::1", 1885)),
        ("::1", ("::1", 1883)),
    ],
)
def test_parse_hostport(text, expected):
    assert parse_hostport(text, 1883) == expected


@pytest.mark.parametrize("text", ["", "host:port", "host:70000", ":1883"])
def test_parse_hostport_names_the_problem(text):
    with pytest.raises(SettingsError, match="broker"):
        parse_hostport(text, 1883, "broker")
