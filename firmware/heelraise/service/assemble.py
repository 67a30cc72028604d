"""Put the service together from a config: clock, IMU, cues, button, sinks, MQTT.

This is the only place that decides which real or fake part goes where;
:class:`~heelraise.service.runner.Service` just uses what it is given.

Pins: on a Raspberry Pi (or whenever ``GPIOZERO_PIN_FACTORY`` is set, e.g.
``lgpio`` on a Pi 5) gpiozero's own default factory drives the real GPIOs;
anywhere else gpiozero's ``MockFactory`` stands in, so ``heelraise run --imu
sim`` works on a laptop with the cues drawn in the terminal.

Clocks: ``speed=1`` is real time (``time.monotonic``); ``speed=X`` runs a
clock X times faster than real time (for ``--imu sim`` and replays);
``speed=math.inf`` runs a virtual clock that jumps over every sleep, as fast
as the CPU allows.
"""

from __future__ import annotations

import logging
import math
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from heelraise.chain.analyzer import Analyzer
from heelraise.clock import ManualClock, ScaledClock
from heelraise.cues.gpio import gpiozero_module
from heelraise.deferred import defer_numpy_ma
from heelraise.exceptions import ConfigError, OutboxError
from heelraise.imu.fifo_imu import STUCK_AFTER_S
from heelraise.service.commands import CommandQueue
from heelraise.service.heaptrim import HeapTrimSink
from heelraise.service.live import LiveOutput
from heelraise.service.runner import READ_INTERVAL_S, Service
from heelraise.service.sdnotify import SystemdNotifier
from heelraise.service.session import SessionPlan
from heelraise.service.shoe import Shoe
from heelraise.service.sinks import ConsoleSink, JsonLinesSink

log = logging.getLogger("heelraise.service")


def make_clock(speed: float = 1.0):
    """``(clock, sleep)`` for a speed factor; ``math.inf`` gives a virtual clock."""
    if speed == 1.0:
        return time.monotonic, time.sleep
    if math.isinf(speed):
        clock = ManualClock(time.monotonic())
        return clock, clock.sleep
    if not speed > 0:
        raise ConfigError(f"speed must be above 0, not {speed!r}")
    clock = ScaledClock(speed)
    return clock, clock.sleep


def on_raspberry_pi() -> bool:
    try:
        with open("/proc/device-tree/model", "rb") as f:
            return b"Raspberry Pi" in f.read()
    except OSError:
        return False


def pick_pin_factory():
    """None (gpiozero's default: lgpio on a Pi 5) on a Pi or when GPIOZERO_PIN_FACTORY is
    set; gpiozero's MockFactory (with PWM) anywhere else."""
    if os.environ.get("GPIOZERO_PIN_FACTORY") or on_raspberry_pi():
        return None
    MockFactory = gpiozero_module("gpiozero.pins.mock").MockFactory

    log.info("not on a Raspberry Pi: cues drive gpiozero's MockFactory pins")
    return MockFactory(pin_class=_recent_states_pin())


#: How many state changes a stand-in pin of :func:`pick_pin_factory` keeps: a mock pin records
#: every change (a test's history); the service only ever looks at the pin's present state,
#: so a session's hours of cues would otherwise grow its memory (about 1 MB an hour).
MOCK_PIN_STATES = 256


def _recent_states_pin():
    """gpiozero's ``MockPWMPin`` keeping only its last :data:`MOCK_PIN_STATES` states."""
    import collections

    MockPWMPin = gpiozero_module("gpiozero.pins.mock").MockPWMPin

    class RecentStatesPWMPin(MockPWMPin):
        def clear_states(self):
            super().clear_states()
            self.states = collections.deque(self.states, MOCK_PIN_STATES)

    return RecentStatesPWMPin


