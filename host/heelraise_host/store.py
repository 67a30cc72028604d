"""The dashboard's memory: devices, sessions, sets and reps in one SQLite file (WAL).

One job: keep what devices reported, exactly once, and answer the dashboard's
questions about it. Every stored event message is first recorded in ``messages``
under its device and envelope ``id`` (unique together: no device can take another
one's id), in the same transaction as its effects, so a redelivered message (QoS 1
duplicates, a broker replaying a persistent session, two dashboard instances
sharing one file) changes nothing. A message that would fill a rep, set or session
slot already filled by another message id is a :class:`Conflict`, refused whole.

Several processes may write the same file: SQLite's WAL mode lets readers run
beside one writer, and ``busy_timeout`` makes writers queue instead of failing.

Tables (times ``*_at`` are the envelope's UTC ISO-8601 ``time``, ``*_s`` the
sensor clock)::

    messages (seq, id, type, device, session, time, received_at, body), UNIQUE (device, id)
    devices  (device, status, status_at, state, state_at, last_seen, health, health_at,
              side_states)
    sessions (device, session, started_at, last_at, ended_at, summary, endurance,
              message_id, interrupted, side, sides, symmetry)
    sets     (device, session, side, set_index, ..., the SetSummary fields, message_id,
              interrupted)
    reps     (device, session, side, set_index, rep_index, ..., the Rep fields, final, rep_id)

Two shoes on one device: every rep and set is kept under its ``side`` ("left", "right";
``""`` in the table for a single unnamed sensor, None when read), so each shoe's set 1
is its own; a shoe's state is kept in ``side_states`` beside the device's ``state``; a
session keeps its message's ``side``, per-side totals ``sides`` and ``symmetry`` block.

A file made by an older dashboard is brought to this schema when opened, keeping its rows.

``Store("heelraise.db")`` opens (or makes) a file; ``":memory:"`` keeps it in memory:

>>> from heelraise_host import messages
>>> from heelraise_host.devicesim import session_messages
>>> out = session_messages("shoe-1", "s-42", reps_per_set=[3])[1]     # the first rep
>>> message = messages.parse(out.topic, out.payload)
>>> store = Store(":memory:")
>>> store.add_event(message, received_at="2026-11-24T03:15:00.200Z")   # new
True
>>> store.add_event(message, received_at="2026-11-24T03:15:01.000Z")   # seen: nothing changes
False
>>> store.session_detail("shoe-1", "s-42")["sets"][0]["reps"][0]["raise_s"]
1.976
>>> other = messages.parse(out.topic, out.payload.replace(message.id.encode(), b"0" * 32))
>>> store.add_event(other, received_at="2026-11-24T03:15:02.000Z")
Traceback (most recent call last):
heelraise_host.store.Conflict: rep 1 of set 1 in session 's-42' was already reported by message \
e443df789558467f9ba91faf7a024204; refusing its replacement 00000000000000000000000000000000
>>> store.counts()
{'messages': 1, 'devices': 1, 'sessions': 1, 'sets': 0, 'reps': 1}
>>> store.close()
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
import uuid
from pathlib import Path

from heelraise import events

_MESSAGES = """
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    device TEXT NOT NULL,
    session TEXT NOT NULL,
    time TEXT NOT NULL,
    received_at TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (device, id)
)"""
_SCHEMA = (
    _MESSAGES
    + """;
