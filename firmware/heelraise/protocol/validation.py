"""Read and check MQTT payloads: JSON within limits, then the shipped JSON Schemas.

One home for the rules every side applies: the device (its outgoing messages and
the commands it is sent), the dashboard's ingest and ``heelraise watch`` all call
these two functions. :func:`loads` raises :class:`PayloadUnreadable` (not JSON,
NaN/Infinity, too deep), :func:`validate` a :class:`SchemaViolation` (a
:class:`~heelraise.exceptions.PayloadInvalid`) naming the path and the limit:

>>> from heelraise.protocol.validation import loads, validate
>>> loads('{"rep": {"raise_s": NaN}}')
Traceback (most recent call last):
heelraise.protocol.validation.PayloadUnreadable: NaN is not a number JSON allows (finite only)
>>> loads("[" * 9 + "]" * 9)
Traceback (most recent call last):
heelraise.protocol.validation.PayloadUnreadable: nested more than 8 levels deep (the limit is 8)
>>> validate("rep", {"schema": 1, "type": "rep"})
Traceback (most recent call last):
heelraise.protocol.validation.SchemaViolation: rep payload invalid at (top level): must contain \
['device', 'id', 'rep', 'sensor_t_s', 'session', 'side', 'time'] properties \
(got {'schema': 1, 'type': 'rep'})

One schema (draft 2020-12) per message type: rep, set, session, state, live, cmd
(incoming) and cmd_result; ``defs.schema.json`` holds the pieces they share, so
each limit (a rep's rise 0 to 60 s, heel height 0 to 300 mm, ...) is written once,
with its reason in ``description``. They are compiled once with fastjsonschema
(pure Python, no compiled dependency a Pi Zero could lack), but for ``cmd``, the one
the device takes in, which a small interpreter of the same file checks with the same
words (:mod:`~heelraise.protocol.schemacheck`: the service then never loads the
compiler); ``format:
"date-time"`` is checked with :mod:`datetime`, so only real calendar times pass.

:func:`loads` refuses, before anything recurses, a payload nested deeper than
:data:`MAX_DEPTH`, and at parse time ``NaN``, ``Infinity`` and numbers too large
for a float (``1e400``): they would be stored as they are and break every
reader downstream (a browser's ``JSON.parse`` fails on them).
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import math
import re
from urllib.parse import urljoin

from heelraise.exceptions import PayloadInvalid
from heelraise.heap import release_free_heap
from heelraise.protocol import schemacheck
from heelraise.protocol.utctime import parse_utc

#: Every message type that has a schema file ``<type>.schema.json``.
TYPES = ("rep", "set", "session", "state", "live", "cmd", "cmd_result", "health")

#: The types checked by the small interpreter of :mod:`~heelraise.protocol.schemacheck`
#: instead of fastjsonschema: the one the device takes in, so its service never loads the
#: compiler (about 1.1 MB, ``bench/service_cpu.py``); the same schema file, the same words.
INTERPRETED = ("cmd",)

#: Deepest nesting of objects and arrays a payload may have. The deepest message
#: (a set: envelope > set > reps > rep > tempo) is 5 levels; a deeper payload is
#: refused before the JSON parser recurses into it.
MAX_DEPTH = 8

#: Where the schema files say they live (their ``$id``); references between them
#: resolve to the files shipped in the package, never to the network.
SCHEMA_BASE = "https://heelraise.invalid/schemas/"

#: Why a payload failed its schema, for the receivers' counters: a number out of
#: its range, a time that is no calendar time, or any other break of the schema.
RULE_REASONS = {
    "minimum": "out_of_range",
    "maximum": "out_of_range",
    "exclusiveMinimum": "out_of_range",
    "exclusiveMaximum": "out_of_range",
    "format": "bad_time",
}


class PayloadUnreadable(PayloadInvalid):
    """A payload that is not one readable JSON value within the limits.

    ``reason`` is ``"malformed_json"`` (not UTF-8, not JSON), ``"not_finite"``
    (NaN, Infinity, or a number beyond a float) or ``"too_deep"``.
    """

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__("payload", "(top level)", message)

    def __str__(self) -> str:
        return self.message


class SchemaViolation(PayloadInvalid):
    """A payload that breaks its schema; ``reason`` is ``"out_of_range"``, ``"bad_time"``
    or ``"invalid"`` (see :data:`RULE_REASONS`), ``rule`` the schema keyword broken."""

    def __init__(self, type_: str, where: str, message: str, rule: str | None):
        self.rule = rule
        self.reason = RULE_REASONS.get(rule or "", "invalid")
        super().__init__(type_, where, message)


# --------------------------------------------------------------------------- reading JSON

_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")


def nesting_depth(text: str, limit: int = MAX_DEPTH) -> int:
    """Deepest nesting of ``[]``/``{}`` in JSON ``text`` (strings skipped), without recursion.

    Stops counting once past ``limit`` (returns ``limit + 1``): a nesting bomb costs
    no more than a few brackets.
    """
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depth = deepest = 0
    for ch in brackets:
        if ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        else:
            depth -= 1
    return deepest


def _refuse_constant(name: str):
    raise PayloadUnreadable("not_finite", f"{name} is not a number JSON allows (finite only)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise PayloadUnreadable("not_finite", f"number {text[:40]} is beyond a float's range")
    return value


def loads(payload: bytes | str, *, max_depth: int = MAX_DEPTH):
    """Parse one JSON payload with the limits above; raises :class:`PayloadUnreadable`."""
    if isinstance(payload, bytes | bytearray | memoryview):
        try:
            text = bytes(payload).decode("utf-8")
        except UnicodeDecodeError as e:
            raise PayloadUnreadable(
                "malformed_json", f"not UTF-8 ({e.reason} at byte {e.start})"
            ) from None
    else:
        text = payload
    depth = nesting_depth(text, max_depth)
    if depth > max_depth:
        raise PayloadUnreadable(
            "too_deep", f"nested more than {max_depth} levels deep (the limit is {max_depth})"
        )
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except PayloadUnreadable:
        raise
    except json.JSONDecodeError as e:
        raise PayloadUnreadable(
            "malformed_json", f"not JSON: {e.msg} at line {e.lineno} col {e.colno}"
        ) from None
    except (ValueError, RecursionError) as e:  # e.g. an integer of more than 4300 digits
        raise PayloadUnreadable("malformed_json", f"not readable JSON: {str(e)[:120]}") from None


# --------------------------------------------------------------------------- the schemas


def load_schema(type_: str) -> dict:
    """The schema of one message type (or ``"defs"``, the shared pieces) as a dict."""
    if type_ not in (*TYPES, "defs"):
        raise ValueError(f"unknown message type {type_!r}; known: {', '.join(TYPES)}")
    resource = importlib.resources.files("heelraise.protocol") / "schemas" / f"{type_}.schema.json"
    try:
        return json.loads(resource.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"heelraise.protocol schema {type_}.schema.json is missing; reinstall heelraise"
        ) from None


def _shipped(uri: str) -> dict:
    """fastjsonschema's loader for ``$ref`` to another schema file: the shipped one only."""
    if not uri.startswith(SCHEMA_BASE) or not uri.endswith(".schema.json"):
        raise ValueError(f"schema reference {uri!r} is not one of heelraise's own schemas")
    return load_schema(uri[len(SCHEMA_BASE) : -len(".schema.json")])


