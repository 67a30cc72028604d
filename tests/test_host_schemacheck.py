"""The compiled schema check agrees with jsonschema (the reference) on every shipped schema."""

from __future__ import annotations

import copy
import json
import logging

import jsonschema
import pytest
from heelraise.exceptions import MessageRejected
from heelraise.mqtt import validation
from heelraise_host import messages
from heelraise_host.devicesim import session_messages
from heelraise_host.schemacheck import SchemaUnsupported, compile_schema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TYPES = validation.TYPES  # rep set session state live cmd cmd_result


def _reference(type_):
    return jsonschema.Draft202012Validator(validation.load_schema(type_))


def _samples() -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {t: [] for t in TYPES}
    for seed, kwargs in enumerate(
        [dict(live=True), dict(endurance=True, tempo=None), dict(faults_every=1)]
    ):
        for m in session_messages("shoe-1", f"s-{seed}", reps_per_set=[2, 1], seed=seed, **kwargs):
            if not m.topic.endswith("/status"):
                body = m.json()
                out[body["type"]].append(body)
    out["cmd"] = [
        {"id": "c1", "cmd": "start_set", "args": {"tempo": "3-0-2-1", "mode": "guided"}},
        {"id": "c2", "cmd": "end_set", "args": {}},
        {"id": "c3", "cmd": "set_tempo", "args": {"tempo": None}},
        {"id": "c4", "cmd": "start_endurance_test", "args": {"pace_bpm": 30}},
        {"id": "c5", "cmd": "set_live", "args": {"on": True}},
        {"id": "c6", "cmd": "stop_endurance_test"},
    ]
    from heelraise.mqtt import payloads

    env = payloads.Envelope("shoe-1", "sess-1", wall_clock=lambda: 1795576500.1239)
    out["cmd_result"] = [
        payloads.cmd_result_payload(env, "abc", "end_set", True, None, 3.0),
        payloads.cmd_result_payload(env, "-", None, False, "not JSON", None),
    ]
    return out


SAMPLES = _samples()
CHECKS = {t: compile_schema(validation.load_schema(t)) for t in TYPES}
REFERENCE = {t: _reference(t) for t in TYPES}


@pytest.mark.parametrize("type_", TYPES)
def test_every_shipped_schema_compiles_and_accepts_what_the_shoe_sends(type_):
    assert SAMPLES[type_], type_
    for body in SAMPLES[type_]:
        assert REFERENCE[type_].is_valid(body), body  # the samples themselves are right
        assert CHECKS[type_](body)


# JSON values chosen to sit on the edges jsonschema cares about: bool vs int, 1.0 as an
# integer, empty and long strings, nested containers, NaN and infinities.
_EDGES = st.sampled_from(
    [None, True, False, 0, 1, -1, 1.0, 1.5, -0.0, 2**70, float("nan"), float("inf"), "", "x"]
    + ["rep", "start_set", "online", "a" * 129, "2026-11-24T03:15:00.123Z", [], {}, [1, 1]]
    + [["a", "a"], {"a": 1}, "0123456789abcdef0123456789abcdef", 3, 30, -0.5]
)
_JSON = st.recursive(
    _EDGES | st.integers(-5, 200) | st.floats(allow_nan=False, width=32) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)


def _near(value):
    """Values one step from ``value`` across a boundary a schema may draw."""
    if isinstance(value, bool):
        return [int(value), not value, None]
    if isinstance(value, (int, float)):
        return [-value, value + 0.5, float(value), -1, 0, bool(value), str(value)]
    if isinstance(value, str):
        return [value + "x" * 130, "", value[:-1], value.upper(), " " + value, 1]
    if isinstance(value, list):
        return [value + value, value[:-1], [], {}]
    if isinstance(value, dict):
        return [{}, {**value, "extra": 1}, list(value)]
    return [False, 0, "", {}]


def _at(body, path):
    for p in path:
        body = body[p]
    return body


def _paths(value, here=()):
    """Every place inside a JSON value (as key/index paths), the root included."""
    yield here
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*here, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*here, i))


def _mutate(body, path, how, new, key):
    body = copy.deepcopy(body)
    if not path:
        return new if how == "replace" else body
    parent = body
    for p in path[:-1]:
        parent = parent[p]
    last = path[-1]
    if how == "replace":
        parent[last] = new
    elif how == "delete":
        del parent[last]
    elif isinstance(parent, dict):
        parent[key] = new  # "add": a new (or replaced) sibling key
    else:
        parent.append(new)
    return body


@pytest.mark.parametrize("type_", TYPES)
def test_every_single_step_mutation_gets_the_same_verdict_as_jsonschema(type_):
    checked = refused = 0
    for body in SAMPLES[type_][:6]:
        for path in list(_paths(body)):
            for how, new in [("delete", None), ("add", "x")] + [
                ("replace", v) for v in _near(_at(body, path))
            ]:
                if how == "delete" and not path:
                    continue
                mutated = _mutate(body, path, how, new, "extra")
                verdict = REFERENCE[type_].is_valid(mutated)
                assert CHECKS[type_](mutated) == verdict, (type_, path, how, new)
                checked += 1
                refused += not verdict
    assert checked > 50 and 0.2 < refused / checked < 0.95  # the sweep does reach both sides


@settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_mutated_payloads_get_the_same_verdict_as_jsonschema(data):
    type_ = data.draw(st.sampled_from(TYPES))
    mutated = data.draw(st.sampled_from(SAMPLES[type_]))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(list(_paths(mutated))))
        how = data.draw(st.sampled_from(["replace", "delete", "add"]))
        new = data.draw(st.sampled_from(_near(_at(mutated, path))) | _JSON)
        key = data.draw(st.sampled_from(["extra", "id", "rep", "faults", "tempo", "on", "mode"]))
        mutated = _mutate(mutated, path, how, new, key)
    assert CHECKS[type_](mutated) == REFERENCE[type_].is_valid(mutated), (type_, mutated)


@pytest.mark.parametrize(
    "schema, good, bad",
    [
        ({"const": 1}, [1, 1.0], [True, "1"]),
        ({"enum": [False, [1]]}, [False, [1.0]], [0, [True], 1]),
        ({"type": "integer"}, [3, 3.0, -0.0], [True, 3.5, "3", None]),
        ({"type": "number", "minimum": 0}, [0, 2.5, 10**30], [-1, True]),
        ({"minLength": 2, "maxLength": 3}, ["ab", "abc", 12345, None], ["a", "abcd", ""]),
        ({"minimum": 0, "pattern": "^a", "maxItems": 1}, ["ab", [1], {}, None, True], [-1, "b"]),
        ({"uniqueItems": True}, [[1, True], [[1], [True]], [{}, []]], [[1, 1.0], [{"a": 1}] * 2]),
        (
            {
                "$defs": {"n": {"type": "array", "items": {"$ref": "#/$defs/n"}}},
                "$ref": "#/$defs/n",
            },
            [[], [[[]]]],
            [[1], [[], [2]]],
        ),
        ({"oneOf": [{"type": "integer"}, {"minimum": 2}]}, [1, 2.5], [3]),
        (
            {"not": {"type": "string"}, "additionalProperties": {"type": "null"}},
            [{"a": None}],
            ["s"],
        ),
        ({"propertyNames": {"maxLength": 2}, "maxProperties": 1}, [{"ab": 1}], [{"abc": 1}]),
        ({"if": {"minimum": 5}, "then": {"multipleOf": 5}, "else": {"const": 1}}, [10, 1], [7, 2]),
    ],
)
def test_edge_semantics_match_jsonschema(schema, good, bad):
    check = compile_schema(schema)
    reference = jsonschema.Draft202012Validator(schema)
    for x in good:
        assert reference.is_valid(x) and check(x), x
    for x in bad:
        assert not reference.is_valid(x) and not check(x), x


@pytest.mark.parametrize(
    "schema, named",
    [
        ({"dependentRequired": {"a": ["b"]}}, "dependentRequired"),
        ({"prefixItems": [{}], "items": False}, "prefixItems"),
        ({"$ref": "other.json#/x"}, "other.json"),
        ({"properties": {"a": {"$id": "https://x.invalid/a", "$ref": "#"}}}, "$id below"),
        ({"type": "decimal"}, "decimal"),
        ({"multipleOf": 0.1}, "multipleOf"),
    ],
)
def test_anything_not_implemented_is_refused_by_name(schema, named):
    with pytest.raises(SchemaUnsupported, match=named.replace("$", r"\$")):
        compile_schema(schema)


def test_a_fast_check_too_strict_costs_nothing_jsonschema_decides(monkeypatch, caplog):
    msg = next(m for m in session_messages(reps_per_set=[1]) if m.topic.endswith("event/rep"))
    refuse_all = {t: (lambda body: False) for t in messages.validators()}
    monkeypatch.setattr(messages, "fast_checks", lambda: refuse_all)
    messages._stricter_than_jsonschema.cache_clear()
    with caplog.at_level(logging.WARNING, logger="heelraise_host.messages"):
        assert messages.parse(msg.topic, msg.payload).type == "rep"
        assert messages.parse(msg.topic, msg.payload).type == "rep"
    assert [r.getMessage() for r in caplog.records].count(
        "fast check refused a rep message that jsonschema accepts; accepting it"
    ) == 1
    messages._stricter_than_jsonschema.cache_clear()
    # ... and a truly bad one is still refused with jsonschema's words.
    bad = json.loads(msg.payload)
    bad["rep"]["raise_s"] = "slow"
    with pytest.raises(MessageRejected, match="at rep/raise_s: 'slow' is not of type"):
        messages.parse(msg.topic, json.dumps(bad).encode())