def new_session_id(now=None) -> str:
    """A readable, unique session id: ``20261124T031500Z-1a2b3c``."""
    now = now or datetime.now(UTC)
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def imu_options(config, kind: str, *, clock, sleep, sensor=None) -> dict:
    """Keyword arguments for ``heelraise.imu.factory.open_imu(kind, ...)`` from a sensor's
    table (``sensor``; default ``[sensor]``, the first one).

    The clock handed over already runs at the requested speed, so the IMU's own
    ``speed`` stays 1: sensor time, the loop's clock and the coach's clock are
    then one time base (the coach judges the endurance pace on it).
    """
    s = sensor or config.sensor
    options = {"clock": clock, "sleep": sleep}
    if kind in ("mpu6050", "lsm6ds"):
        options.update(
            bus=s.bus,
            address=s.address,
            fs_hz=float(s.rate_hz),
            accel_range_g=s.accel_range_g,
            gyro_range_dps=s.gyro_range_dps,
        )
    elif kind == "sim":
        options.update(fs_hz=float(s.rate_hz))
    return options


def open_imu(config, kind: str, *, clock, sleep, sensor=None):
    from heelraise.imu.factory import open_imu as factory

    return factory(kind, **imu_options(config, kind, clock=clock, sleep=sleep, sensor=sensor))


#: ``--imu sim`` with two shoes: the simulated pair's workout (each side's reps per set).
SIM_PAIR_SETS, SIM_PAIR_REPS = 2, 10


def sim_pair_imus(config, *, clock, sleep, seed: int = 0, spec=None) -> dict:
    """side -> SimImu of a simulated pair (:mod:`heelraise.sim.pair`): two independent
    sensors (own mounting, biases, noise and oscillator error), the ``order[0]`` side
    working first while the other shoe stands, the weaker side ([user] involved_side,
    else the right) making fewer and lower raises."""
    from heelraise.imu.sim import SimImu
    from heelraise.sim.pair import PairSpec, simulate_pair
    from heelraise.sim.session import SessionSpec

    if spec is None:
        weaker = config.user.involved_side or "right"
        session = SessionSpec(sets=SIM_PAIR_SETS, reps=SIM_PAIR_REPS, seed=seed)
        spec = PairSpec(session, weaker=weaker)
    pair = simulate_pair(spec)
    sensors = {s.side: s for s in config.shoe_sensors}
    imus = {}
    for i, side in enumerate(("left", "right")):
        drift_ppm = pair.sides[side].spec.clock_drift_ppm  # its oscillator's own error
        imu = SimImu(
            pair.sides[side].motion,
            fs_hz=float(sensors.get(side, config.sensor).rate_hz),
            clock=clock,
            sleep=sleep,
            seed=spec.session.seed * 2 + i + 1,  # each chip its own noise
            rate_error=float(drift_ppm) * 1e-6,
            gyr_bias_dps=((0.4, -0.25, 0.15), (-0.3, 0.2, 0.35))[i],
            stuck_after_s=STUCK_AFTER_S,
        )
        imu.session = pair.sides[side]  # the ground truth, in its own time base
        imu.name = f"simulated MPU-6050 (emulator, {side} shoe)"
        imus[side] = imu
    return imus


def open_imus(config, kind: str | None = None, *, clock, sleep) -> list:
    """``[(side, imu), ...]``: one IMU per shoe in the config (``kind`` overrides every
    sensor's type, e.g. ``--imu sim``; two simulated shoes are a simulated pair)."""
    sensors = config.shoe_sensors
    if len(sensors) == 1:
        s = sensors[0]
        return [(s.side, open_imu(config, kind or s.imu_kind, clock=clock, sleep=sleep, sensor=s))]
    kinds = [kind or s.imu_kind for s in sensors]
    if all(k == "sim" for k in kinds):
        imus = sim_pair_imus(config, clock=clock, sleep=sleep)
        return [(s.side, imus[s.side]) for s in sensors]
    if kind is not None and kind.startswith("replay:"):
        raise ConfigError(
            f"--imu {kind}: one recording is one shoe; the config names two "
            "([sensor.left] / [sensor.right]): give each its replay_file there"
        )
    return [
        (s.side, open_imu(config, k, clock=clock, sleep=sleep, sensor=s))
        for s, k in zip(sensors, kinds, strict=True)
    ]


