"""The session journal: what a kill -9 or a power cut would otherwise leave open forever.

Three small tables in the outbox's own SQLite file (one file on the shoe holds
everything not yet delivered): the running session's id, every rep counted in
it (the dict the set event would carry) and the sets already closed. The
service writes a rep as it is emitted (before the MQTT publisher stores it, so
a rep that was sent is always in the journal), replaces a set's reps with their
final values when the set closes, and empties the journal once the session
event is in the outbox.

At the next start, before the new session begins, :func:`close_interrupted`
finds what was left: it puts a ``set`` event for the set that was open (its
reps as counted) and a ``session`` event for the old session (every set and
rep it had) into the outbox, both with ``"interrupted": true`` and the old
session id, then empties the journal. A set's and a session's message ids are
derived from the device and session ids (and the set index), whoever closes
them: a second crash during this recovery, or a kill between the set / session
event entering the outbox and the journal noting it, sends the same ids again,
and receivers (which dedupe on ``(device, id)``) store each once.

>>> journal = Journal(":memory:")
>>> journal.begin("20261124T031500Z-1a2b3c", "shoe-1")
>>> journal.add_rep(Rep(1, 1, 3.0, 5.0, 6.0, 8.0, 24.0, 0.0, 52.0), t_s=8.1)
>>> left = journal.left_over()                     # what a kill -9 now would leave
>>> left.session_id, left.open_set.index, left.summary.rep_count
('20261124T031500Z-1a2b3c', 1, 1)
>>> [(m["type"], m["interrupted"]) for m in interrupted_messages(left)]
[('set', True), ('session', True)]
>>> journal.clear()                                 # the session event is in the outbox
>>> journal.left_over() is None
True
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass

from heelraise.events import Rep, RepEvent, SessionEvent, SessionSummary, SetEvent, SetSummary
from heelraise.exceptions import OutboxError
from heelraise.protocol import payloads, validation
from heelraise.protocol.topics import Topics
from heelraise.service.sinks import EventSink
from heelraise.settings import AnalyzerSettings
from heelraise.symmetry import side_totals

log = logging.getLogger("heelraise.service.journal")

#: How an interrupted set is said to have ended (the schema's closest reason: the sensor
#: stream ended; the top-level ``interrupted`` flag says it was not a clean stop).
INTERRUPTED_ENDED_BY = "end_of_stream"

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS journal_session (
        one INTEGER PRIMARY KEY CHECK (one = 1),
        session TEXT NOT NULL,
        device TEXT NOT NULL,
        sensor_t_s REAL
    )""",
    # side: "left" / "right", '' for one unnamed sensor (two shoes count their sets apart)
    """CREATE TABLE IF NOT EXISTS journal_side_rep (
        side TEXT NOT NULL,
        set_index INTEGER NOT NULL,
        rep_index INTEGER NOT NULL,
        rep TEXT NOT NULL,
        PRIMARY KEY (side, set_index, rep_index)
    )""",
    """CREATE TABLE IF NOT EXISTS journal_side_set (
        side TEXT NOT NULL,
        set_index INTEGER NOT NULL,
        start_s REAL NOT NULL,
        end_s REAL NOT NULL,
        ended_by TEXT NOT NULL,
        PRIMARY KEY (side, set_index)
    )""",
)
#: The tables of a journal written before two shoes (one sensor, no side): what they hold
#: moves into the tables above when the journal is opened, then they are dropped.
_OLD_TABLES = {
    "journal_rep": "INSERT OR REPLACE INTO journal_side_rep"
    " SELECT '', set_index, rep_index, rep FROM journal_rep",
    "journal_set": "INSERT OR REPLACE INTO journal_side_set"
    " SELECT '', set_index, start_s, end_s, ended_by FROM journal_set",
}

_REP_FIELDS = tuple(f.name for f in dataclasses.fields(Rep))


@dataclass
class LeftOver:
    """What an unclean stop left in the journal."""

    session_id: str
    device_id: str
    sensor_t_s: float | None
    closed: list[tuple[str | None, SetSummary]]  # (side, set) of each set closed
    open: list[tuple[str | None, SetSummary]]  # (side, set) still counting reps: one a shoe

    @property
    def closed_sets(self) -> list[SetSummary]:
        return [s for _, s in self.closed]

    @property
    def open_set(self) -> SetSummary | None:
        """The set that was counting reps (the first shoe's, with two), if any."""
        return self.open[0][1] if self.open else None

    @property
    def summary(self) -> SessionSummary:
        return SessionSummary(sets=[s for _, s in self.closed + self.open])

    def sides(self, body_mass_kg: float) -> dict:
        """side -> SideTotals of each named shoe's reps (none for one unnamed sensor)."""
        heights: dict = {}
        for side, s in self.closed + self.open:
            if side is not None:
                heights.setdefault(side, []).extend(r.heel_rise_mm for r in s.reps)
        return {side: side_totals(h, body_mass_kg) for side, h in heights.items()}


