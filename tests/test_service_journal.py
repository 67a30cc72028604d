"""The session journal: a kill -9 mid-set, then a restart, closes the old set and session."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from conftest import Recorder, wait_until
from heelraise.events import Rep, SessionEvent, SetEvent, SetSummary
from heelraise.mqtt.outbox import Outbox
from heelraise.protocol import payloads, validation
from heelraise.service.journal import Journal, close_interrupted, interrupted_messages


def rep(set_index: int, index: int, start_s: float) -> Rep:
    return Rep(
        set=set_index,
        index=index,
        start_s=start_s,
        top_start_s=start_s + 2.0,
        top_end_s=start_s + 3.0,
        end_s=start_s + 5.0,
        peak_deg=24.0 + index,
        depth_deg=0.0,
        heel_rise_mm=50.0 + index,
    )


def test_the_journal_survives_a_reopen_and_closes_the_open_set_once(tmp_path):
    path = str(tmp_path / "outbox.sqlite")
    journal = Journal(path)
    journal.begin("20261124T031500Z-1a2b3c", "shoe-1")
    first = [rep(1, i, 10.0 + 7 * i) for i in (1, 2, 3)]
    for r in first:
        journal.add_rep(r, t_s=r.end_s + 0.1)
    final = [rep(1, i, 10.0 + 7 * i) for i in (1, 2, 3)]
    final[0].bottom_hold_s = 2.0
    final[1].bottom_hold_s = 2.0
    journal.close_set(SetSummary(1, 17.0, 36.0, final, "pause"), t_s=40.0)
    for i in (1, 2):
        r = rep(2, i, 100.0 + 7 * i)
        journal.add_rep(r, t_s=r.end_s + 0.1)
    journal.close()  # the process dies here: nothing else is written

    journal = Journal(path)  # the next start
    left = journal.left_over()
    assert left.session_id == "20261124T031500Z-1a2b3c" and left.device_id == "shoe-1"
    assert [s.index for s in left.closed_sets] == [1]
    assert left.closed_sets[0].reps[0].bottom_hold_s == 2.0  # the final values
    assert left.open_set.index == 2 and [r.index for r in left.open_set.reps] == [1, 2]
    assert left.sensor_t_s == 119.1
    # made twice (a second crash during recovery): the same ids
    again = interrupted_messages(left, wall_clock=lambda: 1.8e9)
    ids = [m["id"] for m in interrupted_messages(left, wall_clock=lambda: 1.8e9)]
    assert [m["id"] for m in again] == ids and len(set(ids)) == 2
    # killed after the set's (or session's) own event entered the outbox but before the
    # journal noted it: the interrupted copy has the same id, so it is stored once
    env = payloads.Envelope("shoe-1", left.session_id)
    normal_set = payloads.set_payload(env, SetEvent(left.open_set, t_s=119.2))
    normal_session = payloads.session_payload(env, SessionEvent(left.summary, t_s=119.3))
    assert [normal_set["id"], normal_session["id"]] == ids
    other = payloads.Envelope("shoe-1", "20261124T041500Z-9f9f9f")
    assert payloads.set_payload(other, SetEvent(left.open_set, t_s=1.0))["id"] not in ids

    outbox = Outbox(path)
    closed = close_interrupted(journal, outbox, "heelraise", 1, wall_clock=lambda: 1.8e9)
    assert closed.session_id == left.session_id
    rows = outbox.pending()
    assert [(r.kind, r.topic) for r in rows] == [
        ("set", "heelraise/shoe-1/event/set"),
        ("session", "heelraise/shoe-1/event/session"),
    ]
    set_msg, session_msg = (validation.loads(r.payload) for r in rows)
    for m in (set_msg, session_msg):
        validation.validate(m["type"], m)
        assert m["interrupted"] is True and m["session"] == left.session_id
    assert [m["id"] for m in (set_msg, session_msg)] == ids
    assert set_msg["set"]["index"] == 2 and set_msg["set"]["rep_count"] == 2
    assert session_msg["summary"]["rep_count"] == 5 and session_msg["summary"]["set_count"] == 2
    # cleared: the next start finds nothing, and puts nothing
    assert journal.left_over() is None
    assert close_interrupted(journal, outbox, "heelraise", 1) is None
    assert len(outbox.pending()) == 2


def test_a_clean_session_end_leaves_nothing(tmp_path):
    journal = Journal(str(tmp_path / "o.sqlite"))
    journal.begin("s-clean", "shoe-1")
    journal.add_rep(rep(1, 1, 3.0), t_s=8.1)
    journal.clear()
    assert journal.left_over() is None
    journal.begin("s-idle", "shoe-1")  # killed before any rep: the session is still closed
    left = journal.left_over()
    assert left.open_set is None and left.summary.rep_count == 0
    session = interrupted_messages(left)
    assert [m["type"] for m in session] == ["session"] and session[0]["sensor_t_s"] is None
    validation.validate("session", session[0])


KINDS = ("/rep", "/set", "/session")

CONFIG = """
[device]
id = "journal-shoe"
[sensor]
type = "sim"
rate_hz = 100
[log]
level = "INFO"
[mqtt]
host = "{host}"
port = {port}
outbox_path = "{outbox}"
reconnect_min_s = 0.1
reconnect_max_s = 0.5
"""


def start(config_path, log_path, *args):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("GPIOZERO_PIN_FACTORY", None)
    with open(log_path, "w") as log:  # the child has its own copy of the file
        return subprocess.Popen(
            [sys.executable, "-m", "heelraise", "run", "--config", str(config_path), *args],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=env,
        )


def test_kill_9_mid_set_then_a_restart_closes_the_old_set_and_session(tmp_path, mqtt_broker):
    config = tmp_path / "config.toml"
    config.write_text(
        CONFIG.format(
            host=mqtt_broker.host, port=mqtt_broker.port, outbox=tmp_path / "outbox.sqlite"
        )
    )
    rec = Recorder(mqtt_broker, "heelraise/journal-shoe/event/#")
    try:

        def events(kind):
            return [m.json() for m in rec.on(f"heelraise/journal-shoe/event/{kind}")]

        def mid_set(_):
            # the second rep of a set whose set event has not come: the set is open
            closed = {(m["session"], m["set"]["index"]) for m in events("set")}
            return [
                m
                for m in events("rep")
                if m["rep"]["index"] >= 2 and (m["session"], m["rep"]["set"]) not in closed
            ]

        first = start(config, tmp_path / "first.log", "--imu", "sim", "--speed", "20", "--no-cues")
        try:
            seen = rec.wait_for(mid_set, timeout_s=25.0, what="a set's second rep")
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        # Everything the dead process may have had in flight: a row is deleted only after its
        # PUBACK, so a message that reached the broker just before SIGKILL is sent again.
        in_flight = {m.json()["id"]: m.payload for m in rec.messages if m.topic.endswith(KINDS)}
        old_session = seen[0]["session"]
        open_set = seen[0]["rep"]["set"]

        second = start(
            config,
            tmp_path / "second.log",
            "--imu",
            "sim",
            "--speed",
            "20",
            "--no-cues",
            "--seconds",
            "2",
        )
        try:

            def closed_old(messages):
                return [
                    m
                    for m in events("session")
                    if m["session"] == old_session and m.get("interrupted") is True
                ]

            rec.wait_for(closed_old, timeout_s=20.0, what="the old session, interrupted")
            assert second.wait(timeout=20) == 0, (tmp_path / "second.log").read_text()[-2000:]
        finally:
            if second.poll() is None:
                second.kill()
                second.wait()
        # the restarted run's own session ends cleanly and is not interrupted
        wait_until(
            lambda: any(m["session"] != old_session for m in events("session")), 10.0, "new session"
        )
        stderr = (tmp_path / "second.log").read_text()
    finally:
        rec.close()

    arrived = [m for m in rec.messages if m.topic.endswith(KINDS)]
    everything = [m.json() for m in arrived]
    ids = [m["id"] for m in everything]
    doubled = {i for i in ids if ids.count(i) > 1}
    # QoS 1 is at least once: only a message the killed process had already sent may come twice
    # (the dashboard keeps one per device and id), and then byte for byte the same message.
    assert doubled <= set(in_flight), f"sent twice though not in flight at the kill: {doubled}"
    for m in arrived:
        if m.json()["id"] in doubled:
            assert m.payload == in_flight[m.json()["id"]], "a resent message changed"
    for m in everything:
        validation.validate(m["type"], m)

    # one per id, as the dashboard keeps them (a resend, checked above, is the same rep)
    old_reps = sorted(
        {
            m["id"]: (m["rep"]["set"], m["rep"]["index"])
            for m in events("rep")
            if m["session"] == old_session
        }.values()
    )
    interrupted_sets = [m for m in events("set") if m.get("interrupted")]
    assert [(m["session"], m["set"]["index"]) for m in interrupted_sets] == [
        (old_session, open_set)
    ]
    set_reps = [(r["set"], r["index"]) for r in interrupted_sets[0]["set"]["reps"]]
    assert set_reps == [k for k in old_reps if k[0] == open_set]
    assert len(set_reps) >= 2
    # the set is closed once: no normal set event for it either
    assert [
        m for m in events("set") if m["session"] == old_session and m["set"]["index"] == open_set
    ] == interrupted_sets
    sessions = [m for m in events("session") if m["session"] == old_session]
    assert len(sessions) == 1 and sessions[0]["interrupted"] is True
    summary = sessions[0]["summary"]
    assert summary["rep_count"] == len(old_reps)
    closed_sets = {m["set"]["index"] for m in events("set") if m["session"] == old_session}
    assert summary["set_count"] == len(closed_sets)
    assert not any(m.get("interrupted") for m in events("session") if m["session"] != old_session)
    assert "closed from the journal as interrupted" in stderr
    json.dumps(summary)  # plain JSON all the way


def test_two_shoes_keep_their_sets_apart_in_the_journal(tmp_path):
    """Both shoes count a set 1: each is journalled under its side, and closed as its own."""
    path = str(tmp_path / "outbox.sqlite")
    journal = Journal(path)
    journal.begin("s-pair", "shoe-1")
    for i in (1, 2, 3):
        journal.add_rep(rep(1, i, 10.0 * i), t_s=10.0 * i + 5.2, side="left")
    journal.close_set(SetSummary(1, 10.0, 35.0, [rep(1, i, 10.0 * i) for i in (1, 2, 3)], "pause"),
                      t_s=40.0, side="left")  # fmt: skip
    for i in (1, 2):
        journal.add_rep(rep(1, i, 100.0 + 10 * i), t_s=115.2 + 10 * i, side="right")
    journal.close()
    left = Journal(path).left_over()  # what a kill -9 now leaves, after a reopen
    assert [(side, s.index, s.rep_count) for side, s in left.closed] == [("left", 1, 3)]
    assert [(side, s.index, s.rep_count) for side, s in left.open] == [("right", 1, 2)]
    assert left.summary.rep_count == 5
    messages = interrupted_messages(left, wall_clock=lambda: 0.0, body_mass_kg=80.0)
    assert [m["type"] for m in messages] == ["set", "session"]
    for m in messages:
        validation.validate(m["type"], m)
    totals = left.sides(80.0)
    assert totals["left"].reps == 3 and totals["right"].reps == 2


def test_a_journal_written_before_two_shoes_is_still_closed(tmp_path):
    import sqlite3

    path = str(tmp_path / "outbox.sqlite")
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE journal_session (one INTEGER PRIMARY KEY CHECK (one = 1),
            session TEXT NOT NULL, device TEXT NOT NULL, sensor_t_s REAL);
        CREATE TABLE journal_rep (set_index INTEGER NOT NULL, rep_index INTEGER NOT NULL,
            rep TEXT NOT NULL, PRIMARY KEY (set_index, rep_index));
        CREATE TABLE journal_set (set_index INTEGER PRIMARY KEY, start_s REAL NOT NULL,
            end_s REAL NOT NULL, ended_by TEXT NOT NULL);
        INSERT INTO journal_session VALUES (1, 's-old', 'shoe-1', 12.0);
        """
    )
    db.execute("INSERT INTO journal_rep VALUES (1, 1, ?)", (json.dumps(rep(1, 1, 3.0).to_dict()),))
    db.commit()
    db.close()
    left = Journal(path).left_over()
    assert left.session_id == "s-old" and [(side, s.index) for side, s in left.open] == [(None, 1)]
