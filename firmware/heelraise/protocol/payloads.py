"""JSON payloads: the envelope every message carries, and one body per message type.

Pure functions, no network: ``dict`` in, ``dict`` out, then :func:`encode` to
bytes. The envelope (see the shared contract)::

    {"schema": 1, "id": "<uuid4 hex>", "type": "rep", "device": "shoe-1",
     "session": "20261124T031500Z", "time": "2026-11-24T03:15:00.123Z",
     "sensor_t_s": 12.34, "rep": {...Rep.to_dict()...}}

``time`` is the UTC wall clock when the message was made; ``sensor_t_s`` the
sensor time base the message refers to (the instant the event was decided),
``null`` only for messages made before the first sample (a command refused at
boot). ``id`` is unique per message: receivers dedupe redeliveries on it. A ``set`` or
``session`` message's id is derived from the device, session (and set index): closed a
second time (from the journal after an unclean stop) it is the same message.

>>> from heelraise.mqtt.testing import fake_set
>>> env = Envelope(device="shoe-1", session="s1", wall_clock=lambda: 0.0)
>>> body = rep_payload(env, fake_set(set_index=1, reps=2)[0])
>>> body["type"], body["device"], body["time"], body["rep"]["index"]
('rep', 'shoe-1', '1970-01-01T00:00:00.000Z', 1)
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from heelraise.events import RepEvent, SessionEvent, SetEvent
from heelraise.protocol.utctime import iso_utc

try:  # CPython's own SHA-1, as uuid.uuid5 uses: hashlib would load OpenSSL's libcrypto (3.6 MB)
    from _sha1 import sha1
except ImportError:  # pragma: no cover - another Python
    from hashlib import sha1

#: The envelope version: what every message's ``schema`` says, and all a receiver reads.
SCHEMA_VERSION = 1


def new_id() -> str:
    return uuid.uuid4().hex


#: The namespace of :func:`derived_id` (fixed: the same parts give the same id on every shoe).
_DERIVED_IDS = uuid.UUID("5b0d4c1e-7f3a-4e2b-9c61-2f8e0a4d6b17")


def derived_id(*parts: str) -> str:
    """An id made from ``parts`` (uuid5 hex, the envelope's format), the same every time:
    a message that may be made twice (the journal's interrupted set and session, made again
    if the service dies during its recovery) keeps one id, so receivers store it once."""
    name = "/".join(str(p) for p in parts)
    # uuid.uuid5, spelled out with the SHA-1 above (the same bytes: tests check it)
    digest = sha1(_DERIVED_IDS.bytes + name.encode("utf-8")).digest()
    return uuid.UUID(bytes=digest[:16], version=5).hex


def set_message_id(device: str, session: str, set_index: int, side: str | None = None) -> str:
    """A set is closed once per session and side: its message id says which set (and which
    shoe's; a single unnamed sensor's ids stay as they were), whoever closes it (the service,
    or its journal after an unclean stop), so it is never stored twice."""
    if side is None:
        return derived_id(device, session, "set", int(set_index))
    return derived_id(device, session, "set", int(set_index), side)


def session_message_id(device: str, session: str) -> str:
    """The id of a session's closing message (see :func:`set_message_id`)."""
    return derived_id(device, session, "session")


@dataclass
class Envelope:
    """Makes envelopes for one device and session, the one builder of them on both sides.

    ``wall_clock`` (Unix seconds, or an aware datetime) and ``ids`` (a new message id)
    are injectable: tests, and the made-up sessions of ``heelraise_host.devicesim``.
    """

    device: str
    session: str
    wall_clock: Callable[[], float | dt.datetime] = field(default=time.time)
    ids: Callable[[], str] = field(default=new_id)

    def make(self, type_: str, sensor_t_s: float | None) -> dict:
        return {
            "schema": SCHEMA_VERSION,
            "id": self.ids(),
            "type": type_,
            "device": self.device,
            "session": self.session,
            "time": iso_utc(self.wall_clock()),
            "sensor_t_s": None if sensor_t_s is None else round(float(sensor_t_s), 3),
        }


def rep_payload(env: Envelope, event: RepEvent) -> dict:
    """From a :class:`~heelraise.events.RepEvent`."""
    return env.make("rep", event.t_s) | event.body()


def set_payload(env: Envelope, event: SetEvent) -> dict:
    """From a :class:`~heelraise.events.SetEvent` (the set's final reps included)."""
    d = env.make("set", event.t_s) | event.body()
    d["id"] = set_message_id(env.device, env.session, event.summary.index, event.side)
    return d


def session_payload(env: Envelope, event: SessionEvent) -> dict:
    """From a :class:`~heelraise.events.SessionEvent` (``summary``, ``endurance``)."""
    d = env.make("session", event.t_s) | event.body()
    d["id"] = session_message_id(env.device, env.session)
    return d


def state_payload(env: Envelope, state: dict, sensor_t_s: float | None) -> dict:
    d = env.make("state", sensor_t_s)
    d["side"] = state.get("side")  # which shoe's chain this is; None for one unnamed sensor
    d["state"] = {
        "mode": state["mode"],
        "calibrated": bool(state["calibrated"]),
        "phase": str(state["phase"]),
        "set": int(state["set"]),
        "reps_in_set": int(state["reps_in_set"]),
        "rep_count": int(state["rep_count"]),
        "tempo": None if state.get("tempo") is None else str(state["tempo"]),
        "gaps": int(state.get("gaps", 0)),
        "gap_s": round(float(state.get("gap_s", 0.0)), 3),
    }
    return d


def health_payload(env: Envelope, health: dict, sensor_t_s: float | None) -> dict:
    """From :meth:`heelraise.service.health.SensorHealth.snapshot` (retained, on change)."""
    d = env.make("health", sensor_t_s)
    last = health.get("last_gap")
    d["health"] = {
        "healthy": bool(health["healthy"]),
        "reason": None if health.get("reason") is None else str(health["reason"])[:200],
        "gaps": int(health["gaps"]),
        "gap_s": round(float(health["gap_s"]), 3),
        "last_gap": None
        if last is None
        else {
            "kind": str(last["kind"]),
            "start_s": round(float(last["start_s"]), 3),
            "end_s": round(float(last["end_s"]), 3),
        },
    }
    return d


def live_payload(env: Envelope, t_s: list[float], pitch_deg: list[float], phase: str) -> dict:
    d = env.make("live", t_s[-1] if t_s else None)
    d["t_s"] = [round(float(t), 3) for t in t_s]
    d["pitch_deg"] = [round(float(p), 2) for p in pitch_deg]
    d["phase"] = str(phase)
    return d


def cmd_result_payload(
    env: Envelope,
    cmd_id: str,
    cmd: str | None,
    ok: bool,
    reason: str | None,
    sensor_t_s: float | None,
) -> dict:
    d = env.make("cmd_result", sensor_t_s)
    d.update(cmd_id=str(cmd_id)[:128] or "-", cmd=cmd, ok=bool(ok), reason=reason)
    return d


#: event type -> the function making its payload (a gap has none: it is in ``health``)
EVENT_PAYLOADS = {RepEvent: rep_payload, SetEvent: set_payload, SessionEvent: session_payload}


def encode(payload: dict) -> bytes:
    """Compact UTF-8 JSON. Non-finite numbers (NaN, inf) raise ValueError: JSON has none."""
    return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode("utf-8")
