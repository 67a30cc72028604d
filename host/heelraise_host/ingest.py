"""MQTT -> SQLite: subscribe to every device under a prefix and store what they report.

One job: take messages off the broker, check them (:mod:`heelraise_host.messages`),
store events exactly once (:class:`~heelraise_host.store.Store`) and tell
listeners (the dashboard's live stream) what happened.

Subscriptions (paho-mqtt 2.x, ``CallbackAPIVersion.VERSION2``)::

    <prefix>/+/event/+     QoS 1   rep, set, session  -> stored, idempotent by id
    <prefix>/+/state       QoS 0   retained snapshot  -> devices table + live view
    <prefix>/+/state/+     QoS 0   the same, per shoe of a pair (state/left, state/right)
    <prefix>/+/health      QoS 0   retained health    -> devices table + live view
    <prefix>/+/status      QoS 1   online / offline   -> devices table + live view
    <prefix>/+/live        QoS 0   pitch trace        -> live view only (never stored)

With ``group="dash"`` the event subscription becomes the MQTT 5 shared
subscription ``$share/dash/<prefix>/+/event/+``: the broker hands each event to
exactly one of the instances in the group. Point every instance of a group at the
same database file (SQLite WAL lets several processes write it); each instance's
live view reads new events back from that file, so every browser sees every rep
whichever instance stored it. ``state``, ``status`` and ``live`` stay ordinary
subscriptions (every instance gets them; storing them is an upsert).

``protocol`` (see :mod:`heelraise_host.mqttlink`): by default MQTT 5, falling
back once, with a log line, to MQTT 3.1.1 when the broker refuses version 5
(amqtt, which ``heelraise demo`` embeds) unless a ``group`` is set; ``"5"`` or
``"3.1.1"`` fix it. ``ingest.protocol`` says which one is in use.

Messages are stored by a writer thread in batches (one SQLite transaction per
batch, up to ``BATCH_MAX``), and each QoS 1 message is acknowledged to the broker
(paho ``manual_ack``) only after the commit that holds it, so a message is never
acknowledged before it is in the database. With a fixed ``client_id`` the
session is persistent (``clean_start=False``, a week's expiry): the broker
keeps QoS 1 events for this dashboard while it is down (``state`` and ``live``
are QoS 0, so they never fill that queue). :mod:`heelraise_host.mqttlink` warns
when the broker grants less.

Every message the dashboard cannot use is refused alone, with its reason (see
``messages.REJECT_KINDS``: not JSON, not finite, too deep, out of range, a bad time,
a conflict with a stored rep, a message the store cannot file, ...), counted in
``ingest.rejected[kind]`` and ``ingest.rejected_by_device[(kind, device)]``,
logged once per kind and device, acknowledged, and never stored; the messages
beside it in its batch are stored as usual. Only a failure of the store itself
(disk full) holds a batch back, unacknowledged, until it can be stored.

:meth:`Ingest.handle` is the whole per-message logic and needs no broker:

>>> from heelraise_host.devicesim import session_messages
>>> from heelraise_host.store import Store
>>> ingest = Ingest(Store(":memory:"), clock=lambda: 1795000000.0)
>>> ingest.topics
[('heelraise/+/event/+', 1), ('heelraise/+/state', 0), ('heelraise/+/state/+', 0), \
('heelraise/+/health', 0), ('heelraise/+/status', 1), ('heelraise/+/live', 0)]
>>> msgs = session_messages("shoe-1", "s-1", reps_per_set=[3, 2])
>>> [ingest.handle(m.topic, m.payload) for m in msgs[:3]]
['state', 'stored', 'state']
>>> ingest.handle(msgs[1].topic, msgs[1].payload)        # a QoS 1 redelivery
'duplicate'
>>> ingest.handle("heelraise/shoe-1/event/rep", b"[" * 9 + b"]" * 9)
'rejected'
>>> dict(ingest.rejected), dict(ingest.rejected_by_device)
({'too_deep': 1}, {('too_deep', 'shoe-1'): 1})
>>> ingest.store.counts()
{'messages': 1, 'devices': 1, 'sessions': 1, 'sets': 0, 'reps': 1}

Example (needs a broker)::

    ingest = Ingest(Store("heelraise.db"), broker="127.0.0.1:1883")
    ingest.start()          # returns once subscribed (raises IngestError if it cannot)
    ingest.stop()
"""

from __future__ import annotations

import collections
import logging
import queue
import threading
import time
from collections.abc import Callable

from heelraise.exceptions import HeelraiseError, MessageRejected, SettingsError
from heelraise.protocol.topics import EVENT_KINDS, subscription
from heelraise.protocol.utctime import iso_utc

from heelraise_host import messages
from heelraise_host.mqttlink import check_protocol
from heelraise_host.store import Conflict

