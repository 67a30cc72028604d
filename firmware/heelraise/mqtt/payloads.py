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

import datetime as _dt
import json
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

SCHEMA_VERSION = 1


def iso_utc(wall_s: float) -> str:
    """``2026-11-24T03:15:00.123Z`` for a Unix time (milliseconds truncated, never rounded up)."""
    ms_total = math.floor(wall_s * 1000)
    t = _dt.datetime.fromtimestamp(ms_total // 1000, _dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms_total % 1000:03d}Z"


def new_id() -> str:
    return uuid.uuid4().hex


#: The namespace of :func:`derived_id` (fixed: the same parts give the same id on every shoe).
_DERIVED_IDS = uuid.UUID("5b0d4c1e-7f3a-4e2b-9c61-2f8e0a4d6b17")


def derived_id(*parts: str) -> str:
    """An id made from ``parts`` (uuid5 hex, the envelope's format), the same every time:
    a message that may be made twice (the journal's interrupted set and session, made again
    if the service dies during its recovery) keeps one id, so receivers store it once."""
    return uuid.uuid5(_DERIVED_IDS, "/".join(str(p) for p in parts)).hex


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
    """Makes envelopes for one device and session; ``wall_clock`` is injectable for tests."""

    device: str
    session: str
    wall_clock: Callable[[], float] = field(default=time.time)

    def make(self, type_: str, sensor_t_s: float | None) -> dict:
        return {
            "schema": SCHEMA_VERSION,
            "id": new_id(),
            "type": type_,
            "device": self.device,
            "session": self.session,
            "time": iso_utc(self.wall_clock()),
            "sensor_t_s": None if sensor_t_s is None else round(float(sensor_t_s), 3),
        }


def rep_payload(env: Envelope, event) -> dict:
    """From a :class:`~heelraise.events.RepEvent` (its ``side``: which shoe, or None)."""
    d = env.make("rep", event.t_s)
    d["side"] = getattr(event, "side", None)
    d["rep"] = event.rep.to_dict()
    return d


def set_payload(env: Envelope, event) -> dict:
    """From a :class:`~heelraise.events.SetEvent` (the set's final reps included)."""
    d = env.make("set", event.t_s)
    side = getattr(event, "side", None)
    d["id"] = set_message_id(env.device, env.session, event.summary.index, side)
    d["side"] = side
    d["set"] = event.summary.to_dict(with_reps=True)
    return d


def session_payload(env: Envelope, event) -> dict:
    """From a :class:`~heelraise.service.sinks.SessionEvent` (``summary``, ``endurance``;
    ``side``, ``sides``: side -> :class:`~heelraise.symmetry.SideTotals` of each shoe
    measured, ``involved``). ``side`` is "both" when two shoes were measured; ``symmetry``
    is :func:`heelraise.symmetry.symmetry` of ``sides`` (with one side, it says so)."""
    from heelraise.symmetry import SIDES, symmetry

    d = env.make("session", event.t_s)
    d["id"] = session_message_id(env.device, env.session)
    sides = dict(getattr(event, "sides", None) or {})
    if len(sides) == 2:
        d["side"] = "both"
    else:
        d["side"] = next(iter(sides), getattr(event, "side", None))
    d["sides"] = {s: sides[s].to_dict() for s in SIDES if s in sides}
    d["symmetry"] = symmetry(sides, involved=getattr(event, "involved", None))
    d["summary"] = event.summary.to_dict()
    d["summary"].update(
        gaps=int(getattr(event, "gaps", 0)), gap_s=float(getattr(event, "gap_s", 0))
    )
    d["endurance"] = getattr(event, "endurance", None)
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


#: event.kind -> the function making its payload
EVENT_PAYLOADS = {"rep": rep_payload, "set": set_payload, "session": session_payload}


#: Incoming JSON nested deeper than this is refused before it is parsed (a command needs 3:
#: the object, ``args``, a value); Python's parser would raise RecursionError near 1,000.
MAX_JSON_DEPTH = 16


def json_depth_exceeds(data: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when ``data`` opens more than ``limit`` nested arrays / objects (strings skipped).

    A linear scan, no recursion: safe on any input, and cheap next to ``json.loads``.
    """
    depth = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # closing quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return False


def encode(payload: dict) -> bytes:
    """Compact UTF-8 JSON. Non-finite numbers (NaN, inf) raise ValueError: JSON has none."""
    return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode("utf-8")
