"""The service's commands: the one table of their rules, the check, and the queue to the loop.

:data:`COMMANDS` is the only place a command's arguments and their limits are
written. :func:`check` applies it (the service runs nothing it refuses), and
:func:`args_schema` turns the same table into the ``allOf`` part of
``cmd.schema.json`` that the MQTT publisher checks incoming commands against
(``tests/test_service_commands.py`` holds the shipped schema equal to it), so
both ends refuse the same commands with the same limits::

    >>> check("start_endurance_test", {"pace_bpm": 200})
    (None, "start_endurance_test: 'pace_bpm' must be a number from 5 to 120, not 200")
    >>> check("set_tempo", {"tempo": "3-0-2-1"})[0]["tempo"]
    Tempo(lower_s=3.0, bottom_s=0.0, raise_s=2.0, top_s=1.0)
    >>> check("end_set", {"now": 1})
    (None, "end_set: unknown argument 'now' (allowed: none)")

Commands from other threads (MQTT, the button) go through a :class:`CommandQueue`:
``submit`` never blocks and answers a Future with ``(ok, reason)``; the loop thread
takes a few each step (:data:`COMMANDS_PER_STEP`) and answers each.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from heelraise.exceptions import SettingsError
from heelraise.symmetry import SIDES
from heelraise.tempo import Tempo

log = logging.getLogger("heelraise.service")

#: Commands waiting for the loop, at most; more are refused at once ("busy"), so a flood
#: can never make the loop run thousands of commands between two sensor reads.
MAX_QUEUED_COMMANDS = 32
#: Commands run between two reads, at most (the rest wait for the next iteration, 20 ms).
COMMANDS_PER_STEP = 4


@dataclass(frozen=True)
class Arg:
    """One argument of a command: ``kind`` is "tempo" (a string like "3-0-2-1", or
    null/"none" for no tempo), "choice" (one of ``choices``), "number" (``minimum`` to
    ``maximum``) or "bool"."""

    name: str
    kind: str
    required: bool = False
    choices: tuple = ()
    minimum: float | None = None
    maximum: float | None = None
    why: str = ""


#: Every command with its arguments: the one home of their rules.
COMMANDS: dict[str, tuple[Arg, ...]] = {
    "start_set": (
        Arg("tempo", "tempo", why="the target tempo for this set (null: none)"),
        Arg("mode", "choice", choices=("free", "guided"), why="guided: the metronome leads"),
        Arg("side", "choice", choices=SIDES, why="single-leg set: count this shoe only"),
    ),
    "end_set": (),
    "set_tempo": (Arg("tempo", "tempo", required=True, why="the target tempo (null: none)"),),
    "start_endurance_test": (
        Arg(
            "pace_bpm",
            "number",
            minimum=5,
            maximum=120,
            why="metronome beats a minute; 60 is the clinical test's pace, and at 120 a "
            "rep is due every second, as fast as a full heel raise goes",
        ),
        Arg("side", "choice", choices=SIDES, why="test this shoe only"),
        Arg("first", "choice", choices=SIDES, why="two shoes: the side tested first"),
    ),
    "stop_endurance_test": (),
    "set_live": (Arg("on", "bool", required=True, why="live pitch stream on or off"),),
}


def check(name, args) -> tuple[dict | None, str | None]:
    """``(parsed args, None)`` when the command obeys :data:`COMMANDS`, else ``(None, why)``.

    A tempo comes back as a :class:`~heelraise.tempo.Tempo` (or None), a number as a float.
    """
    if not isinstance(name, str) or name not in COMMANDS:
        return None, f"unknown command {name!r}; known: {', '.join(COMMANDS)}"
    if args is None:
        args = {}
    if not isinstance(args, dict):
        return None, f"{name}: args must be an object, not {type(args).__name__}"
    rules = {a.name: a for a in COMMANDS[name]}
    for key in args:
        if key not in rules:
            allowed = ", ".join(rules) or "none"
            return None, f"{name}: unknown argument {key!r} (allowed: {allowed})"
    out = {}
    for arg in COMMANDS[name]:
        if arg.name not in args:
            if arg.required:
                return None, f"{name}: needs argument {arg.name!r} ({arg.why})"
            continue
        value, err = _parse(arg, args[arg.name])
        if err:
            return None, f"{name}: {arg.name!r} {err}"
        out[arg.name] = value
    return out, None


def _parse(arg: Arg, value):
    if arg.kind == "tempo":
        if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none")):
            return None, None
        if not isinstance(value, str):
            return None, f"must be a string like '3-0-2-1' or null, not {value!r}"
        try:
            return Tempo.parse(value), None
        except SettingsError as e:
            return None, f"is not a tempo: {e}"
    if arg.kind == "choice":
        if value not in arg.choices:
            return None, f"must be {' or '.join(map(repr, arg.choices))}, not {value!r}"
        return value, None
    if arg.kind == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok or not arg.minimum <= value <= arg.maximum:
            return None, f"must be a number from {arg.minimum:g} to {arg.maximum:g}, not {value!r}"
        return float(value), None
    if arg.kind == "bool":
        if not isinstance(value, bool):
            return None, f"must be true or false, not {value!r}"
        return value, None
    raise AssertionError(f"unknown argument kind {arg.kind!r}")  # pragma: no cover


def _arg_schema(arg: Arg) -> dict:
    if arg.kind == "tempo":
        return {"type": ["string", "null"]}
    if arg.kind == "choice":
        return {"enum": list(arg.choices)}
    if arg.kind == "number":
        return {
            "type": "number",
            "minimum": arg.minimum,
            "maximum": arg.maximum,
            "description": arg.why,
        }
    return {"type": "boolean"}


def args_schema() -> list[dict]:
    """The ``allOf`` list of ``cmd.schema.json``: each command's arguments, from the table."""
    out = []
    for name, rules in COMMANDS.items():
        if rules:
            args: dict = {}
            required = [a.name for a in rules if a.required]
            if required:
                args["required"] = required
            args["properties"] = {a.name: _arg_schema(a) for a in rules}
            args["additionalProperties"] = False
        else:
            args = {"maxProperties": 0}
        then: dict = {"properties": {"args": args}}
        if any(a.required for a in rules):
            then["required"] = ["args"]
        out.append(
            {
                "if": {"properties": {"cmd": {"const": name}}, "required": ["cmd"]},
                "then": then,
            }
        )
    return out


