"""The dashboard store: exactly-once by message id, final reps win, history queries, exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

from heelraise_host import trends
from heelraise_host.app import session_csv
from heelraise_host.devicesim import session_messages
from heelraise_host.messages import Message
from heelraise_host.store import Store


def _events(msgs):
    """devicesim output as checked Messages (no schema step: that is test_host_messages)."""
    out = []
    for m in msgs:
        body = m.json()
        if body["type"] in ("rep", "set", "session"):
            out.append(Message(m.topic, body["device"], body["type"], body))
    return out


def test_every_event_is_stored_once_however_often_it_arrives(tmp_path):
    store = Store(tmp_path / "h.db")
    events = _events(session_messages("shoe-1", "s-1", reps_per_set=[4, 3], seed=1))
    first = [store.add_event(m, received_at="2026-11-24T08:00:00.000Z") for m in events]
    again = [store.add_event(m, received_at="2026-11-24T08:00:05.000Z") for m in events]
    assert all(first) and len(first) == 4 + 1 + 3 + 1 + 1
    assert not any(again)
    assert store.counts() == {"messages": 10, "devices": 1, "sessions": 1, "sets": 2, "reps": 7}


def test_two_store_objects_on_one_file_never_double(tmp_path):
    a, b = Store(tmp_path / "one.db"), Store(tmp_path / "one.db")
    events = _events(session_messages("shoe-1", "s-1", reps_per_set=[5], seed=2))
    took_a = [a.add_event(m, received_at="2026-11-24T08:00:00.000Z") for m in events[::2]]
    took_b = [b.add_event(m, received_at="2026-11-24T08:00:00.000Z") for m in events]
    assert all(took_a)
    assert sum(took_b) == len(events) - len(took_a)
    assert a.counts()["reps"] == 5 and b.counts()["messages"] == len(events)


def test_the_set_message_final_reps_win_in_either_order(tmp_path):
    events = _events(session_messages("shoe-1", "s-1", reps_per_set=[3], seed=3))
    reps = [m for m in events if m.type == "rep"]
    set_msg = next(m for m in events if m.type == "set")
    final = {r["index"]: r for r in set_msg.body["set"]["reps"]}
    assert all(r.body["rep"]["bottom_hold_s"] is None for r in reps)

    for order in (reps + [set_msg], [set_msg] + reps):  # set first: late reps must not undo it
        store = Store(tmp_path / f"o{len(order)}-{order[0].type}.db")
        for m in order:
            store.add_event(m, received_at="2026-11-24T08:00:00.000Z")
        stored = store.session_reps("shoe-1", "s-1")
        assert [r["index"] for r in stored] == [1, 2, 3]
        for r in stored:
            assert r["final"] is True
            assert r["bottom_hold_s"] == final[r["index"]]["bottom_hold_s"]
        assert stored[0]["bottom_hold_s"] > 0 and stored[2]["bottom_hold_s"] is None


def test_session_detail_and_list_carry_what_was_sent(tmp_path):
    store = Store(tmp_path / "h.db")
    msgs = session_messages("shoe-1", "s-9", reps_per_set=[4, 2], seed=4, endurance=True)
    for m in _events(msgs):
        store.add_event(m, received_at="2026-11-24T08:00:00.000Z")
    sent_set1 = next(m.json()["set"] for m in msgs if m.topic.endswith("event/set"))
    detail = store.session_detail("shoe-1", "s-9")
    assert detail["rep_count"] == 6 and detail["set_count"] == 2
    assert [s["index"] for s in detail["sets"]] == [1, 2]
    s1 = detail["sets"][0]
    assert s1["summary"]["rep_count"] == 4 and s1["summary"]["ended_by"] == "pause"
    assert s1["summary"]["mean_raise_s"] == sent_set1["mean_raise_s"]
    for got, sent in zip(s1["reps"], sent_set1["reps"], strict=True):
        for key, value in sent.items():
            assert got[key] == value, key
    assert detail["endurance"]["reps"] == 6
    assert detail["summary"]["rep_count"] == 6
    listed = store.sessions("shoe-1")
    assert [s["session"] for s in listed] == ["s-9"]
    assert listed[0]["ended_at"] is not None
    assert store.session_detail("shoe-1", "nope") is None
    assert store.sessions("other-shoe") == []


def test_trends_bucket_sessions_by_local_week(tmp_path):
    store = Store(tmp_path / "h.db")
    # Sunday 2026-11-22 23:30 UTC is Monday 00:30 at UTC+1: the week it counts in moves.
    sunday_late = dt.datetime(2026, 11, 22, 23, 30, tzinfo=dt.UTC)
    older = dt.datetime(2026, 11, 10, 9, 0, tzinfo=dt.UTC)
    for session, start, n in (("a", sunday_late, 3), ("b", older, 5)):
        msgs = session_messages("shoe-1", session, reps_per_set=[n], start=start, seed=5)
        for m in _events(msgs):
            store.add_event(m, received_at="2026-11-24T08:00:00.000Z")
    now = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)

    utc = {w["week"]: w for w in trends.weekly(store, "shoe-1", weeks=3, now=now)}
    assert list(utc) == ["2026-11-09", "2026-11-16", "2026-11-23"]
    assert utc["2026-11-16"]["reps"] == 3 and utc["2026-11-23"]["reps"] == 0
    assert utc["2026-11-09"]["reps"] == 5 and utc["2026-11-09"]["sessions"] == 1

    plus1 = {
        w["week"]: w for w in trends.weekly(store, "shoe-1", weeks=3, now=now, tz_offset_min=60)
    }
    assert plus1["2026-11-23"]["reps"] == 3 and plus1["2026-11-16"]["reps"] == 0

    week = utc["2026-11-09"]
    assert 50 < week["mean_heel_rise_mm"] < 60
    assert week["tempo_cv_pct"] is not None and week["tempo_cv_pct"] > 0
    assert week["tempo_dev_s"] is not None  # the reps carried a target tempo


def test_csv_export_one_row_per_rep_and_no_spreadsheet_formulas(tmp_path):
    store = Store(tmp_path / "h.db")
    device = '=HYPERLINK("http://x")'
    msgs = session_messages(device, "s-1", reps_per_set=[4], seed=6, faults_every=2)
    for m in _events(msgs):
        store.add_event(m, received_at="2026-11-24T08:00:00.000Z")
    text = session_csv(store.session_detail(device, "s-1"))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 4
    assert rows[0]["device"] == "'" + device  # quoted, so a spreadsheet shows text
    assert [int(r["rep"]) for r in rows] == [1, 2, 3, 4]
    assert "too_fast" in rows[1]["faults"].split(";")
    sent = json.loads(next(m.payload for m in msgs if m.topic.endswith("event/set")))
    for row, rep in zip(rows, sent["set"]["reps"], strict=True):
        assert float(row["raise_s"]) == rep["raise_s"]
        assert float(row["heel_rise_mm"]) == rep["heel_rise_mm"]
        assert row["tempo"] == "3-0-2-1"
        assert float(row["deviation_raise_s"]) == rep["deviation_s"]["raise_s"]


def test_device_state_and_status_are_upserts(tmp_path):
    store = Store(tmp_path / "h.db")
    store.set_device("shoe-1", status="online", at="2026-11-24T08:00:00.000Z")
    store.set_device("shoe-1", state={"phase": "top"}, at="2026-11-24T08:00:02.000Z")
    store.set_device("shoe-1", state={"phase": "old"}, at="2026-11-24T08:00:01.000Z")  # late
    store.set_device("shoe-1", status="offline", at="2026-11-24T08:00:03.000Z")
    (d,) = store.devices()
    assert d["status"] == "offline" and d["state"] == {"phase": "top"}
    assert store.counts()["devices"] == 1


def _dump(store) -> dict:
    """Every table's rows (without arrival order and time), sorted: what the store knows."""
    out = {}
    for table in ("messages", "devices", "sessions", "sets", "reps"):
        rows = store._conn().execute(f"SELECT * FROM {table}").fetchall()
        out[table] = sorted(
            tuple(r[k] for k in r.keys() if k not in ("seq", "received_at")) for r in rows
        )
    return out


