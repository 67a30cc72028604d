"""Nothing poisons the dashboard: every message it cannot use is refused by reason, alone.

Without a broker (the ingest's per-message logic and its writer); the same hostile
messages against a real mosquitto are in tests/test_host_delivery.py.
"""

from __future__ import annotations

import collections
import json
import sqlite3

import pytest
from heelraise_host import messages
from heelraise_host.devicesim import HOSTILE_KINDS, hostile_messages, session_messages
from heelraise_host.ingest import Ingest
from heelraise_host.store import Store
from heelraise_host.watch import RepTable

NOW = 1_790_000_000.0  # 2026-09-21


@pytest.fixture
def ingest(tmp_path):
    return Ingest(Store(tmp_path / "h.db"), clock=lambda: NOW)


def _events(msgs):
    return [m for m in msgs if "/event/" in m.topic]


def test_every_hostile_kind_is_refused_with_its_reason_and_the_good_ones_around_it_land(ingest):
    hostile = hostile_messages("evil-1", each=3)
    good = session_messages("shoe-1", "s-1", reps_per_set=[4, 3], seed=5)
    # One batch, hostile and good interleaved: nothing bad may take the good down with it.
    items = []
    for i, (_, m) in enumerate(hostile):
        items.append((m.topic, m.payload))
        if i < len(good):
            items.append((good[i].topic, good[i].payload))
    items += [(m.topic, m.payload) for m in good[len(hostile) :]]
    outcomes = ingest.handle_batch(items)
    assert "store_error" not in outcomes
    want = collections.Counter()
    for kind in HOSTILE_KINDS:
        want[HOSTILE_KINDS[kind]] += 3
    assert ingest.rejected == want
    assert set(want) <= set(messages.REJECT_KINDS)
    detail = ingest.store.session_detail("shoe-1", "s-1")
    assert [len(s["reps"]) for s in detail["sets"]] == [4, 3]
    assert all(r["final"] for s in detail["sets"] for r in s["reps"])
    # the evil device's one good rep is stored once, unchanged by the 3 that tried to replace it
    (evil,) = ingest.store.session_reps("evil-1", "s-evil")
    assert evil["heel_rise_mm"] == hostile[0][1].json()["rep"]["heel_rise_mm"]
    refused = ingest.health()["rejected_by_device"]
    by_device = {(r["kind"], r["device"]): r["count"] for r in refused}
    assert by_device[("conflict", "evil-1")] == 3


def test_a_message_the_store_cannot_file_is_refused_alone_and_acknowledged(ingest, monkeypatch):
    msgs = _events(session_messages("shoe-1", "s-1", reps_per_set=[3], seed=2))
    poison = msgs[1].json()["id"]
    real_add = ingest.store._add

    def add(conn, msg, received_at):
        if msg.body["id"] == poison:
            raise OverflowError("Python int too large to convert to SQLite INTEGER")
        return real_add(conn, msg, received_at)

    monkeypatch.setattr(ingest.store, "_add", add)
    acks = []
    client = type("C", (), {"ack": lambda self, mid, qos: acks.append(mid)})()
    ingest._store_batch([(m.topic, m.payload, i, 1, client) for i, m in enumerate(msgs)])
    assert acks == list(range(len(msgs)))  # every one, the refused one too
    assert ingest.rejected == {"store_error": 1}
    assert ingest.store.counts()["messages"] == len(msgs) - 1


def test_a_failing_store_keeps_the_batch_unacknowledged_and_stores_it_when_it_recovers(
    ingest, monkeypatch
):
    msgs = _events(session_messages("shoe-1", "s-1", reps_per_set=[2], seed=3))
    failures = [sqlite3.OperationalError("database or disk is full")] * 2
    real = ingest.store.add_events
    seen_acks_while_failing = []
    acks = []

    def add_events(batch, *, received_at):
        if failures:
            seen_acks_while_failing.append(len(acks))
            raise failures.pop()
        return real(batch, received_at=received_at)

    monkeypatch.setattr(ingest.store, "add_events", add_events)
    monkeypatch.setattr("heelraise_host.ingest.STORE_RETRY_MAX_S", 0.01)
    client = type("C", (), {"ack": lambda self, mid, qos: acks.append(mid)})()
    ingest._store_batch([(m.topic, m.payload, i, 1, client) for i, m in enumerate(msgs)])
    assert seen_acks_while_failing == [0, 0]
    assert acks == list(range(len(msgs)))
    assert ingest.counters["store_retry"] == 2 and ingest.store_trouble is None
    assert ingest.store.counts()["messages"] == len(msgs)


