"""The one validator (fastjsonschema) reads the shipped 2020-12 schemas as jsonschema does.

jsonschema is the reference here only (a test dependency): on real messages of every
type, and on each of them with every number and time pushed to values on both sides of
the limits, both give the same verdict.
"""

from __future__ import annotations

import copy

import jsonschema
import pytest
from heelraise.exceptions import PayloadInvalid
from heelraise.protocol import validation
from heelraise_host.devicesim import session_messages
from referencing import Registry, Resource

#: values around every limit the schemas set, and of the wrong kinds
EDGES = (
    -1e11, -600.5, -600, -90.5, -90, -1.5, -1, -0.5, 0, 0.5, 1, 59.9, 60, 60.5, 90, 90.5,
    100, 100.5, 120, 180.5, 300, 300.5, 600.5, 1000, 1001, 3600, 3600.5, 10000, 10001, 100001,
    1e7 + 1,
    1e10 + 1, 10**30, 2.0, True, None, "1",
)  # fmt: skip
TIMES = (
    "2026-11-24T07:00:00.000Z",
    "2026-13-45T25:61:61.000Z",
    "2026-02-30T10:00:00.000Z",
    "2028-02-29T23:59:59.999Z",
    "0000-01-01T00:00:00.000Z",
    "2026-11-24T07:00:00Z",
)


def _reference(type_):
    resources = [
        (s["$id"], Resource.from_contents(s))
        for s in (validation.load_schema(t) for t in (*validation.TYPES, "defs"))
    ]
    checker = jsonschema.FormatChecker(formats=())
    checker.checks("date-time")(validation.is_utc_time)
    return jsonschema.Draft202012Validator(
        validation.load_schema(type_),
        registry=Registry().with_resources(resources),
        format_checker=checker,
    )


def _samples():
    msgs = session_messages(
        "shoe-1", "s-1", reps_per_set=[2], live=True, endurance=True, tempo="3-0-2-1"
    )
    out = {}
    for m in msgs:
        body = m.json()
        out.setdefault(body["type"], body)
    return out


def _leaves(value, path=()):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:2]):
            yield from _leaves(v, (*path, i))
    else:
        yield path, value


def _put(body, path, value):
    out = copy.deepcopy(body)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


def _ours(type_, body) -> bool:
    try:
        validation.validate(type_, body)
    except PayloadInvalid:
        return False
    return True


@pytest.mark.parametrize("type_", ["rep", "set", "session", "state", "live"])
def test_every_limit_gets_the_same_verdict_from_both(type_):
    body = _samples()[type_]
    reference = _reference(type_)
    assert _ours(type_, body) and reference.is_valid(body)
    checked = refused = 0
    for path, value in _leaves(body):
        candidates = TIMES if path == ("time",) else EDGES if not isinstance(value, str) else ()
        for new in candidates:
            mutated = _put(body, path, new)
            if type_ == "live" and path[0] in ("t_s", "pitch_deg"):
                continue  # the same-length rule is ours alone (not a schema keyword)
            want = reference.is_valid(mutated)
            assert _ours(type_, mutated) == want, (path, new)
            checked += 1
            refused += not want
    assert checked > 50 and 0 < refused < checked


@pytest.mark.parametrize(
    "text, reason",
    [
        ("[" * 8 + "]" * 8, None),
        ("[" * 9 + "]" * 9, "too_deep"),
        ('{"a": "' + "[" * 50 + '"}', None),  # brackets in a string are text
        ('{"a": "\\"' + "{" * 50 + '"}', None),  # ... after an escaped quote too
        ('{"a": [[[[[[[[{"b": 1}]]]]]]]]}', "too_deep"),
        ("[" * 200_000, "too_deep"),  # never reaches the parser
        ('{"a": NaN}', "not_finite"),
        ('{"a": -Infinity}', "not_finite"),
        ('{"a": 1e400}', "not_finite"),
        ('{"a": 1e308}', None),
        ('{"a": ' + "9" * 5000 + "}", "malformed_json"),
        ('{"a": 1', "malformed_json"),
        (b'{"a": "\xff"}', "malformed_json"),
    ],
)
def test_json_is_read_within_the_limits_before_any_schema(text, reason):
    if reason is None:
        validation.loads(text)
        return
    with pytest.raises(validation.PayloadUnreadable) as e:
        validation.loads(text)
    assert e.value.reason == reason