def _mixed_batch():
    import random

    events = []
    for device, session, seed in (("shoe-1", "s-1", 1), ("shoe-2", "s-1", 2), ("shoe-1", "s-2", 3)):
        msgs = session_messages(device, session, reps_per_set=[3, 2], seed=seed, endurance=True)
        events += _events(msgs)
    events += events[::4]  # 6 redeliveries, some within the same batch
    random.Random(8).shuffle(events)  # devices interleave; a set may come before its reps
    return events


def test_a_whole_batch_stores_exactly_what_one_message_at_a_time_stores(tmp_path):
    events = _mixed_batch()
    batch, single = Store(tmp_path / "batch.db"), Store(tmp_path / "single.db")
    got = batch.add_events(events, received_at="2026-11-24T08:00:00.000Z")
    one_by_one = [single.add_event(m, received_at="2026-11-24T08:00:00.000Z") for m in events]
    assert got == one_by_one
    assert got.count(True) == 3 * (5 + 2 + 1) and got.count(False) == 6
    assert _dump(batch) == _dump(single)
    assert all(r["final"] for r in batch.session_reps("shoe-2", "s-1"))
    assert batch.add_events(events, received_at="2026-11-24T09:00:00.000Z") == [False] * len(events)
    assert _dump(batch) == _dump(single)


