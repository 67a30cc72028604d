"""Commands never stall the sensor loop: the queue is bounded, a few run per read."""

from __future__ import annotations

import numpy as np
import pytest
from heelraise.clock import ManualClock
from heelraise.service.assemble import build_service
from heelraise.service.commands import COMMANDS, COMMANDS_PER_STEP, MAX_QUEUED_COMMANDS
from heelraise.service.config import parse_config
from heelraise.service.testing import ArrayImu


def test_a_flood_of_commands_is_refused_busy_and_never_runs_in_one_read():
    clock = ManualClock(10.0)
    n = 500
    acc = np.zeros((n, 3))
    acc[:, 2] = 1.0
    imu = ArrayImu(np.arange(n) / 100.0, acc, np.zeros((n, 3)), clock=clock)
    service = build_service(
        parse_config(""), imu=imu, clock=clock, sleep=clock.sleep, stop_when_exhausted=True
    )
    per_step, futures = [], []
    real_execute = service.session.execute
    ran = []

    def execute(name, args):
        ran.append(name)
        return real_execute(name, args)

    service.session.execute = execute
    real_read = imu.read

    def read():
        per_step.append(len(ran))
        if not futures:  # 5,000 commands arrive at once, from another thread in real life
            futures.extend(service.submit_command("set_live", {"on": True}) for _ in range(5000))
        return real_read()

    imu.read = read
    service.run()
    results = [f.result(timeout=0) for f in futures]  # every one answered
    busy = [r for r in results if r[1] and r[1].startswith("busy: ")]
    assert len(busy) == 5000 - MAX_QUEUED_COMMANDS
    assert sum(ok for ok, _ in results) == MAX_QUEUED_COMMANDS
    steps = np.diff([0, *per_step])
    assert steps.max() <= COMMANDS_PER_STEP  # a read is never held up by more than a few


def test_the_cmd_schema_carries_the_command_table_rules():
    """One table: the schema the publisher checks is the one the table generates."""
    from heelraise.protocol.validation import load_schema
    from heelraise.service.commands import COMMANDS, args_schema

    schema = load_schema("cmd")
    assert schema["properties"]["cmd"]["enum"] == list(COMMANDS)
    assert schema["allOf"] == args_schema()


@pytest.mark.parametrize(
    "name, args",
    [
        ("start_endurance_test", {"pace_bpm": 4}),
        ("start_endurance_test", {"pace_bpm": 5}),
        ("start_endurance_test", {"pace_bpm": 120}),
        ("start_endurance_test", {"pace_bpm": 121}),
        ("start_endurance_test", {"pace_bpm": True}),
        ("set_live", {"on": 1}),
        ("set_live", {}),
        ("set_tempo", {"tempo": None}),
        ("set_tempo", {}),
        ("start_set", {"mode": "guided", "tempo": "3-0-2-1"}),
        ("start_set", {"mode": "fast"}),
        ("end_set", {}),
        ("end_set", {"now": True}),
    ],
)
def test_the_publisher_schema_and_the_service_refuse_the_same_commands(name, args):
    from heelraise.protocol.validation import errors
    from heelraise.service.commands import check

    by_schema = not errors("cmd", {"cmd": name, "args": args})
    by_table = check(name, args)[1] is None
    assert by_schema == by_table


def test_every_command_of_the_table_has_its_handler_in_the_session():
    clock = ManualClock(10.0)
    acc = np.zeros((10, 3))
    acc[:, 2] = 1.0
    imu = ArrayImu(np.arange(10) / 100.0, acc, np.zeros((10, 3)), clock=clock)
    service = build_service(parse_config(""), imu=imu, clock=clock, sleep=clock.sleep)
    assert set(service.session._handlers) == set(COMMANDS)