log = logging.getLogger(__name__)

#: Most messages stored in one transaction.
BATCH_MAX = 500

#: Longest wait between attempts to store a batch while the store fails (disk full, ...).
STORE_RETRY_MAX_S = 30.0

#: With a fixed client id the broker keeps our session (and queued events) this long:
#: a week, for a dashboard away over a long weekend (the documented worst case is a day).
SESSION_EXPIRY_S = 7 * 24 * 3600


class IngestError(HeelraiseError):
    """The ingest could not connect or subscribe to the broker in time."""


def parse_hostport(text: str, default_port: int, what: str = "address") -> tuple[str, int]:
    """``"host:port"``, ``"host"`` or ``"[::1]:port"`` -> (host, port); SettingsError if bad."""
    text = str(text).strip()
    if not text:
        raise SettingsError(f"{what} is empty; expected HOST or HOST:PORT")
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, ""
    if not host:
        raise SettingsError(f"{what} {text!r} has no host")
    if not port_text:
        return host, default_port
    try:
        port = int(port_text)
    except ValueError:
        raise SettingsError(f"{what} {text!r}: port {port_text!r} is not a number") from None
    if not 0 <= port <= 65535:
        raise SettingsError(f"{what} {text!r}: port {port} is outside 0 to 65535")
    return host, port


