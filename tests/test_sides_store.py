"""Two shoes in the dashboard's store: each side's sets and reps kept apart, each session's
per-side totals and LSIs kept, weekly LSI trends, exports with side and LSIs (issue 15)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3

import pytest
from heelraise_host import trends
from heelraise_host.app import session_csv
from heelraise_host.devicesim import pair_messages, session_messages
from heelraise_host.ingest import Ingest
from heelraise_host.store import Conflict, Store

NOW = 1795000000.0


def _ingest(msgs, store=None):
    ingest = Ingest(store or Store(), clock=lambda: NOW)
    for m in msgs:
        ingest.handle(m.topic, m.payload)
    assert ingest.rejected == {}
    return ingest


def test_each_shoes_sets_and_reps_are_their_own():
    msgs = pair_messages("pair-1", "s-1", reps_per_set=[6, 6], weaker="right")
    store = _ingest(msgs).store
    assert store.counts() == {
        "messages": sum(m.topic.rpartition("/")[0].endswith("event") for m in msgs),
        "devices": 1,
        "sessions": 1,
        "sets": 4,
        "reps": 12 + 6,
    }
    detail = store.session_detail("pair-1", "s-1")
    assert [(s["side"], s["index"], len(s["reps"])) for s in detail["sets"]] == [
        ("left", 1, 6),
        ("left", 2, 6),
        ("right", 1, 3),
        ("right", 2, 3),
    ]
    assert all(r["side"] == s["side"] for s in detail["sets"] for r in s["reps"])
    assert all(s["summary"]["rep_count"] == len(s["reps"]) for s in detail["sets"])
    assert detail["side"] == "both"
    sent = msgs[-1].json()
    assert detail["sides"] == sent["sides"] and detail["symmetry"] == sent["symmetry"]
    assert detail["symmetry"]["reps_lsi"] == 50.0  # 6 of 12 reps on the involved right
    (row,) = store.sessions("pair-1")
    assert row["sides"]["right"]["work_j"] == sent["sides"]["right"]["work_j"]
    assert row["symmetry"]["involved"] == "right"


def test_a_second_set_of_the_same_shoe_is_a_conflict_and_names_the_shoe():
    msgs = pair_messages("pair-1", "s-1", reps_per_set=[4])
    ingest = _ingest(msgs)
    left_set = next(m for m in msgs if m.topic.endswith("event/set") and b'"left"' in m.payload)
    body = left_set.json()
    body["id"] = "0" * 32
    ingest.handle(left_set.topic, json.dumps(body).encode())
    assert ingest.rejected == {"conflict": 1}
    with pytest.raises(Conflict, match="set 1 of the left shoe"):
        from heelraise_host.messages import parse

        ingest.store.add_event(
            parse(left_set.topic, json.dumps({**body, "id": "1" * 32}).encode()),
            received_at="x",
        )


def test_before_the_session_message_the_sides_come_from_the_reps():
    msgs = pair_messages("pair-1", "s-1", reps_per_set=[5])
    store = _ingest(msgs[:-1]).store  # the session has not closed
    (row,) = store.sessions("pair-1")
    assert row["side"] == "both" and row["symmetry"] is None
    assert row["sides"]["left"]["reps"] == 5 and row["sides"]["right"]["reps"] == 2
    assert row["sides"]["left"]["work_j"] is None  # the body mass comes with the session


def test_each_shoes_state_is_kept_and_an_older_one_never_replaces_a_newer():
    msgs = pair_messages("pair-1", "s-1", reps_per_set=[3])
    states = [m for m in msgs if "/state/" in m.topic]
    ingest = _ingest(msgs)
    (device,) = ingest.store.devices()
    assert set(device["sides"]) == {"left", "right"}
    last_left = [m for m in states if m.topic.endswith("/left")][-1].json()
    assert device["sides"]["left"]["state"] == last_left["state"]
    first_left = [m for m in states if m.topic.endswith("/left")][0]
    ingest.handle(first_left.topic, first_left.payload)  # a stale copy arrives late
    assert ingest.store.devices()[0]["sides"]["left"]["state"] == last_left["state"]
    current = ingest.store.current_set("pair-1")
    assert current["sides"]["left"]["session_rep_count"] == 3
    assert current["sides"]["right"]["session_rep_count"] == 1
    assert current["session_rep_count"] == 4


def test_a_state_whose_side_is_not_its_topics_is_refused():
    msgs = pair_messages("pair-1", "s-1", reps_per_set=[1])
    left = next(m for m in msgs if m.topic.endswith("/state/left"))
    ingest = Ingest(Store(), clock=lambda: NOW)
    ingest.handle(left.topic.replace("/left", "/right"), left.payload)
    assert ingest.rejected == {"topic_mismatch": 1}


def test_weekly_trends_carry_the_mean_lsi_of_the_weeks_pair_sessions():
    store = Store()
    monday = dt.datetime(2026, 11, 16, 8, 0, tzinfo=dt.UTC)
    weeks = [(monday, [10], "a"), (monday + dt.timedelta(days=2), [6], "b")]
    weeks.append((monday + dt.timedelta(days=7), [12], "c"))
    lsis = {}
    for start, reps, name in weeks:
        msgs = pair_messages("pair-1", name, reps_per_set=reps, start=start)
        lsis[name] = msgs[-1].json()["symmetry"]
        _ingest(msgs, store)
    # a single unnamed shoe the same week: no LSI, not averaged
    _ingest(session_messages("pair-1", "d", reps_per_set=[4], start=monday), store)
    now = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
    by_week = {w["week"]: w for w in trends.weekly(store, "pair-1", weeks=3, now=now)}
    first, second = by_week["2026-11-16"], by_week["2026-11-23"]
    assert first["lsi_sessions"] == 2 and first["lsi_ratio"] == "involved/uninvolved"
    for name in ("reps_lsi", "heel_rise_lsi", "work_lsi"):
        assert first[name] == pytest.approx((lsis["a"][name] + lsis["b"][name]) / 2, abs=0.05)
        assert second[name] == lsis["c"][name]
    assert by_week["2026-11-09"]["reps_lsi"] is None and by_week["2026-11-09"]["lsi_sessions"] == 0


def test_csv_export_has_each_reps_side_and_the_sessions_lsis():
    msgs = pair_messages("pair-1", "s-1", reps_per_set=[5])
    store = _ingest(msgs).store
    rows = list(csv.DictReader(io.StringIO(session_csv(store.session_detail("pair-1", "s-1")))))
    assert [r["side"] for r in rows] == ["left"] * 5 + ["right"] * 2
    sym = msgs[-1].json()["symmetry"]
    assert {float(r["session_reps_lsi"]) for r in rows} == {sym["reps_lsi"]}
    assert {float(r["session_work_lsi"]) for r in rows} == {sym["work_lsi"]}
    one = _ingest(session_messages("shoe-1", "s-1", reps_per_set=[2])).store
    rows = list(csv.DictReader(io.StringIO(session_csv(one.session_detail("shoe-1", "s-1")))))
    assert [r["side"] for r in rows] == ["", ""] and rows[0]["session_reps_lsi"] == ""


def test_a_file_from_before_two_shoes_keeps_its_sets_and_reps(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE sets (device TEXT NOT NULL, session TEXT NOT NULL,"
        " set_index INTEGER NOT NULL, rep_count INTEGER, start_s REAL, end_s REAL,"
        " ended_by TEXT, mean_raise_s REAL, mean_top_hold_s REAL, mean_lower_s REAL,"
        " mean_peak_deg REAL, mean_heel_rise_mm REAL, fault_counts TEXT, ended_at TEXT,"
        " message_id TEXT, interrupted INTEGER NOT NULL DEFAULT 0,"
        " PRIMARY KEY (device, session, set_index));"
        "INSERT INTO sets (device, session, set_index, rep_count) VALUES ('shoe-a', 's', 1, 1);"
        "CREATE TABLE reps (device TEXT NOT NULL, session TEXT NOT NULL,"
        " set_index INTEGER NOT NULL, rep_index INTEGER NOT NULL, time TEXT NOT NULL,"
        " start_s REAL, top_start_s REAL, top_end_s REAL, end_s REAL, raise_s REAL,"
        " top_hold_s REAL, lower_s REAL, bottom_hold_s REAL, peak_deg REAL, depth_deg REAL,"
        " heel_rise_mm REAL, roll_deg REAL, surface TEXT, faults TEXT, tempo TEXT,"
        " deviation_s TEXT, final INTEGER NOT NULL DEFAULT 0, rep_id TEXT,"
        " PRIMARY KEY (device, session, set_index, rep_index));"
        "INSERT INTO reps (device, session, set_index, rep_index, time, heel_rise_mm)"
        " VALUES ('shoe-a', 's', 1, 1, '2026-01-01T00:00:00.000Z', 55.0);"
        "CREATE TABLE sessions (device TEXT NOT NULL, session TEXT NOT NULL,"
        " started_at TEXT NOT NULL, last_at TEXT NOT NULL, ended_at TEXT, summary TEXT,"
        " endurance TEXT, PRIMARY KEY (device, session));"
        "INSERT INTO sessions VALUES ('shoe-a', 's', '2026-01-01T00:00:00.000Z',"
        " '2026-01-01T00:00:00.000Z', NULL, NULL, NULL);"
    )
    old.commit()
    old.close()
    store = Store(path)
    detail = store.session_detail("shoe-a", "s")
    assert [(s["side"], s["index"], s["summary"]["rep_count"]) for s in detail["sets"]] == [
        (None, 1, 1)
    ]
    assert detail["sets"][0]["reps"][0]["heel_rise_mm"] == 55.0
    assert detail["sides"] == {} and detail["symmetry"] is None
    store.close()
    assert Store(path).counts()["reps"] == 1  # opening it again changes nothing


def test_json_exports_carry_each_shoes_totals_and_the_lsis(tmp_path):
    import httpx
    from heelraise_host.server import Dashboard

    store = Store(tmp_path / "x.db")
    start = dt.datetime(2026, 11, 3, tzinfo=dt.UTC)
    msgs = pair_messages("pair-1", "s-1", reps_per_set=[5], start=start)
    _ingest(msgs, store)
    sent = msgs[-1].json()
    dash = Dashboard(store, None, bind="127.0.0.1:0").start()
    try:
        with httpx.Client(base_url=dash.url, timeout=10) as c:
            one = c.get("/api/export?device=pair-1&session=s-1&format=json").json()
            assert one["sides"] == sent["sides"] and one["symmetry"] == sent["symmetry"]
            assert {s["side"] for s in one["sets"]} == {"left", "right"}
            span = c.get("/api/export/range?device=pair-1&since=2026-11-01&format=json").json()
            (session,) = span["sessions"]
            assert session["symmetry"]["work_lsi"] == sent["symmetry"]["work_lsi"]
            text = c.get("/api/export/range?device=pair-1&since=2026-11-01&format=csv").text
            rows = list(csv.DictReader(io.StringIO(text)))
            assert [r["side"] for r in rows] == ["left"] * 5 + ["right"] * 2
            heel_lsi = str(sent["symmetry"]["heel_rise_lsi"])
            assert {r["session_heel_rise_lsi"] for r in rows} == {heel_lsi}
    finally:
        dash.stop()
        store.close()