CREATE TABLE IF NOT EXISTS devices (
    device TEXT PRIMARY KEY,
    status TEXT, status_at TEXT,
    state TEXT, state_at TEXT,
    last_seen TEXT,
    health TEXT, health_at TEXT
);
CREATE TABLE IF NOT EXISTS sessions (
    device TEXT NOT NULL,
    session TEXT NOT NULL,
    started_at TEXT NOT NULL,
    last_at TEXT NOT NULL,
    ended_at TEXT,
    summary TEXT,
    endurance TEXT,
    message_id TEXT,
    interrupted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (device, session)
);
CREATE INDEX IF NOT EXISTS sessions_by_time ON sessions (started_at);
CREATE TABLE IF NOT EXISTS sets (
    device TEXT NOT NULL,
    session TEXT NOT NULL,
    side TEXT NOT NULL DEFAULT '',
    set_index INTEGER NOT NULL,
    rep_count INTEGER, start_s REAL, end_s REAL, ended_by TEXT,
    mean_raise_s REAL, mean_top_hold_s REAL, mean_lower_s REAL,
    mean_peak_deg REAL, mean_heel_rise_mm REAL, fault_counts TEXT,
    ended_at TEXT,
    message_id TEXT,
    interrupted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (device, session, side, set_index)
);
CREATE TABLE IF NOT EXISTS reps (
    device TEXT NOT NULL,
    session TEXT NOT NULL,
    side TEXT NOT NULL DEFAULT '',
    set_index INTEGER NOT NULL,
    rep_index INTEGER NOT NULL,
    time TEXT NOT NULL,
    start_s REAL, top_start_s REAL, top_end_s REAL, end_s REAL,
    raise_s REAL, top_hold_s REAL, lower_s REAL, bottom_hold_s REAL,
    peak_deg REAL, depth_deg REAL, heel_rise_mm REAL, roll_deg REAL,
    surface TEXT, faults TEXT, tempo TEXT, deviation_s TEXT,
    final INTEGER NOT NULL DEFAULT 0,
    rep_id TEXT,
    PRIMARY KEY (device, session, side, set_index, rep_index)
);
"""
)

#: rep columns in export order: the rep's fields (heelraise.events.REP_FIELDS) but where it
#: belongs (``set``, ``index``), which are the key columns ``set_index`` and ``rep_index``
REP_FIELDS = tuple(f for f in events.REP_FIELDS if f not in ("set", "index"))
_REP_JSON = ("faults", "tempo", "deviation_s")
SET_FIELDS = (
    "rep_count",
    "start_s",
    "end_s",
    "ended_by",
    "mean_raise_s",
    "mean_top_hold_s",
    "mean_lower_s",
    "mean_peak_deg",
    "mean_heel_rise_mm",
    "fault_counts",
)

_TOUCH_DEVICE = (
    "INSERT INTO devices (device, last_seen) VALUES (?, ?) ON CONFLICT(device)"
    " DO UPDATE SET last_seen = max(coalesce(last_seen, ''), excluded.last_seen)"
)
_TOUCH_SESSION = (
    "INSERT INTO sessions (device, session, started_at, last_at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT(device, session) DO UPDATE SET"
    " started_at = min(started_at, excluded.started_at),"
    " last_at = max(last_at, excluded.last_at)"
)
_NEW_REP = (
    f"INSERT INTO reps (device, session, side, set_index, rep_index, time,"
    f" {', '.join(REP_FIELDS)}, final, rep_id)"
    f" VALUES (?, ?, ?, ?, ?, ?, {', '.join('?' for _ in REP_FIELDS)}, ?, ?)"
)
# A set message's final rep (bottom_hold_s filled) wins over the early rep event,
# whichever arrives first: the early one only leaves its id on a final row.
_FINAL_REP = (
    f"INSERT INTO reps (device, session, side, set_index, rep_index, time,"
    f" {', '.join(REP_FIELDS)}, final)"
    f" VALUES (?, ?, ?, ?, ?, ?, {', '.join('?' for _ in REP_FIELDS)}, 1)"
    f" ON CONFLICT(device, session, side, set_index, rep_index) DO UPDATE SET"
    f" {', '.join(f'{c} = excluded.{c}' for c in REP_FIELDS)}, final = 1"
)
_PUT_SET = (
    f"INSERT INTO sets (device, session, side, set_index, {', '.join(SET_FIELDS)}, ended_at,"
    f" message_id, interrupted)"
    f" VALUES (?, ?, ?, ?, {', '.join('?' for _ in SET_FIELDS)}, ?, ?, ?)"
)
_END_SESSION = (
    "UPDATE sessions SET ended_at = ?, summary = ?, endurance = ?, message_id = ?,"
    " interrupted = ?, side = ?, sides = ?, symmetry = ? WHERE device = ? AND session = ?"
)
#: what a message the store cannot file raises (the others in its batch still land);
#: sqlite3.OperationalError (disk full, locked, I/O) is the store's trouble, not the
#: message's, and is left to the caller (the ingest retries the batch).
_FILING_ERRORS = (
    sqlite3.IntegrityError,
    sqlite3.InterfaceError,
    sqlite3.DataError,
    KeyError,
    TypeError,
    ValueError,
    AttributeError,
    OverflowError,
)


class Conflict(Exception):
    """A message that would replace a stored rep, set or session of its device with
    content from another message id (its slot is taken); it is refused, not stored."""


#: sessions with the counts and mean heel height of their stored reps (a row per session)
_SESSIONS_WITH_COUNTS = (
    "SELECT s.*, (SELECT count(*) FROM reps r WHERE r.device = s.device"
    " AND r.session = s.session) AS rep_count,"
    " (SELECT count(DISTINCT r.side || '/' || set_index) FROM reps r WHERE r.device = s.device"
    " AND r.session = s.session) AS set_count,"
    " (SELECT avg(heel_rise_mm) FROM reps r WHERE r.device = s.device"
    " AND r.session = s.session) AS mean_heel_rise_mm"
    " FROM sessions s"
)


class Store:
    """SQLite store; safe to share between the ingest thread and the web server."""

    def __init__(self, path: str | Path = ":memory:", *, busy_timeout_s: float = 10.0):
        self.path = str(path)
        self._busy_ms = int(busy_timeout_s * 1000)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        if self.path == ":memory:":
            # One shared in-memory database for every thread of this process.
            # Named by a fresh uuid, not id(self): a store that was dropped without close()
            # keeps its database alive, and a new object may be given its id.
            self.path = f"file:heelraise-{uuid.uuid4().hex}?mode=memory&cache=shared"
            self._uri = True
            self._keepalive = self._connect()
        else:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._uri = False
        with self._write_lock:
            conn = self._conn()
            conn.executescript(_SCHEMA)
            _migrate(conn)

    # ------------------------------------------------------------------ connections

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, uri=getattr(self, "_uri", False), check_same_thread=False, timeout=30
        )
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
        if self.path.startswith("file:"):
            # A shared-cache database locks tables, not the file: a reader meeting a write
            # gets "database table is locked" at once (busy_timeout does not apply). Readers
            # take no table locks this way; writes stay serialised by the write lock.
            conn.execute("PRAGMA read_uncommitted = 1")
        else:
            conn.execute("PRAGMA journal_mode = WAL")
            # WAL + NORMAL: a commit survives a crash of this process; only a power
            # cut can lose the last few commits (never corrupts the file).
            conn.execute("PRAGMA synchronous = NORMAL")
        with self._all_lock:
            self._all.append(conn)
        return conn

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    def close(self) -> None:
        with self._all_lock:
            conns, self._all = self._all, []
        for c in conns:
            try:
                c.close()
            except sqlite3.ProgrammingError:
                pass  # closed from its own thread already
        self._local = threading.local()

    # ------------------------------------------------------------------ writes

    def add_event(self, msg, *, received_at: str) -> bool:
        """Store a rep/set/session message; False (nothing changed) if its id was seen."""
        (outcome,) = self.add_events([msg], received_at=received_at)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def add_events(self, msgs, *, received_at: str) -> list:
        """Store several event messages in one transaction (one disk commit for all).

        Returns, per message, True (stored), False (its id was seen from that
        device: nothing changed), or the exception that kept it out: a
        :class:`Conflict`, or one of the errors of a message the store cannot
        file; the others are still stored. Each message is written under its own
        savepoint, so one that fails leaves nothing behind. Trouble of the store
        itself (``sqlite3.OperationalError``: disk full, locked too long) rolls
        the whole batch back and is raised.
        """
        msgs = list(msgs)
        with self._write_lock:
            conn = self._conn()
            with conn:
                # IMMEDIATE: take the write lock now (another process may be writing the
                # same file; busy_timeout queues us), so what is read below stays current.
                conn.execute("BEGIN IMMEDIATE")
                out = [self._add_one(conn, msg, received_at) for msg in msgs]
        return out

    def _add_one(self, conn, msg, received_at):
        # A savepoint per message: its id and its effects, or nothing.
        conn.execute("SAVEPOINT one")
        try:
            result = self._add(conn, msg, received_at)
        except (Conflict, *_FILING_ERRORS) as e:
            conn.execute("ROLLBACK TO one")
            result = e
        conn.execute("RELEASE one")
        return result

    def _add(self, conn, msg, received_at) -> bool:
        if msg.type not in ("rep", "set", "session"):
            raise ValueError(f"add_events takes rep/set/session messages, not {msg.type!r}")
        body = msg.body
        device, session, time, id_ = msg.device, body["session"], body["time"], body["id"]
        cur = conn.execute(
            "INSERT OR IGNORE INTO messages (id, type, device, session, time, received_at, body)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            _message_row(msg, received_at),
        )
        if cur.rowcount == 0:
            return False  # this device sent this id before
        conn.execute(_TOUCH_DEVICE, (device, time))
        conn.execute(_TOUCH_SESSION, (device, session, time, time))
        side = _side_key(body.get("side"))
        if msg.type == "rep":
            self._add_rep(conn, device, session, side, time, id_, body["rep"])
        elif msg.type == "set":
            s = body["set"]
            taken = conn.execute(
                "SELECT message_id FROM sets WHERE device = ? AND session = ? AND side = ?"
                " AND set_index = ?",
                (device, session, side, s["index"]),
            ).fetchone()
            if taken is not None:
                raise Conflict(
                    f"set {s['index']}{_of_side(side)} of session {session!r} was already"
                    f" reported by message {taken[0]}; refusing its replacement {id_}"
                )
            interrupted = int(bool(body.get("interrupted")))
            row = _set_row(device, session, side, time, s)
            conn.execute(_PUT_SET, (*row, id_, interrupted))
            for rep in s["reps"]:
                conn.execute(_FINAL_REP, _rep_row(device, session, side, time, rep))
        else:
            taken = conn.execute(
                "SELECT message_id FROM sessions WHERE device = ? AND session = ?",
                (device, session),
            ).fetchone()
            if taken[0] is not None:
                raise Conflict(
                    f"session {session!r} was already closed by message {taken[0]};"
                    f" refusing its replacement {id_}"
                )
            conn.execute(
                _END_SESSION,
                (
                    time,
                    json.dumps(body["summary"]),
                    _json_or_none(body.get("endurance")),
                    id_,
                    int(bool(body.get("interrupted"))),
                    body.get("side"),
                    _json_or_none(body.get("sides")),
                    _json_or_none(body.get("symmetry")),
                    device,
                    session,
                ),
            )
        return True

    def _add_rep(self, conn, device, session, side, time, id_, rep) -> None:
        key = (device, session, side, rep["set"], rep["index"])
        row = conn.execute(
            "SELECT rep_id FROM reps WHERE device = ? AND session = ? AND side = ?"
            " AND set_index = ? AND rep_index = ?",
            key,
        ).fetchone()
        if row is None:
            conn.execute(_NEW_REP, (*_rep_row(device, session, side, time, rep), 0, id_))
        elif row[0] is None:  # its set's final row came first: keep it, note the id
            conn.execute(
                "UPDATE reps SET rep_id = ? WHERE device = ? AND session = ? AND side = ?"
                " AND set_index = ? AND rep_index = ?",
                (id_, *key),
            )
        else:
            raise Conflict(
                f"rep {rep['index']} of set {rep['set']}{_of_side(side)} in session"
                f" {session!r} was already reported by message {row[0]};"
                f" refusing its replacement {id_}"
            )

    def set_device(
        self,
        device: str,
        *,
        status=None,
        state=None,
        health=None,
        at: str,
        last_seen: str | None = None,
        side: str | None = None,
    ) -> None:
        """Remember a device's latest ``status``, ``state`` and/or ``health`` (an upsert).
        A ``state`` of one shoe of two (``side``) is kept per side, in ``side_states``."""
        with self._write_lock:
            conn = self._conn()
            with conn:
                conn.execute(
                    "INSERT INTO devices (device, last_seen) VALUES (?, ?)"
                    " ON CONFLICT(device) DO UPDATE SET last_seen ="
                    " max(coalesce(last_seen, ''), excluded.last_seen)",
                    (device, last_seen or at),
                )
                if status is not None:
                    conn.execute(
                        "UPDATE devices SET status = ?, status_at = ? WHERE device = ?",
                        (status, at, device),
                    )
                if state is not None and side is not None:
                    row = conn.execute(
                        "SELECT side_states FROM devices WHERE device = ?", (device,)
                    ).fetchone()
                    states = json.loads(row[0]) if row[0] else {}
                    if states.get(side, {}).get("at", "") <= at:
                        states[side] = {"state": state, "at": at}
                        conn.execute(
                            "UPDATE devices SET side_states = ? WHERE device = ?",
                            (json.dumps(states), device),
                        )
                elif state is not None:
                    conn.execute(
                        "UPDATE devices SET state = ?, state_at = ? WHERE device = ?"
                        " AND (state_at IS NULL OR state_at <= ?)",
                        (json.dumps(state), at, device, at),
                    )
                if health is not None:
                    conn.execute(
                        "UPDATE devices SET health = ?, health_at = ? WHERE device = ?"
                        " AND (health_at IS NULL OR health_at <= ?)",
                        (json.dumps(health), at, device, at),
                    )

    # ------------------------------------------------------------------ reads

    def _rows(self, sql: str, args=()) -> list[sqlite3.Row]:
        return self._conn().execute(sql, args).fetchall()

    def counts(self) -> dict:
        """How many of each thing are stored (for tests, health and the bench)."""
        out = {}
        for table in ("messages", "devices", "sessions", "sets", "reps"):
            out[table] = self._rows(f"SELECT count(*) FROM {table}")[0][0]
        return out

    def last_seq(self) -> int:
        return self._rows("SELECT coalesce(max(seq), 0) FROM messages")[0][0]

    def messages_after(self, seq: int, limit: int = 500) -> list[dict]:
        """Stored event messages with ``seq`` greater than the given one, oldest first."""
        rows = self._rows(
            "SELECT seq, type, device, session, body FROM messages WHERE seq > ?"
            " ORDER BY seq LIMIT ?",
            (seq, limit),
        )
        return [
            {
                "seq": r["seq"],
                "type": r["type"],
                "device": r["device"],
                "session": r["session"],
                "body": json.loads(r["body"]),
            }
            for r in rows
        ]

    def devices(self) -> list[dict]:
        rows = self._rows("SELECT * FROM devices ORDER BY device")
        return [
            {
                "device": r["device"],
                "status": r["status"],
                "status_at": r["status_at"],
                "state": None if r["state"] is None else json.loads(r["state"]),
                "state_at": r["state_at"],
                "health": None if r["health"] is None else json.loads(r["health"]),
                "health_at": r["health_at"],
                "last_seen": r["last_seen"],
                # each shoe of a pair: {"left": {"state": {...}, "at": time}, ...}
                "sides": json.loads(r["side_states"]) if r["side_states"] else {},
            }
            for r in rows
        ]

    def current_set(self, device: str) -> dict | None:
        """The device's latest session and the reps of its latest set (for the live view)."""
        row = self._rows(
            "SELECT session, ended_at, interrupted, sides, symmetry FROM sessions"
            " WHERE device = ? ORDER BY last_at DESC LIMIT 1",
            (device,),
        )
        if not row:
            return None
        session, ended_at = row[0]["session"], row[0]["ended_at"]
        interrupted = bool(row[0]["interrupted"])
        per_side = {}
        for r in self._rows(
            "SELECT side, max(set_index) AS top, count(*) AS n FROM reps"
            " WHERE device = ? AND session = ? GROUP BY side ORDER BY side",
            (device, session),
        ):
            per_side[r["side"]] = {
                "set": r["top"],
                "reps": self._reps(device, session, r["top"], r["side"]),
                "session_rep_count": r["n"],
            }
        # the set shown for the device as a whole: an unnamed sensor's, or the newest
        latest = max(
            per_side.values(),
            key=lambda p: (p["set"], max((r["time"] for r in p["reps"]), default="")),
            default=None,
        )
        return {
            "session": session,
            "ended_at": ended_at,
            "interrupted": interrupted,
            "set": 0 if latest is None else latest["set"],
            "reps": [] if latest is None else latest["reps"],
            "session_rep_count": sum(p["session_rep_count"] for p in per_side.values()),
            # each shoe of a pair: its own latest set, its reps and its session count
            "sides": {_side_of(k): v for k, v in per_side.items() if k},
            # once the session closed: its per-side totals and LSIs (as its message)
            "session_sides": json.loads(row[0]["sides"]) if row[0]["sides"] else {},
            "symmetry": json.loads(row[0]["symmetry"]) if row[0]["symmetry"] else None,
        }

    def sessions(
        self, device: str | None = None, since: str | None = None, until: str | None = None
    ) -> list[dict]:
        """Sessions newest first, each with set and rep counts and its endurance result."""
        where, args = [], []
        if device is not None:
            where.append("s.device = ?")
            args.append(device)
        if since is not None:
            where.append("s.started_at >= ?")
            args.append(since)
        if until is not None:
            where.append("s.started_at < ?")
            args.append(until)
        sql = _SESSIONS_WITH_COUNTS
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY s.started_at DESC"
        return [self._session_row(r) for r in self._rows(sql, args)]

    def _session_row(self, r) -> dict:
        mean = r["mean_heel_rise_mm"]
        sides = self._side_totals(r["device"], r["session"])
        for side, totals in (json.loads(r["sides"]) if r["sides"] else {}).items():
            sides[side] = totals  # the shoe's own totals (with work) once the session closed
        return {
            "device": r["device"],
            "session": r["session"],
            "started_at": r["started_at"],
            "last_at": r["last_at"],
            "ended_at": r["ended_at"],
            "rep_count": r["rep_count"],
            "set_count": r["set_count"],
            "mean_heel_rise_mm": None if mean is None else round(mean, 1),
            "endurance": None if r["endurance"] is None else json.loads(r["endurance"]),
            "interrupted": bool(r["interrupted"]),
            "side": r["side"] if r["ended_at"] else _session_side(sides),
            "sides": sides,
            "symmetry": None if r["symmetry"] is None else json.loads(r["symmetry"]),
        }

    def _side_totals(self, device: str, session: str) -> dict:
        """Each named shoe's stored reps and their mean heel height (work comes with the
        session message: it needs the body mass)."""
        out = {}
        for r in self._rows(
            "SELECT side, count(*) AS n, avg(heel_rise_mm) AS heel FROM reps"
            " WHERE device = ? AND session = ? AND side != '' GROUP BY side ORDER BY side",
            (device, session),
        ):
            heel = r["heel"]
            out[r["side"]] = {
                "reps": r["n"],
                "mean_heel_rise_mm": None if heel is None else round(heel, 1),
                "work_j": None,
            }
        return out

    def session_detail(self, device: str, session: str) -> dict | None:
        """One session: its sets (summaries where a set message came) with their reps."""
        rows = self._rows(
            _SESSIONS_WITH_COUNTS + " WHERE device = ? AND session = ?",
            (device, session),
        )
        if not rows:
            return None
        out = self._session_row(rows[0])
        out["summary"] = None if rows[0]["summary"] is None else json.loads(rows[0]["summary"])
        summaries = {
            (r["side"], r["set_index"]): r
            for r in self._rows(
                "SELECT * FROM sets WHERE device = ? AND session = ?", (device, session)
            )
        }
        keys = sorted(
            set(summaries)
            | {
                (r[0], r[1])
                for r in self._rows(
                    "SELECT DISTINCT side, set_index FROM reps WHERE device = ? AND session = ?",
                    (device, session),
                )
            }
        )
        sets = []
        for side, i in keys:  # an unnamed sensor's sets, then the left shoe's, the right's
            s = {
                "index": i,
                "side": _side_of(side),
                "summary": None,
                "interrupted": False,
                "reps": self._reps(device, session, i, side),
            }
            if (side, i) in summaries:
                row = summaries[(side, i)]
                s["interrupted"] = bool(row["interrupted"])
                s["summary"] = {n: row[n] for n in SET_FIELDS}
                s["summary"]["fault_counts"] = json.loads(row["fault_counts"] or "{}")
            sets.append(s)
        out["sets"] = sets
        return out

    def _reps(self, device: str, session: str, set_index: int, side: str = "") -> list[dict]:
        rows = self._rows(
            "SELECT * FROM reps WHERE device = ? AND session = ? AND side = ? AND set_index = ?"
            " ORDER BY rep_index",
            (device, session, side, set_index),
        )
        return [_rep_dict(r) for r in rows]

    def session_reps(self, device: str, session: str) -> list[dict]:
        """Every rep of a session: an unnamed sensor's, then the left shoe's, the right's."""
        rows = self._rows(
            "SELECT * FROM reps WHERE device = ? AND session = ?"
            " ORDER BY side, set_index, rep_index",
            (device, session),
        )
        return [_rep_dict(r) for r in rows]


