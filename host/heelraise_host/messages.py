"""What arrives over MQTT, checked: topic -> device and kind, payload -> a validated message.

One job: turn ``(topic, payload bytes)`` into a :class:`Message` or raise
:class:`~heelraise.exceptions.MessageRejected` naming the kind of trouble, the
device and what exactly was wrong. Nothing here touches the network or the store,
so the dashboard's ingest and ``heelraise watch`` share it and tests call it
directly.

Topics (see the shared contract), under a prefix (default ``heelraise``)::

    <prefix>/<device>/status        "online" / "offline" (plain text, retained)
    <prefix>/<device>/state         JSON, type "state" (retained)
    <prefix>/<device>/event/rep     JSON, type "rep"      (QoS 1)
    <prefix>/<device>/event/set     JSON, type "set"      (QoS 1)
    <prefix>/<device>/event/session JSON, type "session"  (QoS 1)
    <prefix>/<device>/live          JSON, type "live"     (QoS 0)

Every JSON payload is validated against the schema shipped in
``heelraise.mqtt/schemas/<type>.schema.json`` (draft 2020-12).

>>> msg = parse("heelraise/shoe-1/event/rep", payload_bytes, prefix="heelraise")
>>> msg.type, msg.device, msg.body["rep"]["raise_s"]
('rep', 'shoe-1', 1.98)
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import logging
from dataclasses import dataclass, field

from heelraise.exceptions import MessageRejected

log = logging.getLogger(__name__)

#: The envelope version this host understands.
SCHEMA_VERSION = 1

#: Default payload ceiling. A set message carries every rep (about 600 bytes
#: each), so 256 KiB leaves room for a set of several hundred reps.
MAX_PAYLOAD_BYTES = 256 * 1024

#: topic suffix (after ``<prefix>/<device>/``) -> message type
TOPIC_TYPES = {
    "event/rep": "rep",
    "event/set": "set",
    "event/session": "session",
    "state": "state",
    "live": "live",
    "status": "status",
}

#: types stored durably (idempotent by message id); the others are "now" only
EVENT_TYPES = ("rep", "set", "session")

#: every reason a message can be refused, for counters and the health page
REJECT_KINDS = (
    "oversized",  # payload larger than max_payload_bytes
    "malformed_json",  # not UTF-8, not JSON, or not one JSON object
    "schema_version",  # envelope "schema" is not SCHEMA_VERSION
    "invalid",  # fails the JSON Schema of its type
    "topic_mismatch",  # envelope type/device disagree with the topic
    "unknown_topic",  # not a topic this host understands
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


def split_topic(topic: str, prefix: str) -> tuple[str, str]:
    """``(device, type)`` for a topic under ``prefix``; raises MessageRejected("unknown_topic")."""
    head = prefix.rstrip("/") + "/"
    if not topic.startswith(head):
        raise MessageRejected("unknown_topic", topic, None, f"not under prefix {prefix!r}")
    device, _, rest = topic[len(head) :].partition("/")
    kind = TOPIC_TYPES.get(rest)
    if not device or kind is None:
        raise MessageRejected(
            "unknown_topic", topic, device or None, f"expected <prefix>/<device>/{{{_suffixes()}}}"
        )
    return device, kind


def parse(
    topic: str,
    payload: bytes,
    *,
    prefix: str = "heelraise",
    max_payload_bytes: int = MAX_PAYLOAD_BYTES,
) -> Message:
    """Check one MQTT message; returns a :class:`Message` or raises MessageRejected."""
    device, kind = split_topic(topic, prefix)
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
        body = json.loads(text)
    except UnicodeDecodeError as e:
        raise MessageRejected("malformed_json", topic, device, f"not UTF-8: {e}") from None
    except json.JSONDecodeError as e:
        raise MessageRejected(
            "malformed_json", topic, device, f"not JSON: {e.msg} at line {e.lineno} col {e.colno}"
        ) from None
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
    _check_envelope(body, topic, device)
    _validate(kind, body, topic, device)
    if body["device"] != device:
        raise MessageRejected(
            "topic_mismatch",
            topic,
            device,
            f"envelope device {body['device']!r} differs from the topic's {device!r}",
        )
    return Message(topic, device, kind, body, raw=text)


def _check_envelope(body: dict, topic: str, device: str) -> None:
    # The store keys on these; checked here too so that a lax schema can never
    # let a message through that the store cannot file.
    for key in ("id", "device", "session", "time"):
        value = body.get(key)
        if not isinstance(value, str) or not value:
            raise MessageRejected(
                "invalid", topic, device, f"envelope {key!r} must be a non-empty string"
            )


def _validate(kind: str, body: dict, topic: str, device: str) -> None:
    if fast_checks()[kind](body):
        return  # the common case: no jsonschema walk at all
    # Refused by the fast check: jsonschema is the reference and words the error.
    validator = validators()[kind]
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if not errors:
        _stricter_than_jsonschema(kind)
    else:
        import jsonschema.exceptions

        err = jsonschema.exceptions.best_match(errors)
        where = "/".join(str(p) for p in err.absolute_path) or "(top level)"
        raise MessageRejected("invalid", topic, device, f"at {where}: {err.message[:200]}")


@functools.cache
def fast_checks() -> dict:
    """type -> ``is_valid(body) -> bool``, compiled once (:mod:`heelraise_host.schemacheck`).

    Where a schema uses something the compiler does not implement, the
    jsonschema validator's own ``is_valid`` stands in (slower, never wrong).
    """
    from heelraise_host.schemacheck import SchemaUnsupported, compile_schema

    out = {}
    for kind, validator in validators().items():
        try:
            out[kind] = compile_schema(validator.schema)
        except SchemaUnsupported as e:
            log.warning("schema %s: no fast check (%s); using jsonschema for it", kind, e)
            out[kind] = validator.is_valid
    return out


@functools.cache
def _stricter_than_jsonschema(kind: str) -> None:
    # A bug in schemacheck, on the safe side: the message is accepted, as jsonschema says.
    log.warning("fast check refused a %s message that jsonschema accepts; accepting it", kind)


@functools.cache
def validators() -> dict:
    """type -> a compiled Draft 2020-12 validator, from the schemas heelraise ships."""
    import jsonschema

    folder = importlib.resources.files("heelraise.mqtt") / "schemas"
    out = {}
    for kind in ("rep", "set", "session", "state", "live"):
        resource = folder / f"{kind}.schema.json"
        try:
            schema = json.loads(resource.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FileNotFoundError(
                f"heelraise.mqtt schema {kind}.schema.json is missing; reinstall heelraise"
            ) from None
        jsonschema.Draft202012Validator.check_schema(schema)
        out[kind] = jsonschema.Draft202012Validator(schema)
    return out


def _suffixes() -> str:
    return ",".join(TOPIC_TYPES)