class CommandQueue:
    """Commands from any thread to the loop thread, answered through Futures.

    ``submit`` is the command handler the MQTT publisher and the button are given;
    the loop calls :meth:`run_some` with its executor between reads and
    :meth:`close` at shutdown (everything waiting, and anything later, is refused).
    """

    def __init__(self, max_queued: int = MAX_QUEUED_COMMANDS):
        self.max_queued = int(max_queued)
        self._q: queue.SimpleQueue = queue.SimpleQueue()
        self._accepting = True
        self._lock = threading.Lock()

    def submit(self, name: str, args: dict | None = None) -> Future:
        """Queue a command; the Future resolves to ``(ok, reason)``. Never blocks."""
        future: Future = Future()
        with self._lock:
            if self._accepting and self._q.qsize() >= self.max_queued:
                future.set_result(
                    (False, f"busy: {self.max_queued} commands already waiting; try again")
                )
                return future
            if self._accepting:
                self._q.put((name, args, future))
                return future
        future.set_result((False, "the service is stopping"))
        return future

    def run_some(self, execute: Callable, budget: int | None = COMMANDS_PER_STEP) -> None:
        """Run up to ``budget`` waiting commands (all with None) through ``execute(name, args)
        -> (ok, reason)``; a command that raises is answered with the error, never fatal."""
        while budget is None or budget > 0:
            if budget is not None:
                budget -= 1
            try:
                name, args, future = self._q.get_nowait()
            except queue.Empty:
                return
            try:
                result = execute(name, args)
            except Exception as e:  # a bug in a command must not kill the loop
                log.error("command %s failed", name, exc_info=True)
                result = (False, f"internal error: {type(e).__name__}: {e}")
            _answer(name, args, future, result)

    def close(self, reason: str = "the service is stopping") -> None:
        """Stop accepting; refuse everything still waiting with ``reason``."""
        with self._lock:
            self._accepting = False
        while True:
            try:
                name, args, future = self._q.get_nowait()
            except queue.Empty:
                return
            _answer(name, args, future, (False, reason))


def _answer(name, args, future: Future, result) -> None:
    if result[0]:
        log.info("command %s %s: ok", name, args or {})
    else:
        log.warning("command %s %s refused: %s", name, args or {}, result[1])
    if not future.done():
        future.set_result(result)
