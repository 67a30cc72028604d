"""The MQTT outbox: every message is on disk before the client sees it, until the broker acks.

SQLite in WAL mode, one table, rows in the order they were put. The publisher
writes a row from the sensor loop (:meth:`Outbox.put`, a short local
transaction), hands rows to paho in ``seq`` order from its sender thread, and
deletes a row only when the broker has acknowledged it (paho's ``on_publish``:
PUBACK for QoS 1). A process killed with SIGKILL leaves its unacknowledged rows
in the file; the next start replays them, oldest first. Delivery is therefore
*at least once*: receivers dedupe on the envelope ``id``.

``synchronous=NORMAL``: a committed row survives the process dying at any
instant; on a power cut the last few hundred milliseconds of rows may be lost
(``FULL`` would fsync on every rep; the SD card of a Pi is better spared).

Bounded (``max_messages``): at the cap the oldest *droppable* rows (kinds
``state`` and ``cmd_result``: a newer state supersedes them) go first, with a
warning; when only events are left, :meth:`put` refuses the new event with
:class:`~heelraise.exceptions.OutboxError` (the publisher logs it as an error).

>>> import tempfile, pathlib
>>> folder = tempfile.TemporaryDirectory()                      # /var/lib/heelraise on the Pi
>>> box = Outbox(pathlib.Path(folder.name) / "outbox.sqlite", max_messages=20000)
>>> seq = box.put("rep", "heelraise/shoe-1/event/rep", b'{...}', qos=1, retain=False)
>>> [row.seq for row in box.pending()]
[1]
>>> box.ack(seq)                                             # rows removed
1
>>> [row.seq for row in box.pending()]
[]
>>> box.close(); folder.cleanup()
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from dataclasses import dataclass

from heelraise.exceptions import OutboxError

log = logging.getLogger("heelraise.mqtt.outbox")

#: kinds that may be dropped (oldest first) when the outbox is full
DROPPABLE = ("state", "cmd_result", "health")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL,
    retain INTEGER NOT NULL,
    created_s REAL NOT NULL
)
"""


@dataclass(frozen=True)
class Row:
    seq: int
    kind: str
    topic: str
    payload: bytes
    qos: int
    retain: bool


@dataclass
class OutboxStats:
    put: int = 0
    acked: int = 0
    dropped: int = 0  # droppable rows evicted at the cap
    refused: int = 0  # events refused at the cap
    coalesced: int = 0  # unsent state rows replaced by a newer state


class Outbox:
    """A bounded, crash-safe FIFO of MQTT messages (thread-safe; one connection, one lock)."""

    def __init__(self, path: str, max_messages: int = 20000):
        if max_messages < 1:
            raise ValueError(f"max_messages must be at least 1, not {max_messages!r}")
        self.path = str(path)
        self.max_messages = int(max_messages)
        self.stats = OutboxStats()
        self._lock = threading.Lock()
        if self.path != ":memory:":
            parent = os.path.dirname(os.path.abspath(self.path))
            try:
                os.makedirs(parent, exist_ok=True)
            except OSError as e:
                raise OutboxError(f"outbox folder {parent!r} cannot be made: {e}") from None
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
            self._count = self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
        except sqlite3.DatabaseError as e:
            raise OutboxError(f"outbox {self.path!r} cannot be opened: {e}") from None
        if self._count:
            log.info("outbox %s holds %d message(s) from before; replaying", self.path, self._count)

    def __len__(self) -> int:
        with self._lock:
            return self._count

    def put(
        self,
        kind: str,
        topic: str,
        payload: bytes,
        qos: int,
        retain: bool,
        *,
        replace_unsent_after: int | None = None,
    ) -> int:
        """Store one message; returns its ``seq``. Raises OutboxError when full of events.

        ``replace_unsent_after``: for ``state``, delete rows of the same kind and topic
        (each shoe has its own state topic) with ``seq`` greater than this (not yet
        handed to the client), since only the newest state matters.
        """
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                if replace_unsent_after is not None:
                    n = self._db.execute(
                        "DELETE FROM outbox WHERE kind = ? AND topic = ? AND seq > ?",
                        (kind, topic, replace_unsent_after),
                    ).rowcount
                    self._count -= n
                    self.stats.coalesced += n
                if self._count >= self.max_messages:
                    self._make_room(kind)
                row = (
                    kind,
                    topic,
                    sqlite3.Binary(payload),
                    int(qos),
                    int(bool(retain)),
                    time.time(),
                )
                cur = self._db.execute(
                    "INSERT INTO outbox (kind, topic, payload, qos, retain, created_s)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    row,
                )
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                self._count = self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
                raise
            self._count += 1
            self.stats.put += 1
            return cur.lastrowid

    def _make_room(self, kind: str) -> None:
        placeholders = ",".join("?" * len(DROPPABLE))
        row = self._db.execute(
            f"SELECT seq, kind FROM outbox WHERE kind IN ({placeholders}) ORDER BY seq LIMIT 1",
            DROPPABLE,
        ).fetchone()
        if row is not None:
            self._db.execute("DELETE FROM outbox WHERE seq = ?", (row[0],))
            self._count -= 1
            self.stats.dropped += 1
            log.warning(
                "outbox full (%d messages): dropped the oldest %s message to make room",
                self.max_messages,
                row[1],
            )
            return
        if kind in DROPPABLE:
            self.stats.dropped += 1
            raise OutboxError(
                f"outbox full ({self.max_messages} events waiting for the broker): "
                f"this {kind} message is dropped"
            )
        self.stats.refused += 1
        raise OutboxError(
            f"outbox full ({self.max_messages} events waiting for the broker): "
            f"new {kind} event refused; raise outbox_max_messages or bring the broker back"
        )

    def pending(self, after_seq: int = 0, limit: int = 100) -> list[Row]:
        """Rows with ``seq > after_seq``, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, kind, topic, payload, qos, retain FROM outbox"
                " WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit),
            ).fetchall()
        return [Row(r[0], r[1], r[2], bytes(r[3]), r[4], bool(r[5])) for r in rows]

    def ack(self, *seqs: int) -> int:
        """Delete acknowledged rows; returns how many were there."""
        if not seqs:
            return 0
        with self._lock:
            n = self._db.executemany("DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs])
            n = n.rowcount
            self._count -= n
            self.stats.acked += n
            return n

    def close(self) -> None:
        with self._lock:
            try:
                self._db.close()
            except sqlite3.Error:  # pragma: no cover - closing twice or a broken file
                pass