#: columns added since the first release: (table, column, declaration)
_ADDED_COLUMNS = (
    ("sessions", "message_id", "TEXT"),
    ("sessions", "interrupted", "INTEGER NOT NULL DEFAULT 0"),
    ("sets", "message_id", "TEXT"),
    ("sets", "interrupted", "INTEGER NOT NULL DEFAULT 0"),
    ("reps", "rep_id", "TEXT"),
    ("devices", "health", "TEXT"),
    ("devices", "health_at", "TEXT"),
    ("devices", "side_states", "TEXT"),
    ("sessions", "side", "TEXT"),
    ("sessions", "sides", "TEXT"),
    ("sessions", "symmetry", "TEXT"),
)
#: tables whose key gained the shoe's side (two shoes' set 1 are two sets): rebuilt
_SIDED_TABLES = ("sets", "reps")


def _migrate(conn) -> None:
    """Bring a file made by an older dashboard to this schema, keeping everything in it."""
    for table, column, decl in _ADDED_COLUMNS:
        have = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
        if column not in have:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
    for table in _SIDED_TABLES:
        have = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        if "side" in have:
            continue
        # The key gains ``side``: a new table with the new key, every row copied (side "":
        # they came from single sensors), all or nothing.
        create = next(
            stmt for stmt in _SCHEMA.split(";") if f"CREATE TABLE IF NOT EXISTS {table} " in stmt
        )
        cols = ", ".join(have)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(f"ALTER TABLE {table} RENAME TO {table}_old")
        conn.execute(create)
        conn.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {table}_old")
        conn.execute(f"DROP TABLE {table}_old")
        conn.execute("COMMIT")
    for index in conn.execute("PRAGMA index_list(messages)").fetchall():
        columns = [r[2] for r in conn.execute(f"PRAGMA index_info('{index[1]}')")]
        if index[2] and columns == ["id"]:
            # Ids were unique across devices: now per device, so one cannot take another's.
            conn.execute("BEGIN IMMEDIATE")  # all or nothing, even across a crash
            conn.execute("ALTER TABLE messages RENAME TO messages_old")
            conn.execute(_MESSAGES)
            conn.execute("INSERT INTO messages SELECT * FROM messages_old")
            conn.execute("DROP TABLE messages_old")
            conn.execute("COMMIT")
            break