def test_a_message_the_store_cannot_file_keeps_only_itself_out(tmp_path):
    events = _mixed_batch()
    broken_rep = next(m for m in events if m.type == "rep")
    body = json.loads(json.dumps(broken_rep.body))
    body["id"] = "f" * 32
    del body["rep"]["index"]  # no schema check here: the store's own guard is tested
    bad = Message(broken_rep.topic, broken_rep.device, "rep", body)
    not_an_event = Message("heelraise/shoe-1/state", "shoe-1", "state", {"id": "e" * 32})
    mixed = events[:7] + [bad] + events[7:] + [not_an_event]
    store, clean = Store(tmp_path / "mixed.db"), Store(tmp_path / "clean.db")
    got = store.add_events(mixed, received_at="2026-11-24T08:00:00.000Z")
    assert isinstance(got[7], KeyError) and isinstance(got[-1], ValueError)
    assert got[:7] + got[8:-1] == clean.add_events(events, received_at="2026-11-24T08:00:00.000Z")
    assert _dump(store) == _dump(clean)


def test_an_in_memory_store_answers_readers_while_it_is_written():
    """The demo's in-memory store is shared-cache SQLite, which locks tables: a page reading
    while the ingest wrote got "database table is locked" at once (the demo test's flake)."""
    import datetime as dt
    import threading

    from heelraise_host import devicesim, messages

    store = Store(":memory:")
    msgs = []
    for i in range(20):
        start = dt.datetime(2026, 11, 1 + i, 8, tzinfo=dt.UTC)
        for out in devicesim.session_messages(
            "shoe-1", f"s-{i}", reps_per_set=[10, 10], seed=i, start=start
        ):
            m = messages.parse(out.topic, out.payload)
            if m.type in ("rep", "set", "session"):
                msgs.append(m)
    errors, done = [], threading.Event()

    def read():
        while not done.is_set():
            try:
                store.session_detail("shoe-1", "s-3")
            except Exception as e:  # noqa: BLE001 - any failure of a read is the finding
                errors.append(repr(e))

    readers = [threading.Thread(target=read) for _ in range(2)]
    for t in readers:
        t.start()
    try:
        for k in range(0, len(msgs), 10):
            store.add_events(msgs[k : k + 10], received_at="2026-11-24T03:15:00.200Z")
    finally:
        done.set()
        for t in readers:
            t.join()
    assert errors == []
    assert store.session_detail("shoe-1", "s-19")["rep_count"] == 20