def rep_from_dict(d: dict) -> Rep:
    """A :class:`Rep` again from its ``to_dict()`` (the derived durations are dropped)."""
    return Rep(**{k: d[k] for k in _REP_FIELDS if k in d})


class Journal:
    """The running session, rep by rep, on disk (thread-safe; one connection, one lock)."""

    def __init__(self, path: str):
        self.path = str(path)
        self._lock = threading.Lock()
        try:
            # the outbox's file (WAL): wait for its writer rather than fail on a busy moment
            self._db = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None, timeout=5.0
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            for statement in _SCHEMA:
                self._db.execute(statement)
            self._migrate()
        except sqlite3.DatabaseError as e:
            raise OutboxError(f"session journal in {self.path!r} cannot be opened: {e}") from None

    def _migrate(self) -> None:
        """A journal from before two shoes: its rows move to the tables with a side."""
        names = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master")}
        for table, copy in _OLD_TABLES.items():
            if table in names:
                self._write((copy, ()), (f"DROP TABLE {table}", ()))

    def _write(self, *statements: tuple[str, tuple]) -> None:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                for sql, args in statements:
                    self._db.execute(sql, args)
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def begin(self, session_id: str, device_id: str) -> None:
        """A new session (whatever was left must have been closed first)."""
        self._write(
            ("DELETE FROM journal_side_rep", ()),
            ("DELETE FROM journal_side_set", ()),
            ("DELETE FROM journal_session", ()),
            (
                "INSERT INTO journal_session (one, session, device, sensor_t_s)"
                " VALUES (1, ?, ?, NULL)",
                (str(session_id), str(device_id)),
            ),
        )

    def add_rep(self, rep: Rep, t_s: float, side: str | None = None) -> None:
        """A rep as emitted (``bottom_hold_s`` still unknown) on the ``side`` shoe."""
        self._write(
            (
                "INSERT OR REPLACE INTO journal_side_rep (side, set_index, rep_index, rep)"
                " VALUES (?, ?, ?, ?)",
                (side or "", int(rep.set), int(rep.index), json.dumps(rep.to_dict())),
            ),
            ("UPDATE journal_session SET sensor_t_s = ?", (float(t_s),)),
        )

    def close_set(self, summary: SetSummary, t_s: float, side: str | None = None) -> None:
        """The ``side`` shoe's set closed normally: its final reps replace the ones counted."""
        key = (side or "", int(summary.index))
        statements = [("DELETE FROM journal_side_rep WHERE side = ? AND set_index = ?", key)]
        statements += [
            (
                "INSERT INTO journal_side_rep (side, set_index, rep_index, rep)"
                " VALUES (?, ?, ?, ?)",
                (*key, int(r.index), json.dumps(r.to_dict())),
            )
            for r in summary.reps
        ]
        statements += [
            (
                "INSERT OR REPLACE INTO journal_side_set (side, set_index, start_s, end_s,"
                " ended_by) VALUES (?, ?, ?, ?, ?)",
                (
                    key[0],
                    int(summary.index),
                    float(summary.start_s),
                    float(summary.end_s),
                    str(summary.ended_by),
                ),
            ),
            ("UPDATE journal_session SET sensor_t_s = ?", (float(t_s),)),
        ]
        self._write(*statements)

    def clear(self) -> None:
        """The session closed (normally, or from here after an unclean stop)."""
        self._write(
            ("DELETE FROM journal_side_rep", ()),
            ("DELETE FROM journal_side_set", ()),
            ("DELETE FROM journal_session", ()),
        )

    def left_over(self) -> LeftOver | None:
        """The session an unclean stop left open, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT session, device, sensor_t_s FROM journal_session"
            ).fetchone()
            if row is None:
                return None
            reps = self._db.execute(
                "SELECT side, set_index, rep FROM journal_side_rep"
                " ORDER BY side, set_index, rep_index"
            ).fetchall()
            closed_rows = self._db.execute(
                "SELECT side, set_index, start_s, end_s, ended_by FROM journal_side_set"
                " ORDER BY side, set_index"
            ).fetchall()
        by_set: dict[tuple[str, int], list[Rep]] = {}
        for side, set_index, text in reps:
            by_set.setdefault((side, set_index), []).append(rep_from_dict(json.loads(text)))
        closed = [
            (
                side or None,
                SetSummary(
                    index=i, start_s=s, end_s=e, reps=by_set.pop((side, i), []), ended_by=why
                ),
            )
            for side, i, s, e, why in closed_rows
        ]
        opened = []
        for side in sorted({side for side, _ in by_set}):
            # reps of a set that never closed (at most one a shoe: its sets close in turn)
            keys = sorted(k for k in by_set if k[0] == side)
            open_reps = [r for k in keys for r in by_set[k]]
            summary = SetSummary(
                index=keys[-1][1],
                start_s=open_reps[0].start_s,
                end_s=open_reps[-1].end_s,
                reps=open_reps,
                ended_by=INTERRUPTED_ENDED_BY,
            )
            opened.append((side or None, summary))
        return LeftOver(row[0], row[1], row[2], closed, opened)

    def close(self) -> None:
        with self._lock:
            try:
                self._db.close()
            except sqlite3.Error:  # pragma: no cover - closing twice
                pass


def interrupted_messages(
    left: LeftOver, wall_clock=time.time, body_mass_kg: float = AnalyzerSettings.body_mass_kg
) -> list[dict]:
    """The ``set`` (one for each shoe's open set) and ``session`` payloads closing ``left``."""
    env = payloads.Envelope(left.device_id, left.session_id, wall_clock=wall_clock)
    t_s = left.sensor_t_s if left.sensor_t_s is not None else 0.0
    messages = []
    for side, open_set in left.open:
        d = payloads.set_payload(env, SetEvent(open_set, t_s=t_s, side=side))
        d["interrupted"] = True
        messages.append(d)
    sides = left.sides(body_mass_kg)
    one = sides and len(sides) == 1
    event = SessionEvent(
        left.summary, t_s=t_s, side=next(iter(sides)) if one else None, sides=sides
    )
    d = payloads.session_payload(env, event)
    d["interrupted"] = True
    messages.append(d)
    if left.sensor_t_s is None:  # nothing was counted: no sensor time to refer to
        for m in messages:
            m["sensor_t_s"] = None
    return messages


def close_interrupted(
    journal: Journal,
    outbox,
    prefix: str,
    qos: int,
    wall_clock=time.time,
    body_mass_kg: float = AnalyzerSettings.body_mass_kg,
):
    """Put the interrupted set and session into ``outbox`` and empty the journal.

    Returns the :class:`LeftOver` closed, or None when the last stop was clean.
    """
    left = journal.left_over()
    if left is None:
        return None
    topics = Topics(prefix, left.device_id)
    for message in interrupted_messages(left, wall_clock, body_mass_kg):
        kind = message["type"]
        try:
            validation.validate(kind, message)
        except Exception as e:  # sent anyway (nothing is lost); the receiver names it too
            log.error("interrupted %s message breaks its schema: %s", kind, e)
        outbox.put(kind, topics.event(kind), payloads.encode(message), qos, retain=False)
    journal.clear()
    log.warning(
        "the last run did not stop cleanly: session %s closed from the journal as interrupted "
        "(%d reps in %d sets%s)",
        left.session_id,
        left.summary.rep_count,
        len(left.summary.sets),
        "".join(
            f", {'' if side is None else side + ' '}set {o.index} was open" for side, o in left.open
        ),
    )
    return left


class JournalSink(EventSink):
    """Keeps the journal in step with the service's events (an EventSink).

    Two are used: ``role="reps"`` placed before the MQTT publisher (a rep is on disk
    here before it can be sent) and ``role="closes"`` after it (a set or session is
    forgotten here only once its event is in the outbox).
    """

    def __init__(self, journal: Journal, session_id: str, device_id: str, role: str):
        if role not in ("reps", "closes"):
            raise ValueError(f"role must be 'reps' or 'closes', not {role!r}")
        self.journal = journal
        self.session_id = session_id
        self.device_id = device_id
        self.role = role
        self._begun = False

    def on_state(self, state: dict) -> None:
        # the first state comes once the sensor is open: the session exists from then on
        if self.role == "reps" and not self._begun:
            self._begun = True
            self.journal.begin(self.session_id, self.device_id)

    def on_event(self, event) -> None:
        if self.role == "reps" and isinstance(event, RepEvent):
            self.journal.add_rep(event.rep, event.t_s, event.side)
        elif self.role == "closes" and isinstance(event, SetEvent):
            self.journal.close_set(event.summary, event.t_s, event.side)
        elif self.role == "closes" and isinstance(event, SessionEvent):
            self.journal.clear()

    def close(self) -> None:
        if self.role == "closes":
            self.journal.close()
