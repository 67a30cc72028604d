"""Check MQTT payloads against the JSON Schemas shipped in ``heelraise/mqtt/schemas``.

One schema (draft 2020-12) per message type: rep, set, session, state, live,
cmd (incoming) and cmd_result. The dashboard, ``heelraise watch`` and the tests
load the same files::

    >>> from heelraise.mqtt.validation import validate
    >>> validate("state", payload_dict)          # raises PayloadInvalid naming the path
"""

from __future__ import annotations

import functools
import importlib.resources
import json

from heelraise.exceptions import PayloadInvalid

#: Every message type that has a schema file ``<type>.schema.json``.
TYPES = ("rep", "set", "session", "state", "live", "cmd", "cmd_result")


def load_schema(type_: str) -> dict:
    """The schema of one message type as a dict."""
    if type_ not in TYPES:
        raise ValueError(f"unknown message type {type_!r}; known: {', '.join(TYPES)}")
    resource = importlib.resources.files("heelraise.mqtt") / "schemas" / f"{type_}.schema.json"
    return json.loads(resource.read_text(encoding="utf-8"))


@functools.cache
def validator(type_: str):
    """A compiled Draft 2020-12 validator for one message type (cached)."""
    import jsonschema

    schema = load_schema(type_)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def errors(type_: str, payload) -> list[str]:
    """Every violation as ``"<json path>: <message>"`` (empty when valid)."""
    out = []
    for e in sorted(validator(type_).iter_errors(payload), key=lambda e: list(e.absolute_path)):
        out.append(f"{_where(e)}: {e.message}")
    return out


def validate(type_: str, payload) -> None:
    """Raise :class:`~heelraise.exceptions.PayloadInvalid` for the most relevant violation."""
    import jsonschema.exceptions

    errs = list(validator(type_).iter_errors(payload))
    if errs:
        err = jsonschema.exceptions.best_match(errs)
        raise PayloadInvalid(type_, _where(err), err.message[:300])
    if type_ == "live" and len(payload["t_s"]) != len(payload["pitch_deg"]):
        raise PayloadInvalid(
            type_,
            "pitch_deg",
            f"{len(payload['pitch_deg'])} values for {len(payload['t_s'])} times",
        )


def _where(err) -> str:
    return "/".join(str(p) for p in err.absolute_path) or "(top level)"
