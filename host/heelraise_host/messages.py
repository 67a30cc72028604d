"""What arrives over MQTT, checked: topic -> device and kind, payload -> a validated message.

One job: turn ``(topic, payload bytes)`` into a :class:`Message` or raise
:class:`~heelraise.exceptions.MessageRejected` naming the kind of trouble, the
device and what exactly was wrong. Nothing here touches the network or the store,
so the dashboard's ingest and ``heelraise watch`` share it and tests call it
directly.

Topics (:mod:`heelraise.protocol.topics` parses them), under a prefix (default ``heelraise``)::

    <prefix>/<device>/status        "online" / "offline" (plain text, retained)
    <prefix>/<device>/state         JSON, type "state" (retained)
    <prefix>/<device>/state/left    the same, of the left shoe of two (and state/right)
    <prefix>/<device>/health        JSON, type "health" (retained: sensor trouble, gaps)
    <prefix>/<device>/event/rep     JSON, type "rep"      (QoS 1)
    <prefix>/<device>/event/set     JSON, type "set"      (QoS 1)
    <prefix>/<device>/event/session JSON, type "session"  (QoS 1)
    <prefix>/<device>/live          JSON, type "live"     (QoS 0)

Every JSON payload is read and validated by :mod:`heelraise.protocol.validation`, the
same code the device uses: JSON within the limits (finite numbers, nesting), then
the schema shipped in ``heelraise/protocol/schemas/<type>.schema.json``.

>>> from heelraise_host.devicesim import session_messages
>>> rep = session_messages("shoe-1", "s-1", reps_per_set=[1])[1]
>>> rep.topic
'heelraise/shoe-1/event/rep'
>>> msg = parse(rep.topic, rep.payload, prefix="heelraise")
>>> msg.type, msg.device, msg.session, msg.body["rep"]["raise_s"]
('rep', 'shoe-1', 's-1', 1.976)
>>> parse("heelraise/shoe-1/event/set", rep.payload)
Traceback (most recent call last):
heelraise.exceptions.MessageRejected: topic_mismatch on 'heelraise/shoe-1/event/set': \
type 'rep' on a 'set' topic
>>> parse(rep.topic, rep.payload.replace(b'"raise_s":1.976', b'"raise_s":NaN'))
Traceback (most recent call last):
heelraise.exceptions.MessageRejected: not_finite on 'heelraise/shoe-1/event/rep': \
NaN is not a number JSON allows (finite only)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from heelraise.exceptions import MessageRejected
from heelraise.protocol import validation
from heelraise.protocol.payloads import SCHEMA_VERSION
from heelraise.protocol.topics import parse_topic

log = logging.getLogger(__name__)

#: Default payload ceiling. A set message carries every rep (about 600 bytes
#: each), so 256 KiB leaves room for a set of several hundred reps.
MAX_PAYLOAD_BYTES = 256 * 1024

#: every reason a message can be refused, for counters and the health page
REJECT_KINDS = (
    "oversized",  # payload larger than max_payload_bytes
    "malformed_json",  # not UTF-8, not JSON, or not one JSON object
    "not_finite",  # NaN, Infinity or a number beyond a float (refused at parse)
    "too_deep",  # nested deeper than validation.MAX_DEPTH (refused before parsing)
    "schema_version",  # envelope "schema" is not SCHEMA_VERSION
    "out_of_range",  # a number outside the range its schema gives (a limit of the foot, ...)
    "bad_time",  # a time that is no calendar time (2026-13-45T25:61:61.000Z)
    "invalid",  # fails the JSON Schema of its type otherwise
    "topic_mismatch",  # envelope type/device disagree with the topic
    "unknown_topic",  # not a topic this host understands
    "conflict",  # would replace a stored rep, set or session with another message's
    "store_error",  # the store could not file it (a bug: logged with the reason)
)


@dataclass(frozen=True)
class Message:
    """A checked message. ``body`` is the whole JSON object (None for ``status``)."""

    topic: str
    device: str
    type: str  # rep | set | session | state | live | status
    body: dict | None
    status: str | None = None  # "online" / "offline" for type "status"
    raw: str | None = field(default=None, repr=False, compare=False)  # the JSON text as sent

    @property
    def id(self) -> str | None:
        return None if self.body is None else self.body["id"]

    @property
    def session(self) -> str | None:
        return None if self.body is None else self.body.get("session")


def parse(
    topic: str,
    payload: bytes,
    *,
    prefix: str = "heelraise",
    max_payload_bytes: int = MAX_PAYLOAD_BYTES,
) -> Message:
    """Check one MQTT message; returns a :class:`Message` or raises MessageRejected."""
    device, kind = parse_topic(topic, prefix)
    if len(payload) > max_payload_bytes:
        raise MessageRejected(
            "oversized",
            topic,
            device,
            f"payload is {len(payload)} bytes, more than the limit of {max_payload_bytes}",
        )
    if kind == "status":
        text = payload.decode("utf-8", errors="replace").strip()
        if text not in ("online", "offline"):
            raise MessageRejected(
                "invalid", topic, device, f"status must be 'online' or 'offline', not {text[:40]!r}"
            )
        return Message(topic, device, "status", None, status=text)

    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as e:
        raise MessageRejected(
            "malformed_json", topic, device, f"not UTF-8 ({e.reason} at byte {e.start})"
        ) from None
    try:
        body = validation.loads(text)
    except validation.PayloadUnreadable as e:
        raise MessageRejected(e.reason, topic, device, str(e)) from None
    if not isinstance(body, dict):
        raise MessageRejected(
            "malformed_json", topic, device, f"expected one JSON object, got {type(body).__name__}"
        )
    version = body.get("schema")
    if version != SCHEMA_VERSION or isinstance(version, bool):
        raise MessageRejected(
            "schema_version",
            topic,
            device,
            f"envelope schema {version!r} is not supported (this host reads {SCHEMA_VERSION})",
        )
    if body.get("type") != kind:
        raise MessageRejected(
            "topic_mismatch",
            topic,
            device,
            f"type {body.get('type')!r} on a {kind!r} topic",
        )
    _validate(kind, body, topic, device)
    side = topic.rpartition("/")[2] if kind == "state" else None
    if side in ("left", "right") and body["side"] != side:
        raise MessageRejected(
            "topic_mismatch",
            topic,
            device,
            f"a state of side {body['side']!r} on the {side} shoe's topic",
        )
    if body["device"] != device:
        raise MessageRejected(
            "topic_mismatch",
            topic,
            device,
            f"envelope device {body['device']!r} differs from the topic's {device!r}",
        )
    return Message(topic, device, kind, body, raw=text)


def _validate(kind: str, body: dict, topic: str, device: str) -> None:
    try:
        validation.validate(kind, body)
    except validation.SchemaViolation as e:
        raise MessageRejected(e.reason, topic, device, f"at {e.where}: {e.message}") from None
