"""The message protocol has one home: the rep's fields, the events' serialisers, the envelope.

Guards that the shoe, its JSON lines, the dashboard's store and the made-up sessions of
devicesim all follow ``heelraise.protocol`` and ``heelraise.events`` instead of copies.
"""

from __future__ import annotations

import re

import pytest
from heelraise.events import REP_FIELDS, GapEvent, RepEvent, SessionEvent, SessionSummary, SetEvent
from heelraise.mqtt.testing import fake_set
from heelraise.protocol import payloads, validation
from heelraise.protocol.topics import TOPIC_TYPES, Topics, parse_topic, subscription
from heelraise.protocol.utctime import iso_utc, parse_utc
from heelraise.service.sinks import event_to_dict
from heelraise_host import store as host_store
from heelraise_host.devicesim import session_messages

ENV = payloads.Envelope("shoe-1", "s-1", wall_clock=lambda: 1795503600.25)


def test_the_rep_fields_are_one_list_that_the_schema_and_the_store_follow():
    rep = fake_set(1, 2)[0].rep
    assert tuple(rep.to_dict()) == REP_FIELDS
    schema = validation.load_schema("defs")["$defs"]["rep"]
    assert tuple(schema["properties"]) == REP_FIELDS
    assert tuple(schema["required"]) == REP_FIELDS
    assert host_store.REP_FIELDS == REP_FIELDS[2:]  # set and index are the key columns
    db = host_store.Store(":memory:")
    try:
        columns = {r[1] for r in db._conn().execute("PRAGMA table_info(reps)")}
    finally:
        db.close()
    assert set(host_store.REP_FIELDS) <= columns


ENDURANCE = {
    "reps": 3,
    "first_heel_rise_mm": 50.0,
    "last_heel_rise_mm": 45.0,
    "mean_heel_rise_mm": 47.5,
    "decline_pct": 10.0,
    "work_j": 9.8,
    "stopped_by": "pause",
}


def _events():
    reps_and_set = fake_set(1, 3)
    summary = SessionSummary([reps_and_set[-1].summary], sample_rate_hz=100.0)
    return [
        *reps_and_set,
        GapEvent(1.0, 1.5, "fifo_overflow", t_s=1.5),
        SessionEvent(summary, 50.0, ENDURANCE, gaps=1, gap_s=0.5),
    ]


def test_each_event_has_one_body_shared_by_the_json_lines_and_the_mqtt_payload():
    events = _events()
    assert {type(e) for e in events} == {RepEvent, SetEvent, GapEvent, SessionEvent}
    for event in events:
        line = event_to_dict(event)
        assert line["type"] == event.kind
        assert {k: v for k, v in line.items() if k not in ("type", "t_s")} == event.body()
        maker = payloads.EVENT_PAYLOADS.get(type(event))
        if maker is None:  # a gap is not an event message (it is in health)
            assert isinstance(event, GapEvent)
            continue
        payload = maker(ENV, event)
        validation.validate(event.kind, payload)
        assert {k: payload[k] for k in event.body()} == event.body()
    session = events[-1].body()["summary"]
    assert (session["gaps"], session["gap_s"]) == (1, 0.5)


def test_devicesim_speaks_the_protocol():
    msgs = session_messages("shoe-1", "s-1", reps_per_set=[2, 1], live=True, endurance=True)
    envelope = list(ENV.make("rep", 1.0))
    topics = Topics("heelraise", "shoe-1")
    for m in msgs:
        body = m.json()
        device, type_ = parse_topic(m.topic, "heelraise")
        assert (device, type_) == ("shoe-1", body["type"])
        assert list(body)[: len(envelope)] == envelope
        assert body["schema"] == payloads.SCHEMA_VERSION
        assert iso_utc(parse_utc(body["time"])) == body["time"]
        validation.validate(type_, body)
        suffix = next(s for s, t in TOPIC_TYPES.items() if t == type_)
        assert m.topic == f"{topics.base}/{suffix}"


@pytest.mark.parametrize(
    ("when", "text"),
    [
        (0.0, "1970-01-01T00:00:00.000Z"),
        (0.9999, "1970-01-01T00:00:00.999Z"),
        (1795503600.2999, "2026-11-24T07:00:00.299Z"),
    ],
)
def test_one_utc_time_format(when, text):
    assert iso_utc(when) == text
    assert re.fullmatch(validation.load_schema("defs")["$defs"]["time"]["pattern"], text)


def test_topics_built_by_the_shoe_parse_back_and_subscriptions_are_checked():
    topics = Topics("heelraise/home", "shoe-1")
    built = {
        "status": topics.status,
        "state": topics.state,
        "health": topics.health,
        "live": topics.live,
        **{kind: topics.event(kind) for kind in ("rep", "set", "session")},
    }
    for type_, topic in built.items():
        assert parse_topic(topic, "heelraise/home") == ("shoe-1", type_)
    assert set(built) == set(TOPIC_TYPES.values())
    assert subscription("heelraise/home", "event/+") == "heelraise/home/+/event/+"
    with pytest.raises(ValueError, match="no device topic 'cmd'"):
        subscription("heelraise", "cmd")