def is_utc_time(text: str) -> bool:
    """``format: date-time`` as the schemas use it: a real calendar time (the pattern
    fixes the shape ``YYYY-MM-DDTHH:MM:SS.mmmZ``)."""
    try:
        parse_utc(text)
    except ValueError:
        return False
    return True


@functools.cache
def validator(type_: str):
    """The compiled check of one message type (cached): ``check(payload)`` raises
    ``fastjsonschema.JsonSchemaValueException``."""
    import fastjsonschema

    schema = load_schema(type_)
    if urljoin(schema.get("$id", ""), "x") != SCHEMA_BASE + "x":
        raise ValueError(f"schema {type_}: $id {schema.get('$id')!r} is not under {SCHEMA_BASE}")
    return fastjsonschema.compile(
        schema,
        handlers={"https": _shipped},
        formats={"date-time": is_utc_time},
        use_default=False,
    )


@functools.cache
def check_for(type_: str):
    """The check of one message type (cached): ``check(payload)`` raises
    :class:`~heelraise.protocol.schemacheck.Violation`. The :data:`INTERPRETED` types are
    walked by the small interpreter, the others run fastjsonschema's compiled check."""
    if type_ in INTERPRETED:
        return schemacheck.compile_check(load_schema(type_))
    import fastjsonschema

    compiled = validator(type_)

    def run(payload):
        try:
            return compiled(payload)
        except fastjsonschema.JsonSchemaValueException as e:
            raise schemacheck.Violation(e.message, e.value, e.name, e.definition, e.rule) from None

    return run


def compile_all(types: tuple[str, ...] = TYPES) -> None:
    """Build the checks of ``types`` (every message type by default) now, then give the
    compiler's scratch back to the system: the service's memory is then flat for the whole
    session instead of rising by about 4 MB when the first session message is checked
    (``bench/service_cpu.py``)."""
    for type_ in types:
        check_for(type_)
    release_free_heap()  # the compiler's scratch (about 6 MB for every type)


def validate(type_: str, payload) -> None:
    """Raise :class:`SchemaViolation` (a PayloadInvalid) naming the path and the limit."""
    try:
        check_for(type_)(payload)
    except schemacheck.Violation as e:
        raise SchemaViolation(type_, _where(e.path), _wording(e), e.rule) from None
    if type_ == "live" and len(payload["t_s"]) != len(payload["pitch_deg"]):
        raise SchemaViolation(
            type_,
            "pitch_deg",
            f"{len(payload['pitch_deg'])} values for {len(payload['t_s'])} times",
            "sameLength",
        )


def errors(type_: str, payload) -> list[str]:
    """The first violation as ``["<json path>: <message>"]`` (empty when valid)."""
    try:
        validate(type_, payload)
    except PayloadInvalid as e:
        return [f"{e.where}: {e.message}"]
    return []


def _where(path) -> str:
    return "/".join(str(p) for p in (path or [])[1:]) or "(top level)"


def _wording(e) -> str:
    text = e.message
    if text.startswith("data"):
        text = text.split(" ", 1)[1] if " " in text else text
    value = repr(e.value)
    if len(value) > 60:
        value = value[:57] + "..."
    why = e.definition.get("description") if isinstance(e.definition, dict) else None
    out = f"{text} (got {value})"
    if why and e.rule in RULE_REASONS:
        out += f": {why}"
    return out[:400]
