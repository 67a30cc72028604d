"""What is happening now, fanned out to every open browser as server-sent events.

One job: turn ingest news into an SSE stream per browser. Two paths:

* Events (rep, set, session) are read back from the store in ``seq`` order, so a
  stream is gap-free and resumable: every SSE message carries ``id: <seq>``, the
  browser's ``EventSource`` sends it back as ``Last-Event-ID`` on reconnect and
  the stream replays what was missed. The local ingest wakes the reader at once;
  a short poll (``poll_s``) also picks up events that another dashboard instance
  of a shared-subscription group wrote to the same file.
* ``state``, ``status``, ``live`` (pitch trace) and ``refused`` (a message the
  ingest would not store: kind, device, reason) go straight from the ingest
  thread to the streams; they are snapshots, so a browser that misses some
  loses nothing that the next one does not repair.

A browser that cannot keep up (``queue_size`` messages behind) is cut off; its
``EventSource`` reconnects and replays from the store.

Offline, on an in-memory store fed by :meth:`~heelraise_host.ingest.Ingest.handle`:

>>> import asyncio
>>> from heelraise_host.devicesim import session_messages
>>> from heelraise_host.ingest import Ingest
>>> from heelraise_host.store import Store
>>> store = Store(":memory:")
>>> ingest = Ingest(store)
>>> hub = LiveHub(store); hub.attach(ingest)
>>> for m in session_messages("shoe-1", "s-1", reps_per_set=[2])[:2]:   # a state, a rep
...     _ = ingest.handle(m.topic, m.payload)
>>> async def first_chunks(n, after=0):        # a browser that reads n chunks, then leaves
...     chunks = hub.stream(after=after)
...     out = [await anext(chunks) for _ in range(n)]
...     await chunks.aclose()
...     return out
>>> retry, rep = asyncio.run(first_chunks(2))
>>> retry
'retry: 1000\\n\\n'
>>> rep.splitlines()[:2]                      # replayed from the store, with its seq
['id: 1', 'event: rep']
>>> hub.client_count
0

Example (in the web app)::

    hub = LiveHub(store); hub.attach(ingest)
    # inside the web app's event loop:
    asyncio.create_task(hub.run())
    async for chunk in hub.stream(after=0): ...
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading

from heelraise_host.store import finite_json

log = logging.getLogger(__name__)

#: seconds of pitch trace kept per device for a freshly opened page
TRACE_KEEP_S = 10.0


class _Client:
    def __init__(self):
        self.queue: asyncio.Queue = asyncio.Queue()
        self.overflowed = False


class LiveHub:
    def __init__(
        self, store, *, poll_s: float = 0.5, queue_size: int = 2000, heartbeat_s: float = 15.0
    ):
        self.store = store
        self.poll_s = poll_s
        self.queue_size = queue_size
        self.heartbeat_s = heartbeat_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._clients: set[_Client] = set()
        self._cursor = 0
        self._closing = False
        self._trace_lock = threading.Lock()
        self._trace: dict[str, collections.deque] = {}

    # ------------------------------------------------------------------ ingest side (MQTT thread)

    def attach(self, ingest) -> None:
        ingest.add_listener(self.on_ingest)

    def on_ingest(self, outcome: str, msg) -> None:
        """Ingest listener: called from the MQTT thread after each accepted message."""
        if outcome == "stored":
            self._call(self._wake_set)
            return
        if outcome == "live":
            body = msg.body
            with self._trace_lock:
                trace = self._trace.setdefault(msg.device, collections.deque(maxlen=2000))
                for t, p in zip(body["t_s"], body["pitch_deg"], strict=False):
                    trace.append((t, p))
                while trace and trace[-1][0] - trace[0][0] > TRACE_KEEP_S:
                    trace.popleft()
            event = {
                "device": msg.device,
                "t_s": body["t_s"],
                "pitch_deg": body["pitch_deg"],
                "phase": body["phase"],
            }
        elif outcome == "state":
            event = {
                "device": msg.device,
                "session": msg.session,
                "time": msg.body["time"],
                "state": msg.body["state"],
                "side": msg.body.get("side"),  # which shoe of a pair; None: one sensor
            }
        elif outcome == "health":
            event = {"device": msg.device, "health": msg.body["health"]}
        elif outcome == "status":
            event = {"device": msg.device, "status": msg.status}
        elif outcome == "rejected":  # msg is the MessageRejected
            outcome = "refused"
            event = {"kind": msg.kind, "device": msg.device, "reason": str(msg)[:300]}
        else:
            return
        self._call(self._broadcast, outcome, None, event)

    def trace(self, device: str) -> dict:
        with self._trace_lock:
            points = list(self._trace.get(device, ()))
        return {"t_s": [p[0] for p in points], "pitch_deg": [p[1] for p in points]}

    def _call(self, fn, *args) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:
            pass  # the loop is shutting down

    def _wake_set(self):
        if self._wake is not None:
            self._wake.set()

    # ------------------------------------------------------------------ web side (event loop)

    async def run(self) -> None:
        """Follow the store and broadcast new events; run as a task in the web app's loop."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._cursor = await asyncio.to_thread(self.store.last_seq)
        while not self._closing:
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_s)
            except TimeoutError:
                pass
            self._wake.clear()
            while True:
                rows = await asyncio.to_thread(self.store.messages_after, self._cursor)
                for row in rows:
                    self._cursor = row["seq"]
                    self._broadcast(row["type"], row["seq"], _event_data(row))
                if len(rows) < 500:
                    break

    def close(self) -> None:
        """End every stream (call from the event loop, e.g. at app shutdown)."""
        self._closing = True
        for c in list(self._clients):
            c.queue.put_nowait(None)
        if self._wake is not None:
            self._wake.set()

    def _broadcast(self, kind: str, seq: int | None, data: dict) -> None:
        for c in list(self._clients):
            if c.overflowed:
                continue
            if c.queue.qsize() >= self.queue_size:
                c.overflowed = True
                c.queue.put_nowait(None)
                continue
            c.queue.put_nowait((kind, seq, data))

    @property
    def client_count(self) -> int:
        return len(self._clients)

    async def stream(self, after: int | None = None):
        """SSE text chunks for one browser: events after ``after`` (a seq), then live."""
        client = _Client()
        self._clients.add(client)
        try:
            yield "retry: 1000\n\n"
            last = 0
            if after is not None:
                # Replay from the store; anything broadcast meanwhile is queued and
                # skipped below by seq, so nothing is sent twice or lost.
                while True:
                    rows = await asyncio.to_thread(self.store.messages_after, after)
                    for row in rows:
                        yield _sse(row["type"], row["seq"], _event_data(row))
                        after = last = row["seq"]
                    if len(rows) < 500:
                        break
            while True:
                try:
                    item = await asyncio.wait_for(client.queue.get(), self.heartbeat_s)
                except TimeoutError:
                    yield ": ping\n\n"
                    continue
                if item is None:
                    return
                kind, seq, data = item
                if seq is not None:
                    if seq <= last:
                        continue
                    last = seq
                yield _sse(kind, seq, data)
        finally:
            self._clients.discard(client)


def _event_data(row: dict) -> dict:
    body = row["body"]
    data = {"device": row["device"], "session": row["session"], "time": body["time"]}
    data["side"] = body.get("side")
    if row["type"] == "rep":
        data["rep"] = body["rep"]
    elif row["type"] == "set":
        data["set"] = body["set"]
    else:
        data["summary"] = body["summary"]
        data["endurance"] = body.get("endurance")
        data["sides"] = body.get("sides") or {}
        data["symmetry"] = body.get("symmetry")
    return data


def _sse(kind: str, seq: int | None, data: dict) -> str:
    head = f"id: {seq}\n" if seq is not None else ""
    return f"{head}event: {kind}\ndata: {finite_json(data, separators=(',', ':'))}\n\n"