def live_output(config) -> LiveOutput:
    """The live stream as ``[mqtt]`` asks for it (off without MQTT: nothing would carry it)."""
    if config.mqtt is None:
        return LiveOutput()
    return LiveOutput(on=config.mqtt.live, rate_hz=config.mqtt.live_hz)


def build_service(config, *, imu=None, imus=None, analyzer=None, **loop) -> Service:
    """The service loop for ``config`` around the parts given: ``imu`` (one sensor, its
    side from ``[sensor] side``) or ``imus`` (``[(side, imu), ...]``, one chain each).

    ``loop``: the loop's own keywords (``coach``, ``sinks``, ``button``, ``commands``,
    ``clock``, ``sleep``, ``read_interval_s``, ``stop_when_exhausted``, ``notifier``,
    ``session_id``), handed to :class:`~heelraise.service.runner.Service` as they are:
    their defaults live there, once. The config gives the shoes, the live output and
    the session's plan.
    """
    if (imu is None) == (imus is None):
        raise ConfigError("build_service needs imu (one sensor) or imus (one per shoe)")
    if imus is None:
        imus = [(config.sensor.side, imu)]
    if analyzer is not None and len(imus) != 1:
        raise ConfigError("an analyzer can be given for one sensor only")
    # keep_sets=False: the session keeps each set's totals (SetSummary.kept), not the
    # analyzer its whole reps
    shoes = [
        Shoe(i, analyzer or Analyzer(config.analyzer_settings(), keep_sets=False), side)
        for side, i in imus
    ]
    plan = SessionPlan(
        tempo=config.tempo.target,
        guided=config.tempo.mode == "guided",
        body_mass_kg=config.user.body_mass_kg,
        pace_tolerance_s=config.cues.pace_tolerance_s,
        involved_side=config.user.involved_side,
        single_leg=config.user.single_leg,
    )
    return Service(shoes, live=live_output(config), plan=plan, **loop)


@dataclass
class Assembly:
    """Everything :func:`assemble` made, so the caller (and tests) can reach each part."""

    service: Service
    clock: object
    sleep: object
    session_id: str
    coach: object = None
    button: object = None
    publisher: object = None
    pin_factory: object = None
    extra: dict = field(default_factory=dict)


def assemble(
    config,
    *,
    imu_kind: str | None = None,
    speed: float | None = None,
    json_lines: bool = False,
    stdout=None,
    imu=None,
    imus=None,
    clock=None,
    sleep=None,
    pin_factory="auto",
    cues: bool = True,
    render_cues: bool | None = None,
    mqtt_client_factory=None,
    read_interval_s: float = READ_INTERVAL_S,
    stop_when_exhausted: bool = False,
    extra_sinks=(),
) -> Assembly:
    """Build the service for ``config`` (``imu_kind`` / ``speed`` override [sensor]).

    ``read_interval_s`` is the loop's period on ``clock`` (sensor seconds): 20 ms on a
    shoe; a sped-up simulation reads less often so the loop keeps near 50 Hz of wall time.
    ``stop_when_exhausted``: end the run when the sensor stream ends (replay, sim).
    ``extra_sinks`` are handed every event after the console and MQTT ones.

    Wiring goes one way: the command queue first, then the cues and the sinks (the MQTT
    publisher answers commands through the queue), the service last, from all of them.
    """
    defer_numpy_ma()  # before the first np.unique or np.median (the replay's first block)
    kind = imu_kind or config.sensor.imu_kind
    if speed is None:
        speed = config.sensor.replay_speed if kind.startswith("replay:") else 1.0
    if clock is None:
        clock, default_sleep = make_clock(speed)
        sleep = sleep or default_sleep
    session_id = new_session_id()
    if imu is None and imus is None:
        imus = open_imus(config, imu_kind, clock=clock, sleep=sleep)

    sinks = [JsonLinesSink(stdout) if json_lines else ConsoleSink(stdout)]

    coach = button = None
    if pin_factory == "auto":
        pin_factory = pick_pin_factory() if cues else None
    if cues:
        coach, button = _cues(config, pin_factory, clock, stdout, json_lines, render_cues)

    commands = CommandQueue()
    publisher = None
    try:
        if config.mqtt is not None:
            publisher = _publisher(config, session_id, commands, mqtt_client_factory, sinks)
        sinks += list(extra_sinks)
        sinks.append(HeapTrimSink())  # last: after every other sink has had the set
        service = build_service(
            config,
            imu=imu,
            imus=imus,
            coach=coach,
            sinks=sinks,
            button=button,
            commands=commands,
            clock=clock,
            sleep=sleep,
            read_interval_s=read_interval_s,
            stop_when_exhausted=stop_when_exhausted,
            notifier=SystemdNotifier.from_env(),
            session_id=session_id,
        )
    except BaseException:
        for part in (button, coach):
            if part is not None:
                part.close()
        raise
    return Assembly(
        service=service,
        clock=clock,
        sleep=sleep,
        session_id=session_id,
        coach=coach,
        button=button,
        publisher=publisher,
        pin_factory=pin_factory,
    )


