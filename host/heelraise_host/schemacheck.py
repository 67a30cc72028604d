"""A JSON Schema (draft 2020-12) turned into one Python predicate: the ingest's fast accept path.

One job: answer "is this payload valid?" quickly. ``jsonschema`` walks the schema
anew for every message (about 0.3 ms for a rep, 2.4 ms for a set with its reps on
this laptop), which capped the dashboard's ingest near 530 events per second. Here
each schema is compiled once into nested closures, so a check is plain
``isinstance``/``len``/``re`` calls (about 15x faster).

This is only the accept path. :mod:`heelraise_host.messages` asks ``jsonschema``
itself whenever the predicate says False, for the error message, and trusts it:
a predicate stricter than ``jsonschema`` costs time, never a message. The
dangerous direction (accepting what ``jsonschema`` refuses) is what
``tests/test_host_schemacheck.py`` checks, on the shipped schemas and on
thousands of generated and mutated payloads.

Supported keywords (everything the heelraise schemas use, and a little more);
any other keyword raises :class:`SchemaUnsupported` so that the caller falls
back to ``jsonschema`` rather than silently ignoring a rule::

    type const enum  properties required additionalProperties propertyNames
    minProperties maxProperties  items minItems maxItems uniqueItems
    minLength maxLength pattern  minimum maximum exclusiveMinimum exclusiveMaximum
    multipleOf  allOf anyOf oneOf not if/then/else  $ref (to "#" or "#/$defs/<name>")

``format`` is an annotation, as in ``jsonschema`` without a format checker.

>>> is_valid = compile_schema({"type": "object", "required": ["id"]})
>>> is_valid({"id": "a"}), is_valid({})
(True, False)
"""

from __future__ import annotations

import re
from collections.abc import Callable

from heelraise.exceptions import HeelraiseError

#: keywords that never constrain an instance
_ANNOTATIONS = frozenset(
    (
        "$schema",
        "$id",
        "$defs",
        "$comment",
        "title",
        "description",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "format",
        "then",  # read together with "if"
        "else",
    )
)

Check = Callable[[object], bool]


class SchemaUnsupported(HeelraiseError):
    """The schema uses a keyword (or a $ref) this compiler does not implement."""


def compile_schema(schema) -> Check:
    """``schema`` (a dict or a bool) -> ``is_valid(instance) -> bool``.

    Raises :class:`SchemaUnsupported` naming the first keyword it cannot honour.
    """
    return _Compiler(schema).compile(schema, "#")


# ---------------------------------------------------------------- type tests (jsonschema's)


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _is_integer(x) -> bool:
    if isinstance(x, bool):
        return False
    if isinstance(x, int):
        return True
    return isinstance(x, float) and x.is_integer()


_TYPES: dict[str, Check] = {
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "string": lambda x: isinstance(x, str),
    "number": _is_number,
    "integer": _is_integer,
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
}