def finite_json(value, **dumps_kwargs) -> str:
    """``json.dumps`` for what goes to a browser: never ``NaN`` or ``Infinity`` (its
    ``JSON.parse`` refuses them). Nothing non-finite passes the door any more, but a file
    written by an older dashboard may hold some: they are sent as null."""
    try:
        return json.dumps(value, allow_nan=False, **dumps_kwargs)
    except ValueError:
        return json.dumps(_finite(value), allow_nan=False, **dumps_kwargs)


def _finite(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _json_or_none(value):
    return None if value is None else json.dumps(value)


def _side_key(side: str | None) -> str:
    """A message's side as kept in the sets and reps tables ("" for an unnamed sensor)."""
    return "" if side is None else side


def _side_of(key: str) -> str | None:
    return key or None


def _of_side(key: str) -> str:
    return f" of the {key} shoe" if key else ""


def _session_side(sides: dict) -> str | None:
    """A session's side from its reps before its message came: both, one, or unnamed."""
    return "both" if len(sides) == 2 else next(iter(sides), None)


def _rep_row(device, session, side, time, rep: dict) -> tuple:
    return (
        device,
        session,
        side,
        rep["set"],
        rep["index"],
        time,
        *[_rep_value(name, rep.get(name)) for name in REP_FIELDS],
    )


def _set_row(device, session, side, time, s: dict) -> tuple:
    values = [json.dumps(s.get(n) or {}) if n == "fault_counts" else s.get(n) for n in SET_FIELDS]
    return (device, session, side, s["index"], *values, time)


def _rep_value(name, value):
    if name in _REP_JSON:
        return None if value is None else json.dumps(value)
    return value


def _rep_dict(r) -> dict:
    d = {"set": r["set_index"], "index": r["rep_index"], "side": _side_of(r["side"])}
    d["time"] = r["time"]
    for name in REP_FIELDS:
        v = r[name]
        d[name] = json.loads(v) if name in _REP_JSON and v is not None else v
    if d["faults"] is None:
        d["faults"] = []
    d["final"] = bool(r["final"])
    return d


def _message_row(msg, received_at: str) -> tuple:
    """The ``messages`` table row of one event message (the raw JSON as it arrived)."""
    body = msg.body
    raw = getattr(msg, "raw", None) or json.dumps(body, separators=(",", ":"))
    return (body["id"], msg.type, msg.device, body["session"], body["time"], received_at, raw)