class Ingest:
    """Subscriber that validates and stores every device's messages under ``prefix``.

    ``handle(topic, payload)`` is the whole per-message logic and works without a
    broker (tests, replays). Listeners added with :meth:`add_listener` are called
    from the MQTT thread as ``listener(kind, data)`` with kind ``"stored"``
    (data: the Message, already committed), ``"state"``, ``"status"`` or
    ``"live"`` (data: the Message), or ``"rejected"`` (data: the MessageRejected);
    they must return quickly.
    """

    def __init__(
        self,
        store,
        *,
        broker: str = "127.0.0.1:1883",
        prefix: str = "heelraise",
        group: str | None = None,
        protocol: str | None = None,
        client_id: str | None = None,
        username: str | None = None,
        password: str | None = None,
        tls_ca: str | None = None,
        max_payload_bytes: int = messages.MAX_PAYLOAD_BYTES,
        client_factory: Callable | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.store = store
        self.host, self.port = parse_hostport(broker, 8883 if tls_ca else 1883, "broker")
        prefix = str(prefix).strip("/")
        if not prefix or any(c in prefix for c in "+#"):
            raise SettingsError(f"prefix {prefix!r} must be non-empty, without '+' or '#'")
        if group is not None and (not group or any(c in group for c in "/+#")):
            raise SettingsError(f"group {group!r} must be a non-empty name without '/', '+', '#'")
        self.prefix = prefix
        self.group = group
        self.protocol_requested = check_protocol(protocol, group=group)
        self.client_id = client_id
        self.username, self.password, self.tls_ca = username, password, tls_ca
        self.max_payload_bytes = max_payload_bytes
        self._client_factory = client_factory
        self._clock = clock
        self._listeners: list[Callable] = []
        self._lock = threading.Lock()
        self.counters = collections.Counter()  # stored, duplicate, state, status, live
        self.rejected = collections.Counter()  # kind -> n
        self.rejected_by_device = collections.Counter()  # (kind, device) -> n
        self._link = None
        self._writer: threading.Thread | None = None
        self._inbox: queue.Queue = queue.Queue()
        self._stopping = False
        self._stop_writer = threading.Event()
        self.store_trouble: str | None = None  # the store's last failure, while it lasts
        self._subscribed = threading.Event()
        self._connect_error: str | None = None

    # ------------------------------------------------------------------ topics

    @property
    def topics(self) -> list[tuple[str, int]]:
        events = subscription(self.prefix, "event/+")
        if self.group:
            events = f"$share/{self.group}/{events}"
        return [
            (events, 1),
            # What the dashboard can lose is QoS 0: never queued for it by the broker
            # while it is away, so it cannot crowd the events out of the queue.
            (subscription(self.prefix, "state"), 0),
            (subscription(self.prefix, "state/+"), 0),
            (subscription(self.prefix, "health"), 0),
            (subscription(self.prefix, "status"), 1),
            (subscription(self.prefix, "live"), 0),
        ]

    def add_listener(self, listener: Callable) -> None:
        self._listeners.append(listener)

    # ------------------------------------------------------------------ per message

    def handle(self, topic: str, payload: bytes) -> str:
        """Check and store one message. Returns what happened: ``"stored"``,
        ``"duplicate"``, ``"state"``, ``"status"``, ``"live"`` or ``"rejected"``
        (counted by reason). Never raises for bad input; raises only when the store
        itself fails (``sqlite3.OperationalError``: disk full, locked too long)."""
        return self.handle_batch([(topic, payload)])[0]

    def handle_batch(self, items) -> list[str]:
        """:meth:`handle` for several ``(topic, payload)`` pairs; events are stored in
        one transaction (what makes thousands of events a second possible)."""
        now = iso_utc(self._clock())
        outcomes: list[str | None] = []
        parsed: list = []
        events: list[tuple[int, object]] = []
        for i, (topic, payload) in enumerate(items):
            try:
                msg = messages.parse(
                    topic, payload, prefix=self.prefix, max_payload_bytes=self.max_payload_bytes
                )
            except MessageRejected as e:
                self._reject(e)
                outcomes.append("rejected")
                parsed.append(e)
                continue
            parsed.append(msg)
            if msg.type in EVENT_KINDS:  # stored durably, once by message id
                events.append((i, msg))
                outcomes.append(None)  # decided below
            elif msg.type == "state":
                self.store.set_device(
                    msg.device,
                    state=msg.body["state"],
                    at=msg.body["time"],
                    last_seen=now,
                    side=msg.body.get("side"),
                )
                outcomes.append("state")
            elif msg.type == "health":  # like state: the newest kept with the device
                self.store.set_device(
                    msg.device, health=msg.body["health"], at=msg.body["time"], last_seen=now
                )
                outcomes.append("health")
            elif msg.type == "status":
                self.store.set_device(msg.device, status=msg.status, at=now)
                outcomes.append("status")
            else:
                outcomes.append("live")
        if events:
            results = self.store.add_events([m for _, m in events], received_at=now)
            for (i, msg), result in zip(events, results, strict=True):
                if isinstance(result, Exception):
                    # Refused one by one: the rest of the batch is stored all the same.
                    kind = "conflict" if isinstance(result, Conflict) else "store_error"
                    if kind == "store_error":
                        log.error("could not store %s %s: %r", msg.type, msg.id, result)
                    e = MessageRejected(kind, msg.topic, msg.device, str(result)[:300])
                    self._reject(e)
                    outcomes[i], parsed[i] = "rejected", e
                else:
                    outcomes[i] = "stored" if result else "duplicate"
        with self._lock:
            self.counters.update(outcomes)
        for outcome, msg in zip(outcomes, parsed, strict=True):
            if outcome in ("state", "health", "status", "live", "stored", "rejected"):
                self._notify(outcome, msg)
        return outcomes

    def _notify(self, outcome, msg) -> None:
        for listener in list(self._listeners):
            try:
                listener(outcome, msg)
            except Exception:  # a broken listener must not stop the ingest
                log.exception("ingest listener %r failed", listener)

    def _reject(self, e: MessageRejected) -> None:
        key = (e.kind, e.device)
        with self._lock:
            self.rejected[e.kind] += 1
            self.rejected_by_device[key] += 1
            first = self.rejected_by_device[key] == 1
        if first:
            log.warning(
                "refused %s from device %r (%s); further %s from it are counted, not logged",
                e.kind,
                e.device,
                e,
                e.kind,
            )

    def health(self) -> dict:
        with self._lock:
            return {
                "connected": self._subscribed.is_set(),
                "broker": f"{self.host}:{self.port}",
                "prefix": self.prefix,
                "group": self.group,
                "protocol": self.protocol,
                "client_id": self.client_id,
                "session": None if self._link is None else self._link.connack,
                "broker_trouble": None if self._link is None else self._link.trouble,
                "store_trouble": self.store_trouble,
                "counters": dict(self.counters),
                "refused": sum(self.rejected.values()),
                "rejected": dict(self.rejected),
                "rejected_by_device": [
                    {"kind": k, "device": d, "count": n}
                    for (k, d), n in sorted(
                        self.rejected_by_device.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
                    )
                ],
            }

    # ------------------------------------------------------------------ the connection

    def _make_link(self):
        from heelraise_host.mqttlink import MqttLink

        def on_connect(client):
            # Subscribe on every (re)connect: a clean session forgets subscriptions.
            client.subscribe(self.topics)

        def on_refused(reason):
            self._connect_error = reason

        def on_subscribe(client, reason_codes):
            bad = [
                f"{t}: {rc}"
                for (t, _), rc in zip(self.topics, reason_codes, strict=False)
                if rc.is_failure
            ]
            if bad:
                self._connect_error = "subscription refused: " + "; ".join(bad)
                log.warning("%s", self._connect_error)
                return
            log.info(
                "subscribed to %s (MQTT %s)", ", ".join(t for t, _ in self.topics), link.protocol
            )
            self._subscribed.set()

        def on_disconnect(client, reason_code):
            self._subscribed.clear()
            if reason_code != 0 and not self._stopping:
                log.warning("lost the broker (%s); reconnecting", reason_code)

        def on_message(client, msg):
            # Hand over to the writer thread; it acknowledges after the commit, on the
            # client that received the message.
            self._inbox.put((msg.topic, msg.payload, msg.mid, msg.qos, client))

        link = MqttLink(
            self.host,
            self.port,
            protocol=self.protocol_requested,
            # $share/... is MQTT 5: a group must never quietly lose it.
            fallback=self.group is None,
            client_id=self.client_id,
            session_expiry_s=SESSION_EXPIRY_S if self.client_id else None,
            username=self.username,
            password=self.password,
            tls_ca=self.tls_ca,
            manual_ack=True,  # acknowledged by _write_loop once stored
            client_factory=self._client_factory,
            name="heelraise-host",
            on_connect=on_connect,
            on_refused=on_refused,
            on_subscribe=on_subscribe,
            on_message=on_message,
            on_disconnect=on_disconnect,
        )
        return link

    @property
    def protocol(self) -> str:
        """The MQTT version in use ("5" or "3.1.1"; "5" until a fallback happened)."""
        link = self._link
        return link.protocol if link is not None else (self.protocol_requested or "5")

    def start(self, timeout_s: float = 10.0, *, wait: bool = True) -> None:
        """Connect in the background (paho retries on its own) and subscribe.

        With ``wait`` (the default) returns once the broker granted the
        subscriptions, or raises :class:`IngestError` after ``timeout_s``.
        """
        self._link = self._make_link()
        self._writer = threading.Thread(
            target=self._write_loop, name="heelraise-ingest-writer", daemon=True
        )
        self._writer.start()
        self._link.start()
        if wait and not self._wait_subscribed(timeout_s):
            reason = self._connect_error or "no answer"
            self.stop()
            raise IngestError(
                f"could not subscribe at broker {self.host}:{self.port} within {timeout_s:g} s"
                f" ({reason})"
            )

    def _wait_subscribed(self, timeout_s: float) -> bool:
        """Until subscribed, the deadline, or a mistake paho's retries cannot mend (a TLS
        mistake, a refused login: ERROR-level trouble); a broker not up yet is waited for."""
        deadline = time.monotonic() + timeout_s
        while not self._subscribed.wait(0.05):
            link = self._link
            if link is not None and link.trouble and link.trouble_level >= logging.ERROR:
                return False
            if time.monotonic() > deadline:
                return False
        return True

    def _write_loop(self) -> None:
        """Store what arrives in batches; acknowledge each QoS 1 message after its commit."""
        while True:
            item = self._inbox.get()
            batch, done = [], item is None
            while item is not None:
                batch.append(item)
                if len(batch) >= BATCH_MAX:
                    break
                try:
                    item = self._inbox.get_nowait()
                except queue.Empty:
                    break
                done = item is None
            if batch:
                self._store_batch(batch)
            if done:
                return

    def _store_batch(self, batch) -> None:
        """Store one batch and acknowledge each QoS 1 message once its outcome is final.

        Every outcome is final except the store's own failure (disk full, database
        locked too long): then the batch is tried again, the wait doubling up to
        ``STORE_RETRY_MAX_S``, and nothing of it is acknowledged meanwhile, so the
        broker keeps it. Refused messages are acknowledged: a redelivery cannot help.
        """
        wait_s = 0.1
        while True:
            try:
                self.handle_batch([(t, p) for t, p, _, _, _ in batch])
                break
            except Exception as e:
                with self._lock:
                    self.counters["store_retry"] += 1
                    self.store_trouble = f"{type(e).__name__}: {e}"
                log.error(
                    "could not store %d messages (%s: %s); trying again in %g s",
                    len(batch),
                    type(e).__name__,
                    e,
                    wait_s,
                )
                if self._stop_writer.wait(wait_s):
                    return  # unacknowledged: the broker delivers them again next time
                wait_s = min(2 * wait_s, STORE_RETRY_MAX_S)
        self.store_trouble = None
        for _, _, mid, qos, client in batch:
            if qos:
                client.ack(mid, qos)

    @property
    def connected(self) -> bool:
        return self._subscribed.is_set()

    def stop(self) -> None:
        """Disconnect, then store what was already received (it is acknowledged on the
        next connection's redelivery at the latest: duplicates are ignored)."""
        self._stopping = True
        link, self._link = self._link, None
        if link is not None:
            link.stop()
        writer, self._writer = self._writer, None
        if writer is not None:
            self._stop_writer.set()  # a writer retrying a failing store gives up at once
            self._inbox.put(None)
            writer.join(30)
            self._stop_writer.clear()
        self._subscribed.clear()
        self._stopping = False