def _equal(one, two) -> bool:
    """JSON equality as ``jsonschema`` has it: ``True`` is not ``1``; ``1`` is ``1.0``."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return one == two
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(_equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, dict) and isinstance(two, dict):
        return len(one) == len(two) and all(k in two and _equal(v, two[k]) for k, v in one.items())
    if isinstance(one, bool) or isinstance(two, bool):
        return isinstance(one, bool) and isinstance(two, bool) and one == two
    if isinstance(one, (list, dict)) or isinstance(two, (list, dict)):
        return False
    return one == two


# ---------------------------------------------------------------- the compiler


class _Compiler:
    def __init__(self, root):
        self.root = root
        self.refs: dict[str, Check] = {}

    def compile(self, schema, where: str) -> Check:
        if schema is True:
            return lambda x: True
        if schema is False:
            return lambda x: False
        if not isinstance(schema, dict):
            raise SchemaUnsupported(f"{where}: a schema must be an object or a boolean")
        any_checks: list[Check] = []  # apply to every instance
        obj_checks: list[Check] = []  # only to objects
        arr_checks: list[Check] = []  # only to arrays
        str_checks: list[Check] = []  # only to strings
        num_checks: list[Check] = []  # only to numbers
        for key, value in schema.items():
            at = f"{where}/{key}"
            if key in _ANNOTATIONS:
                if key == "$id" and schema is not self.root:
                    # An inner $id moves the base of every $ref below it.
                    raise SchemaUnsupported(f"{at}: $id below the root")
                continue
            if key == "type":
                any_checks.append(self._type(value, at))
            elif key == "const":
                any_checks.append(lambda x, c=value: _equal(x, c))
            elif key == "enum":
                options = list(value)
                any_checks.append(lambda x, o=options: any(_equal(x, c) for c in o))
            elif key == "properties":
                obj_checks.append(self._properties(value, at))
            elif key == "required":
                names = tuple(value)
                obj_checks.append(lambda x, n=names: all(k in x for k in n))
            elif key == "additionalProperties":
                obj_checks.append(self._additional(schema, value, at))
            elif key == "patternProperties":
                if "additionalProperties" not in schema and value:
                    raise SchemaUnsupported(f"{at}: patternProperties without additionalProperties")
                obj_checks.append(self._pattern_properties(value, at))
            elif key == "propertyNames":
                check = self.compile(value, at)
                obj_checks.append(lambda x, c=check: all(c(k) for k in x))
            elif key == "minProperties":
                obj_checks.append(lambda x, n=value: len(x) >= n)
            elif key == "maxProperties":
                obj_checks.append(lambda x, n=value: len(x) <= n)
            elif key == "items":
                if "prefixItems" in schema:
                    raise SchemaUnsupported(f"{at}: items with prefixItems")
                check = self.compile(value, at)
                arr_checks.append(lambda x, c=check: all(c(i) for i in x))
            elif key == "minItems":
                arr_checks.append(lambda x, n=value: len(x) >= n)
            elif key == "maxItems":
                arr_checks.append(lambda x, n=value: len(x) <= n)
            elif key == "uniqueItems":
                if value:
                    arr_checks.append(_unique)
            elif key == "minLength":
                str_checks.append(lambda x, n=value: len(x) >= n)
            elif key == "maxLength":
                str_checks.append(lambda x, n=value: len(x) <= n)
            elif key == "pattern":
                search = re.compile(value).search
                str_checks.append(lambda x, s=search: s(x) is not None)
            elif key == "minimum":
                num_checks.append(lambda x, n=value: x >= n)
            elif key == "maximum":
                num_checks.append(lambda x, n=value: x <= n)
            elif key == "exclusiveMinimum":
                num_checks.append(lambda x, n=value: x > n)
            elif key == "exclusiveMaximum":
                num_checks.append(lambda x, n=value: x < n)
            elif key == "multipleOf":
                num_checks.append(self._multiple_of(value, at))
            elif key in ("allOf", "anyOf", "oneOf"):
                checks = [self.compile(s, f"{at}/{i}") for i, s in enumerate(value)]
                any_checks.append(_combinator(key, checks))
            elif key == "not":
                check = self.compile(value, at)
                any_checks.append(lambda x, c=check: not c(x))
            elif key == "if":
                any_checks.append(self._if(schema, where))
            elif key == "$ref":
                any_checks.append(self._ref(value, at))
            else:
                raise SchemaUnsupported(f"{at}: keyword {key!r} is not supported")
        return _assemble(any_checks, obj_checks, arr_checks, str_checks, num_checks)

    def _type(self, value, at) -> Check:
        names = [value] if isinstance(value, str) else list(value)
        unknown = [n for n in names if n not in _TYPES]
        if unknown:
            raise SchemaUnsupported(f"{at}: unknown type {unknown[0]!r}")
        tests = tuple(_TYPES[n] for n in names)
        if len(tests) == 1:
            return tests[0]
        return lambda x: any(t(x) for t in tests)

    def _properties(self, props: dict, at) -> Check:
        pairs = tuple((name, self.compile(s, f"{at}/{name}")) for name, s in props.items())

        def check(x):
            for name, c in pairs:
                if name in x and not c(x[name]):
                    return False
            return True

        return check

    def _additional(self, schema, value, at) -> Check:
        known = frozenset(schema.get("properties", {}))
        patterns = "|".join(schema.get("patternProperties", {}))
        search = re.compile(patterns).search if patterns else None

        def extras(x):
            return [k for k in x if k not in known and not (search and search(k))]

        if value is False:
            if search is None:
                return lambda x: known.issuperset(x)
            return lambda x: not extras(x)
        if value is True:
            return lambda x: True
        check = self.compile(value, at)
        return lambda x: all(check(x[k]) for k in extras(x))

    def _pattern_properties(self, value: dict, at) -> Check:
        pairs = tuple(
            (re.compile(p).search, self.compile(s, f"{at}/{p}")) for p, s in value.items()
        )
        return lambda x: all(c(v) for k, v in x.items() for s, c in pairs if s(k))

    def _multiple_of(self, value, at) -> Check:
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            # jsonschema's float rule has rounding subtleties; let it decide those.
            raise SchemaUnsupported(f"{at}: only positive integer multipleOf is supported")
        return lambda x: x % value == 0

    def _if(self, schema, where) -> Check:
        cond = self.compile(schema["if"], f"{where}/if")
        then = self.compile(schema.get("then", True), f"{where}/then")
        other = self.compile(schema.get("else", True), f"{where}/else")
        return lambda x: then(x) if cond(x) else other(x)

    def _ref(self, ref: str, at) -> Check:
        if ref != "#" and not ref.startswith("#/$defs/"):
            raise SchemaUnsupported(f"{at}: $ref {ref!r} (only '#' and '#/$defs/<name>')")
        if ref not in self.refs:
            # Placeholder first: a recursive schema refers to itself while compiling.
            slot: list[Check] = []
            self.refs[ref] = lambda x: slot[0](x)
            target = self.root
            if ref != "#":
                name = ref[len("#/$defs/") :]
                if "/" in name or "~" in name or "%" in name:
                    raise SchemaUnsupported(f"{at}: $ref {ref!r} (nested or escaped pointer)")
                defs = self.root.get("$defs") if isinstance(self.root, dict) else None
                if not isinstance(defs, dict) or name not in defs:
                    raise SchemaUnsupported(f"{at}: $ref {ref!r} points nowhere")
                target = defs[name]
            slot.append(self.compile(target, ref))
            self.refs[ref] = slot[0]
        return self.refs[ref]


def _combinator(key: str, checks: list[Check]) -> Check:
    if key == "allOf":
        return lambda x: all(c(x) for c in checks)
    if key == "anyOf":
        return lambda x: any(c(x) for c in checks)
    return lambda x: sum(1 for c in checks if c(x)) == 1


def _unique(x: list) -> bool:
    for i in range(1, len(x)):
        for j in range(i):
            if _equal(x[i], x[j]):
                return False
    return True


def _assemble(any_checks, obj_checks, arr_checks, str_checks, num_checks) -> Check:
    """One closure: the checks for the instance's own JSON type, then the general ones."""
    by_type = (
        (dict, tuple(obj_checks)),
        (list, tuple(arr_checks)),
        (str, tuple(str_checks)),
    )
    by_type = tuple((t, cs) for t, cs in by_type if cs)
    general = tuple(any_checks)
    numeric = tuple(num_checks)

    def check(x) -> bool:
        for c in general:
            if not c(x):
                return False
        for t, cs in by_type:
            if isinstance(x, t):
                for c in cs:
                    if not c(x):
                        return False
                return True
        if numeric and _is_number(x):
            for c in numeric:
                if not c(x):
                    return False
        return True

    return check
