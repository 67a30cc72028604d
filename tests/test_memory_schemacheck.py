"""The device's command check (a small interpreter of ``cmd.schema.json``) against fastjsonschema.

The service checks the commands it is sent without loading fastjsonschema (about 1.1 MB of
its memory, ``bench/service_cpu.py``): :mod:`heelraise.protocol.schemacheck` walks the same
schema file. These tests hold it to fastjsonschema's compiled check of that file: every
payload passes or fails alike, at the same place, with the same words and the same rule.
"""

from __future__ import annotations

import copy
import random

import fastjsonschema
import pytest
from heelraise.protocol import schemacheck, validation

CMD = validation.load_schema("cmd")
COMMANDS = [e for e in CMD["properties"]["cmd"]["enum"]]


def _outcome(check, error, payload):
    """What ``check`` says of ``payload``: None, or the raised ``error``'s fields."""
    try:
        check(payload)
    except error as e:
        return (e.message, e.path, e.rule, e.value, e.definition)
    return None


def _fastjsonschema(payload):
    return _outcome(validation.validator("cmd"), fastjsonschema.JsonSchemaValueException, payload)


def _interpreted(payload):
    return _outcome(validation.check_for("cmd"), schemacheck.Violation, payload)


#: Every rule of cmd.schema.json met and broken once at least.
HANDWRITTEN = [
    {"cmd": "start_set"},
    {"cmd": "start_set", "id": "a1", "args": {"tempo": "3-0-2-1", "mode": "guided"}},
    {"cmd": "start_set", "args": {"tempo": None, "side": "left"}},
    {"cmd": "start_set", "args": {"tempo": 3}},
    {"cmd": "start_set", "args": {"mode": "fast"}},
    {"cmd": "start_set", "args": {"side": "middle"}},
    {"cmd": "start_set", "args": {"speed": 1}},
    {"cmd": "start_set", "args": []},
    {"cmd": "start_set", "args": "x"},
    {"cmd": "end_set", "args": {}},
    {"cmd": "end_set", "args": {"now": True}},
    {"cmd": "set_tempo"},
    {"cmd": "set_tempo", "args": {}},
    {"cmd": "set_tempo", "args": {"tempo": "2-1-2-0"}},
    {"cmd": "set_tempo", "args": {"tempo": "2-1-2-0", "x": 1}},
    {"cmd": "set_tempo", "args": {"tempo": False}},
    {"cmd": "start_endurance_test", "args": {"pace_bpm": 60, "side": "right", "first": "left"}},
    {"cmd": "start_endurance_test", "args": {"pace_bpm": 4.9}},
    {"cmd": "start_endurance_test", "args": {"pace_bpm": 121}},
    {"cmd": "start_endurance_test", "args": {"pace_bpm": True}},
    {"cmd": "start_endurance_test", "args": {"pace_bpm": "60"}},
    {"cmd": "start_endurance_test", "args": {"first": "both"}},
    {"cmd": "stop_endurance_test", "args": {"a": 1, "b": 2}},
    {"cmd": "set_live", "args": {"on": True}},
    {"cmd": "set_live", "args": {"on": 1}},
    {"cmd": "set_live", "args": {}},
    {"cmd": "set_live"},
    {"cmd": "reboot"},
    {"cmd": 7},
    {"cmd": None},
    {},
    {"id": "x"},
    {"cmd": "start_set", "id": ""},
    {"cmd": "start_set", "id": "x" * 129},
    {"cmd": "start_set", "id": "x" * 128},
    {"cmd": "start_set", "id": 5},
    {"cmd": "start_set", "extra": 1, "more": 2},
    [],
    "start_set",
    None,
    3.5,
    True,
]


@pytest.mark.parametrize("payload", HANDWRITTEN, ids=repr)
def test_each_rule_is_met_and_broken_as_fastjsonschema_has_it(payload):
    assert _interpreted(payload) == _fastjsonschema(payload)


def test_random_commands_are_judged_alike():
    """Commands assembled at random from the schema's own names and some wrong ones."""
    rng = random.Random(1301)
    keys = ["id", "cmd", "args", "extra"]
    arg_keys = ["tempo", "mode", "side", "first", "pace_bpm", "on", "x"]
    values = [
        None, True, False, 0, 5, 60, 120, 121, 4.5, "", "a", "left", "right", "free",
        "guided", "3-0-2-1", "x" * 130, [], {}, [1], {"a": 1}, *COMMANDS,
    ]  # fmt: skip
    judged = {"pass": 0, "fail": 0}
    for _ in range(3000):
        payload = {}
        for k in rng.sample(keys, rng.randint(0, len(keys))):
            payload[k] = rng.choice(values)
        if rng.random() < 0.7:
            payload["cmd"] = rng.choice(COMMANDS)
        if rng.random() < 0.6:
            payload["args"] = {
                k: rng.choice(values) for k in rng.sample(arg_keys, rng.randint(0, 3))
            }
        want = _fastjsonschema(copy.deepcopy(payload))
        assert _interpreted(payload) == want, payload
        judged["fail" if want else "pass"] += 1
    assert judged["pass"] > 100 and judged["fail"] > 100  # both sides exercised


def test_the_refusal_a_device_sends_is_worded_the_same():
    """What the publisher puts in its answer (validate's where and message)."""
    for payload in HANDWRITTEN:
        if not isinstance(payload, dict):
            continue
        got = validation.errors("cmd", payload)
        try:
            validation.validator("cmd")(payload)
        except fastjsonschema.JsonSchemaValueException as e:
            assert got == [f"{validation._where(e.path)}: {validation._wording(e)}"]
        else:
            assert got == []


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"a": {"pattern": "^x"}}},
        {"$ref": "defs.schema.json#/$defs/time"},
        {"type": "integer"},
        {"additionalProperties": {"type": "string"}},
        {"allOf": [{"minItems": 1}]},
    ],
)
def test_a_schema_with_a_rule_it_does_not_check_is_refused_when_built(schema):
    with pytest.raises(ValueError, match="checked"):
        schemacheck.compile_check(schema)


def test_every_interpreted_type_builds():
    for type_ in validation.INTERPRETED:
        schemacheck.check_schema(validation.load_schema(type_))
