"""A small interpreter of JSON Schema for the one message the device takes in: ``cmd``.

fastjsonschema (the check of every other message type, :mod:`heelraise.protocol.validation`)
writes Python source for a schema and compiles it: on the shoe that is about 1.1 MB of the
service's memory (the library, :mod:`decimal`, the generated code; ``bench/service_cpu.py``)
to check commands, which arrive a few times a session. This walks the schema itself
instead: the same file (``cmd.schema.json`` stays the one home of the format), the keywords
that schema uses, checked in fastjsonschema's order and worded as it words them, so a bad
command is refused with the same words and the same path whichever checks it
(``tests/test_memory_schemacheck.py`` holds the two side by side). A schema with a keyword
this does not know is refused when the check is built, never passed unchecked.
"""

from __future__ import annotations

import re

#: Keywords that only describe (no rule): skipped.
ANNOTATIONS = frozenset(("$schema", "$id", "title", "description", "$comment", "examples"))

#: The rules known here (those ``cmd.schema.json`` uses), in the order fastjsonschema's
#: generated code checks them (its draft-04 list, then draft 6's ``const`` and draft 7's
#: ``if``, with its ``then`` and ``else``).
ORDER = (
    "type",
    "enum",
    "allOf",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "maxProperties",
    "required",
    "properties",
    "additionalProperties",
    "const",
    "if",
)

#: JSON types and the Python values that are them (a bool is no number).
TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list | tuple),
    "string": lambda v: isinstance(v, str),
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
}

_SPLIT = re.compile(r"[\.\[\]]+")


class Violation(Exception):
    """A value that breaks its schema, with what fastjsonschema's exception carries:
    ``message``, ``value``, ``name`` (``data.args.on``), ``path``, ``definition`` (the schema
    part broken) and ``rule`` (its keyword)."""

    def __init__(self, message: str, value, name: str, definition, rule: str):
        super().__init__(message)
        self.message = message
        self.value = value
        self.name = name
        self.definition = definition
        self.rule = rule

    @property
    def path(self) -> list[str]:
        return [p for p in _SPLIT.split(self.name) if p]


def check_schema(schema, where: str = "(schema)") -> None:
    """Refuse a schema with a keyword this interpreter does not apply (ValueError)."""
    if isinstance(schema, bool):
        return
    if not isinstance(schema, dict):
        raise ValueError(f"{where}: a schema must be an object or a boolean, not {schema!r}")
    unknown = set(schema) - ANNOTATIONS - set(ORDER) - {"then", "else"}
    if unknown:
        raise ValueError(
            f"{where}: keyword(s) {sorted(unknown)} are not checked by heelraise's small "
            "schema check (heelraise.protocol.schemacheck)"
        )
    for t in [schema["type"]] if isinstance(schema.get("type"), str) else schema.get("type", []):
        if t not in TYPES:
            raise ValueError(f"{where}: type {t!r} is not checked here")
    for i, sub in enumerate(schema.get("allOf", [])):
        check_schema(sub, f"{where}/allOf/{i}")
    for key in ("if", "then", "else"):
        if key in schema:
            check_schema(schema[key], f"{where}/{key}")
    for key, sub in schema.get("properties", {}).items():
        check_schema(sub, f"{where}/properties/{key}")
    if schema.get("additionalProperties") not in (None, False):
        raise ValueError(f"{where}: only additionalProperties false is checked here")


def _matches(value, item) -> bool:
    """``value`` equals enum/const ``item`` as JSON sees it (True is not 1)."""
    if isinstance(item, bool) or item is None:
        return value is item
    if isinstance(item, int | float):
        return TYPES["number"](value) and value == item
    if isinstance(item, str):
        return isinstance(value, str) and value == item
    if isinstance(item, dict):
        return (
            isinstance(value, dict)
            and len(value) == len(item)
            and all(k in value and _matches(value[k], v) for k, v in item.items())
        )
    if isinstance(item, list | tuple):
        return (
            isinstance(value, list | tuple)
            and len(value) == len(item)
            and all(_matches(a, b) for a, b in zip(value, item, strict=True))
        )
    return value == item


def check(schema, value, name: str = "data") -> None:
    """Raise :class:`Violation` at the first rule of ``schema`` that ``value`` breaks."""
    if schema is True:
        return
    if schema is False:
        raise Violation(f"{name} must not be there", value, name, schema, "not")

    def fail(text: str, rule: str):
        raise Violation(f"{name} {text}", value, name, schema, rule)

    number = TYPES["number"](value)
    for rule in ORDER:
        if rule not in schema:
            continue
        want = schema[rule]
        if rule == "type":
            types = [want] if isinstance(want, str) else list(want)
            if not any(TYPES[t](value) for t in types):
                fail(f"must be {' or '.join(types)}", rule)
        elif rule == "enum":
            if not any(_matches(value, item) for item in want):
                fail(f"must be one of {want}", rule)
        elif rule == "const":
            if not _matches(value, want):
                fail(f"must be same as const definition: {want}", rule)
        elif rule == "allOf":
            for sub in want:
                check(sub, value, name)
        elif rule == "if":
            try:
                check(want, value, name)
            except Violation:
                branch = schema.get("else", True)
            else:
                branch = schema.get("then", True)
            check(branch, value, name)
        elif isinstance(value, str) and rule in ("minLength", "maxLength"):
            if rule == "minLength" and len(value) < want:
                fail(f"must be longer than or equal to {want} characters", rule)
            if rule == "maxLength" and len(value) > want:
                fail(f"must be shorter than or equal to {want} characters", rule)
        elif number and rule in ("minimum", "maximum"):
            if rule == "minimum" and value < want:
                fail(f"must be bigger than or equal to {want}", rule)
            if rule == "maximum" and value > want:
                fail(f"must be smaller than or equal to {want}", rule)
        elif isinstance(value, dict):
            _check_object(schema, rule, want, value, name, fail)


def _check_object(schema, rule: str, want, value: dict, name: str, fail) -> None:
    if rule == "maxProperties" and len(value) > want:
        fail(f"must contain less than or equal to {want} properties", rule)
    elif rule == "required":
        missing = set(want) - value.keys()
        if missing:
            fail(f"must contain {sorted(missing)} properties", rule)
    elif rule == "properties":
        for key, sub in want.items():
            if key in value:
                check(sub, value[key], f"{name}.{key}")
    elif rule == "additionalProperties" and want is False:
        # the same set, built the same way, as fastjsonschema names in its message
        extra = set(value.keys())
        for key in schema.get("properties", {}):
            extra.discard(key)
        if extra:
            fail(f"must not contain {extra} properties", rule)


def compile_check(schema):
    """``check(payload)`` for ``schema`` (refused now if it uses a keyword not known here)."""
    check_schema(schema)

    def run(payload):
        check(schema, payload)
        return payload

    return run