def test_ids_are_deduplicated_per_device_so_no_device_can_take_another_ones_id(ingest):
    a = _events(session_messages("shoe-a", "s-1", reps_per_set=[2], seed=9))
    b = _events(session_messages("shoe-b", "s-1", reps_per_set=[2], seed=9))  # the same ids
    assert [m.json()["id"] for m in a] == [m.json()["id"] for m in b]
    assert [ingest.handle(m.topic, m.payload) for m in b + a] == ["stored"] * (len(a) + len(b))
    assert [ingest.handle(m.topic, m.payload) for m in a] == ["duplicate"] * len(a)
    assert len(ingest.store.session_reps("shoe-a", "s-1")) == 2
    assert len(ingest.store.session_reps("shoe-b", "s-1")) == 2


def test_a_second_set_or_session_message_for_the_same_slot_is_a_conflict(ingest):
    msgs = _events(session_messages("shoe-1", "s-1", reps_per_set=[2], seed=1))
    other = _events(session_messages("shoe-1", "s-1", reps_per_set=[2], seed=2))  # new ids
    for m in msgs:
        assert ingest.handle(m.topic, m.payload) == "stored"
    before = ingest.store.session_detail("shoe-1", "s-1")
    assert [ingest.handle(m.topic, m.payload) for m in other] == ["rejected"] * len(other)
    assert ingest.rejected == {"conflict": len(other)}
    assert ingest.store.session_detail("shoe-1", "s-1") == before


def test_a_late_rep_event_after_its_set_keeps_the_final_values(ingest):
    msgs = _events(session_messages("shoe-1", "s-1", reps_per_set=[3], seed=4))
    reps, rest = msgs[:3], msgs[3:]
    for m in rest + reps:  # the set (final reps) first, then the early events
        assert ingest.handle(m.topic, m.payload) == "stored"
    got = ingest.store.session_reps("shoe-1", "s-1")
    final = msgs[3].json()["set"]["reps"]
    assert [r["bottom_hold_s"] for r in got] == [r["bottom_hold_s"] for r in final]
    assert all(r["final"] for r in got)


def test_an_interrupted_set_and_session_are_stored_and_shown_as_such(ingest):
    msgs = session_messages("shoe-1", "s-1", reps_per_set=[2], seed=6)
    for m in msgs:
        body = m.json()
        if body["type"] in ("set", "session"):
            body["interrupted"] = True
        ingest.handle(m.topic, json.dumps(body).encode())
    assert ingest.rejected == {}
    detail = ingest.store.session_detail("shoe-1", "s-1")
    assert detail["interrupted"] is True and detail["sets"][0]["interrupted"] is True
    assert ingest.store.sessions("shoe-1")[0]["interrupted"] is True
    plain = Ingest(Store(), clock=lambda: NOW)
    for m in msgs:
        plain.handle(m.topic, m.payload)
    assert plain.store.session_detail("shoe-1", "s-1")["interrupted"] is False


def test_a_file_from_the_previous_dashboard_is_migrated_keeping_everything(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
        " type TEXT NOT NULL, device TEXT NOT NULL, session TEXT NOT NULL, time TEXT NOT NULL,"
        " received_at TEXT NOT NULL, body TEXT NOT NULL);"
        "INSERT INTO messages (id, type, device, session, time, received_at, body) VALUES"
        " ('a1', 'rep', 'shoe-a', 's', '2026-01-01T00:00:00.000Z', 'x', '{}');"
        "CREATE TABLE sessions (device TEXT NOT NULL, session TEXT NOT NULL,"
        " started_at TEXT NOT NULL, last_at TEXT NOT NULL, ended_at TEXT, summary TEXT,"
        " endurance TEXT, PRIMARY KEY (device, session));"
    )
    old.commit()
    old.close()
    store = Store(path)
    assert store.messages_after(0)[0]["device"] == "shoe-a"
    conn = store._conn()
    conn.execute(
        "INSERT INTO messages (id, type, device, session, time, received_at, body) VALUES"
        " ('a1', 'rep', 'shoe-b', 's', '2026-01-01T00:00:00.000Z', 'x', '{}')"
    )  # the same id from another device: no longer a clash
    conn.commit()
    assert store.counts()["messages"] == 2
    assert "interrupted" in {r[1] for r in conn.execute("PRAGMA table_info(sessions)")}


def test_watch_counts_every_hostile_message_and_never_raises():
    table = RepTable(rows_per_device=4)
    for _, m in hostile_messages("evil-1", each=2):
        table.take(m.topic, m.payload)
    # conflicts are the store's business: watch shows the rep it has not seen yet
    want = collections.Counter()
    for reason in HOSTILE_KINDS.values():
        if reason != "conflict":
            want[reason] += 2
    assert table.rejected == want
    assert table.rep_totals["evil-1"] == 3  # the good one and the two "replacements"
    table.render()