def _cues(config, pin_factory, clock, stdout, json_lines, render_cues):
    """The coach (with the terminal's cue line when asked) and the set button."""
    from heelraise.cues.coach import Coach

    on_output = None
    if render_cues is None:
        render_cues = pin_factory is not None and not json_lines and _isatty(stdout)
    if render_cues:
        from heelraise.cues.render import CueConsole

        on_output = CueConsole(stdout, passive=config.pins.buzzer_kind == "passive")
    coach = Coach(
        config.pins.pin_map(),
        config.cues,
        pin_factory=pin_factory,
        clock=clock,
        on_output=on_output,
    )
    if on_output is not None:
        on_output.coach = coach
    button = None
    if config.pins.button is not None:
        from heelraise.cues.outputs import SetButton

        try:
            button = SetButton(
                config.pins.button,
                pin_factory=pin_factory,
                clock=clock,
                hold_s=config.cues.button_hold_s,
            )
        except BaseException:
            coach.close()
            raise
    return coach, button


def _publisher(config, session_id, commands, mqtt_client_factory, sinks):
    """The MQTT publisher (answering commands through ``commands``) and the session journal,
    appended to ``sinks`` in their order: journal (reps), publisher, journal (closes).
    SQLite (the outbox, the journal) is imported here: a config without MQTT never loads it."""
    import sqlite3

    from heelraise.mqtt.publisher import MqttPublisher
    from heelraise.service.journal import Journal, JournalSink, close_interrupted

    kwargs = {}
    if mqtt_client_factory is not None:
        kwargs["client_factory"] = mqtt_client_factory
    publisher = MqttPublisher(
        config.mqtt,
        device_id=config.device.id,
        session_id=session_id,
        command_handler=commands.submit,
        # Home Assistant's per-side entities, for each named shoe
        sides=tuple(s.side for s in config.shoe_sensors if s.side is not None),
        **kwargs,
    )
    # the session journal shares the outbox's file; an unclean stop's set and session are
    # closed from it (into the outbox) before this session starts
    journal = None
    try:
        journal = Journal(publisher.outbox.path)
        close_interrupted(
            journal,
            publisher.outbox,
            config.mqtt.prefix,
            config.mqtt.qos,
            body_mass_kg=config.user.body_mass_kg,
        )
    except (OutboxError, sqlite3.Error) as e:
        log.error(
            "session journal in %s unusable (%s): an unclean stop will leave this session open",
            publisher.outbox.path,
            e,
        )
        if journal is not None:
            journal.close()
        journal = None
    if journal is not None:
        sinks.append(JournalSink(journal, session_id, config.device.id, role="reps"))
    sinks.append(publisher)
    if journal is not None:
        sinks.append(JournalSink(journal, session_id, config.device.id, role="closes"))
    return publisher


def _isatty(stream) -> bool:
    import sys

    stream = stream if stream is not None else sys.stdout
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
