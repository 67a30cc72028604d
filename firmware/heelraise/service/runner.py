"""The service loop: sensor reads -> Analyzer -> events to the coach and the sinks.

One thread does everything that touches the signal chain: it reads the IMU
every ``read_interval_s`` (20 ms), feeds the samples to the
:class:`~heelraise.chain.analyzer.Analyzer`, hands each event first to the
coach (so the feedback cue is not delayed by a slow sink) and then to every
sink, sends a state snapshot when it changes and, when live output is on, the
pitch at up to 25 Hz. Commands from other threads (MQTT, the button) are queued
with :meth:`Service.submit_command` and run in the loop thread between reads.

Everything with a clock is injected, so a test runs a simulated hour in
seconds::

    >>> clock = ManualClock()                                    # doctest: +SKIP
    >>> service = Service(config, imu=imu, coach=None, sinks=[sink],
    ...                   clock=clock, sleep=clock.sleep)      # doctest: +SKIP
    >>> summary = service.run(duration_s=60.0)                 # doctest: +SKIP

Shutdown (``stop()`` from a signal handler, the end of ``duration_s``, or the
IMU running dry) always: closes the open set, stops the cues, publishes the
session event, closes (flushes) the sinks and closes the IMU.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from concurrent.futures import Future

from heelraise.events import GapEvent, SessionEvent, SessionSummary
from heelraise.exceptions import SettingsError
from heelraise.service.endurance import EnduranceTest
from heelraise.service.health import SensorHealth
from heelraise.tempo import Tempo

log = logging.getLogger("heelraise.service")

#: Commands accepted by :meth:`Service.submit_command`, with their allowed argument names.
COMMANDS = {
    "start_set": ("tempo", "mode"),
    "end_set": (),
    "set_tempo": ("tempo",),
    "start_endurance_test": ("pace_bpm",),
    "stop_endurance_test": (),
    "set_live": ("on",),
}
LIVE_PERIOD_S = 0.04  # 25 Hz at most
#: Commands waiting for the loop, at most; more are refused at once ("busy"), so a flood
#: can never make the loop run thousands of commands between two sensor reads.
MAX_QUEUED_COMMANDS = 32
#: Commands run between two reads, at most (the rest wait for the next iteration, 20 ms).
COMMANDS_PER_STEP = 4
READ_INTERVAL_S = 0.02
#: A loop that fell behind says so at once, then at most this often (with a count): a
#: sensor bus that keeps stalling must not flood the journal.
BEHIND_WARN_EVERY_S = 10.0


class Service:
    """The running product. ``coach`` may be None (no cues); ``sinks`` any EventSinks.

    ``clock()`` returns seconds on the same time base as the IMU's ``t_s``
    (monotonic); ``sleep(s)`` waits (defaults ``time.monotonic`` and ``time.sleep``).
    """

    def __init__(
        self,
        config,
        *,
        imu,
        coach=None,
        sinks=(),
        clock=None,
        sleep=None,
        analyzer=None,
        button=None,
        read_interval_s: float = READ_INTERVAL_S,
        stop_when_exhausted: bool = False,
        notifier=None,
    ):
        self.config = config
        self.session_id: str | None = None  # set by whoever names the session (assemble)
        self.imu = imu
        self.coach = coach
        self.sinks = list(sinks)
        self.clock = clock or time.monotonic
        self._sleep = sleep or time.sleep
        if analyzer is None:
            from heelraise.chain.analyzer import Analyzer

            analyzer = Analyzer(config.analyzer_settings())
        self.analyzer = analyzer
        #: Anything with ``poll() -> ["press" | "hold", ...]`` (heelraise.cues.outputs.SetButton):
        #: a press starts or ends a set, a hold starts or stops the endurance test.
        self.button = button
        if (
            isinstance(read_interval_s, bool)
            or not isinstance(read_interval_s, (int, float))
            or not 0 < read_interval_s < math.inf
        ):
            raise SettingsError(
                f"read_interval_s must be a number of seconds above 0, not {read_interval_s!r}"
            )
        self.read_interval_s = float(read_interval_s)
        #: End the run when the IMU has no more samples (``imu.finished``: replay, sim).
        self.stop_when_exhausted = stop_when_exhausted
        #: systemd's notify socket (heelraise.service.sdnotify.SystemdNotifier) or None:
        #: READY=1 once the sensor is open, WATCHDOG=1 only after reads that returned.
        self.notifier = notifier
        self.tempo: Tempo | None = config.tempo.target
        self.guided = config.tempo.mode == "guided"
        # live samples are made when [device] live or [mqtt] live asks for them
        mqtt_live = bool(getattr(config.mqtt, "live", False)) if config.mqtt is not None else False
        self.live = bool(config.device.live) or mqtt_live
        self.sets: list = []
        self.sensor_t_s = 0.0
        self._endurance_on = False
        self._tally: EnduranceTest | None = None  # only without a coach (no pace to judge)
        self.endurance_result: dict | None = None
        self._commands: queue.SimpleQueue = queue.SimpleQueue()
        self._accepting = True
        self._accept_lock = threading.Lock()
        self._stop_requested = False
        self._last_state: dict | None = None
        self._last_live_t_s = -math.inf
        self._known_gap: tuple[float, float] | None = None
        self._sensor_ok = True
        self.health = SensorHealth()  # gaps and sensor health, for the ``health`` message
        self._opened = False
        self._closed = False
        self._behind_warned_at: float | None = None  # clock() of the last "fell behind" warning
        self._behind_since = 0  # falls behind since then, not yet logged
        self._behind_worst_s = 0.0

    # --- from other threads -------------------------------------------------------------------

    def submit_command(self, name: str, args: dict | None = None) -> Future:
        """Queue a command for the loop thread; the Future resolves to ``(ok, reason)``.

        Thread-safe and never blocks. Unknown commands and bad arguments resolve
        to ``(False, reason)``; so does anything submitted once shutdown began.
        """
        future: Future = Future()
        with self._accept_lock:
            if self._accepting and self._commands.qsize() >= MAX_QUEUED_COMMANDS:
                future.set_result(
                    (False, f"busy: {MAX_QUEUED_COMMANDS} commands already waiting; try again")
                )
                return future
            if self._accepting:
                self._commands.put((name, args, future))
                return future
        future.set_result((False, "the service is stopping"))
        return future

    def press_button(self) -> None:
        """The set button was pressed (any thread): start a set, or end the open one
        (or stop the endurance test, when one runs)."""
        self.submit_command("_toggle_set", {})

    def stop(self) -> None:
        """Ask the loop to finish after the current read (safe from a signal handler)."""
        self._stop_requested = True

    def add_sink(self, sink) -> None:
        """Add a sink before :meth:`run` (e.g. the MQTT publisher, which needs
        :meth:`submit_command` as its command handler)."""
        self.sinks.append(sink)

    # --- the loop -----------------------------------------------------------------------------

    def run(self, duration_s: float | None = None) -> SessionSummary:
        """Open the IMU, loop until stopped (or ``duration_s`` of clock time), shut down."""
        try:
            self.open()
            if self.notifier is not None:
                self.notifier.ready(f"reading {getattr(self.imu, 'name', 'the sensor')}")
            t0 = self.clock()
            next_read = t0
            while not self._stop_requested:
                self.step()
                if self.notifier is not None:
                    self.notifier.progress()  # a hung read never gets here: systemd notices
                now = self.clock()
                if duration_s is not None and now - t0 >= duration_s:
                    log.info("ran for %.1f s as asked; stopping", now - t0)
                    break
                if self.stop_when_exhausted and self._imu_done():
                    log.info("the sensor stream ended; stopping")
                    break
                next_read += self.read_interval_s
                delay = next_read - now
                if delay > 0:
                    self._sleep(delay)
                elif delay < -1.0:  # fell far behind (suspend, slow bus): don't try to catch up
                    self._fell_behind(-delay, now)
                    next_read = now
        except BaseException as e:
            if not isinstance(e, KeyboardInterrupt):
                log.error("service loop failed: %s: %s", type(e).__name__, e)
            raise
        finally:
            self.close()
        return self.session_summary()

    def _fell_behind(self, behind_s: float, now: float) -> None:
        """Warn the first time, then at most every BEHIND_WARN_EVERY_S with a count."""
        self._behind_since += 1
        self._behind_worst_s = max(self._behind_worst_s, behind_s)
        if self._behind_warned_at is None:
            log.warning(
                "loop fell %.1f s behind; skipping ahead (repeats are counted and logged at "
                "most every %g s)",
                behind_s,
                BEHIND_WARN_EVERY_S,
            )
        elif now - self._behind_warned_at >= BEHIND_WARN_EVERY_S:
            self._log_behind(now)
        else:
            return
        self._behind_warned_at = now
        self._behind_since = 0
        self._behind_worst_s = 0.0

    def _log_behind(self, now: float) -> None:
        log.warning(
            "loop fell behind %d more times in the last %.1f s (worst %.1f s); skipped ahead "
            "each time",
            self._behind_since,
            now - self._behind_warned_at,
            self._behind_worst_s,
        )

    def _imu_done(self) -> bool:
        # ReplayImu / SimImu say ``finished``; the package's ArrayImu says ``exhausted``
        return bool(getattr(self.imu, "finished", False) or getattr(self.imu, "exhausted", False))

    def open(self) -> None:
        if self._opened:
            return
        self.imu.open()
        self._opened = True
        log.info(
            "sensor %s at %g Hz; mode %s; tempo %s",
            getattr(self.imu, "name", "?"),
            getattr(self.imu, "fs_hz", float("nan")),
            self.mode,
            self.tempo or "none",
        )
        self._publish_state(force=True)
        self._publish_health(self.clock())
        if self.guided and self.button is None and self.coach is not None:
            # no button to press "start": guided mode paces from the start
            self.coach.start_guided(self.tempo)

    def step(self) -> None:
        """One iteration: run queued commands, read the IMU, process, tick the cues."""
        if self.button is not None:
            for gesture in self.button.poll():
                name = "_toggle_endurance" if gesture == "hold" else "_toggle_set"
                self.submit_command(name, {})
        self._run_commands()
        block = self.imu.read()
        if block.gap is not None:
            self._handle_gap(block.gap)
        if len(block):
            self.sensor_t_s = float(block.t_s[-1])
            self._dispatch(self.analyzer.update(block.t_s, block.acc_g, block.gyr_dps))
            if self.live:
                self._maybe_live()
        healthy = bool(getattr(self.imu, "healthy", True))
        if healthy != self._sensor_ok:
            self._sensor_ok = healthy
            if healthy:
                log.info("sensor healthy again")
            else:
                log.warning("sensor unhealthy: reads keep failing (retrying)")
            if self.coach is not None and hasattr(self.coach, "set_sensor_ok"):
                self._safely("coach.set_sensor_ok", self.coach.set_sensor_ok, healthy)
            self.health.set_healthy(healthy, getattr(self.imu, "health_reason", None))
        if self.coach is not None:
            self._safely("coach.tick", self.coach.tick, self.clock())
            self._check_endurance()
        self._publish_state()
        self._publish_health(self.clock())

    def close(self) -> None:
        """Shut down cleanly (idempotent): see the module docstring for the order."""
        if self._closed:
            return
        self._closed = True
        if self.notifier is not None:
            self.notifier.stopping()
        if self._behind_since:  # counted since the last warning: say so before stopping
            self._log_behind(self.clock())
            self._behind_since = 0
        with self._accept_lock:
            self._accepting = False
        self._run_commands(reject="the service is stopping")
        if self._opened:
            self._safely("analyzer.finish", lambda: self._dispatch(self.analyzer.finish()))
        if self._endurance_on:
            self._safely("endurance stop", self._finish_endurance, "shutdown")
        if self.coach is not None:
            self._safely("coach.stop", self.coach.stop)
            self._safely("coach.close", self.coach.close)
        if self.button is not None and hasattr(self.button, "close"):
            self._safely("button.close", self.button.close)
        summary = self.session_summary()
        if self._opened:  # a sensor that never opened had no session
            self._publish_health(math.inf)  # the last gaps, whatever the rate limit
            session = SessionEvent(summary, t_s=self.sensor_t_s, endurance=self.endurance_result)
            session.gaps, session.gap_s = self.health.gaps, round(self.health.gap_s, 3)
            for sink in self.sinks:
                self._safely(f"{type(sink).__name__}.on_event", sink.on_event, session)
        for sink in self.sinks:
            self._safely(f"{type(sink).__name__}.close", sink.close)
        if self._opened:
            self._safely("imu.close", self.imu.close)
        if self.notifier is not None:
            self.notifier.close()
        log.info("stopped: %d reps in %d sets", summary.rep_count, len(summary.sets))

    # --- state --------------------------------------------------------------------------------

    @property
    def mode(self) -> str:
        if self._endurance_on:
            return "endurance"
        return "guided" if self.guided else "free"

    def state(self) -> dict:
        """The MQTT ``state`` body: mode, calibration, phase, set and rep counts, tempo."""
        st = self.analyzer.state
        return {
            "mode": self.mode,
            "calibrated": bool(st.calibrated),
            "phase": str(st.phase),
            "set": int(st.set_index),
            "reps_in_set": int(st.reps_in_set),
            "rep_count": int(st.rep_count),
            "tempo": None if self.tempo is None else str(self.tempo),
            "gaps": self.health.gaps,
            "gap_s": round(self.health.gap_s, 3),
        }

    def session_summary(self) -> SessionSummary:
        return SessionSummary(sets=list(self.sets), sample_rate_hz=getattr(self.imu, "fs_hz", None))

    def _publish_state(self, force: bool = False) -> None:
        state = self.state()
        if not force and state == self._last_state:
            return
        self._last_state = state
        if self.coach is not None:
            self._safely("coach.on_state", self.coach.on_state, dict(state))
        for sink in self.sinks:
            self._safely(f"{type(sink).__name__}.on_state", sink.on_state, dict(state))

    def _publish_health(self, now_s: float) -> None:
        """Hand a ``health`` snapshot to the sinks that take one, when it is due."""
        health = self.health.due(now_s)
        if health is None:
            return
        for sink in self.sinks:
            if hasattr(sink, "on_health"):
                self._safely(f"{type(sink).__name__}.on_health", sink.on_health, dict(health))

    def _maybe_live(self) -> None:
        st = self.analyzer.state
        t_s = self.sensor_t_s if st.t_s is None else float(st.t_s)
        if t_s - self._last_live_t_s < LIVE_PERIOD_S:
            return
        self._last_live_t_s = t_s
        for sink in self.sinks:
            self._safely(
                f"{type(sink).__name__}.on_live",
                sink.on_live,
                t_s,
                float(st.pitch_deg),
                str(st.phase),
            )

    # --- events -------------------------------------------------------------------------------

    def _handle_gap(self, gap) -> None:
        log.warning("sensor gap %.3f-%.3f s (%s)", gap.start_s, gap.end_s, gap.reason)
        self._known_gap = (gap.start_s, gap.end_s)
        events = list(self.analyzer.mark_gap(gap.start_s, gap.end_s, gap.reason) or [])
        if not any(getattr(e, "kind", None) == "gap" for e in events):
            events.append(GapEvent(gap.start_s, gap.end_s, gap.reason, t_s=gap.end_s))
        self._dispatch(events)

    def _is_known_gap(self, event) -> bool:
        """The analyzer found again (from the timestamps) a hole the IMU already reported."""
        if self._known_gap is None or event.reason != "missing_samples":
            return False
        start_s, end_s = self._known_gap
        slack_s = 0.1
        return event.start_s <= end_s + slack_s and event.end_s >= start_s - slack_s

    def _dispatch(self, events) -> None:
        for event in events or ():
            kind = getattr(event, "kind", None)
            if kind == "gap" and self._is_known_gap(event):
                continue  # each hole is reported once, with the IMU's reason
            if kind == "gap":
                self.health.add_gap(event.start_s, event.end_s, event.reason)
            if kind == "rep":
                # debug: the console sink (stdout, which journald keeps too) prints each rep
                log.debug(
                    "rep %d of set %d: raise %.2f s top %.2f s lower %.2f s peak %.1f deg%s",
                    event.rep.index,
                    event.rep.set,
                    event.rep.raise_s,
                    event.rep.top_hold_s,
                    event.rep.lower_s,
                    event.rep.peak_deg,
                    (" faults " + ",".join(event.rep.faults)) if event.rep.faults else "",
                )
                if self._tally is not None:
                    self._tally.add_rep(event.rep)
            elif kind == "set":
                self.sets.append(event.summary)
                log.debug(
                    "set %d ended (%s): %d reps",
                    event.summary.index,
                    event.summary.ended_by,
                    event.summary.rep_count,
                )
            if self.coach is not None:
                self._safely("coach.on_event", self.coach.on_event, event)
            for sink in self.sinks:
                self._safely(f"{type(sink).__name__}.on_event", sink.on_event, event)
            if kind == "set" and self._tally is not None:
                self._finish_endurance("set_end")  # without a coach: the user stopped

    def _safely(self, what: str, fn, *args) -> None:
        """Run a coach / sink / shutdown call; a failure is logged, never fatal to the loop."""
        try:
            fn(*args)
        except Exception as e:
            log.error("%s failed: %s: %s", what, type(e).__name__, e, exc_info=True)

    # --- commands -----------------------------------------------------------------------------

    def _run_commands(self, reject: str | None = None) -> None:
        """Run up to COMMANDS_PER_STEP queued commands (all of them when rejecting)."""
        budget = None if reject is not None else COMMANDS_PER_STEP
        while budget is None or budget > 0:
            if budget is not None:
                budget -= 1
            try:
                name, args, future = self._commands.get_nowait()
            except queue.Empty:
                return
            if reject is not None:
                result = (False, reject)
            else:
                try:
                    result = self._execute(name, args)
                except Exception as e:  # a bug in a command must not kill the loop
                    log.error("command %s failed", name, exc_info=True)
                    result = (False, f"internal error: {type(e).__name__}: {e}")
            if result[0]:
                log.info("command %s %s: ok", name, args or {})
            else:
                log.warning("command %s %s refused: %s", name, args or {}, result[1])
            if not future.done():
                future.set_result(result)

    def _execute(self, name, args) -> tuple[bool, str | None]:
        if name == "_toggle_set":
            if self._endurance_on:
                return self._stop_endurance_test({})
            return self._end_set() if self.analyzer.state.set_open else self._start_set({})
        if name == "_toggle_endurance":
            if self._endurance_on:
                return self._stop_endurance_test({})
            return self._start_endurance_test({})
        if not isinstance(name, str) or name not in COMMANDS:
            return False, f"unknown command {name!r}; known: {', '.join(COMMANDS)}"
        if args is None:
            args = {}
        if not isinstance(args, dict):
            return False, f"{name}: args must be an object, not {type(args).__name__}"
        unknown = [k for k in args if k not in COMMANDS[name]]
        if unknown:
            allowed = ", ".join(COMMANDS[name]) or "none"
            return False, f"{name}: unknown argument {unknown[0]!r} (allowed: {allowed})"
        return getattr(self, f"_{name}")(args)

    def _parse_tempo(self, name, value) -> tuple[Tempo | None, str | None]:
        if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none")):
            return None, None
        if not isinstance(value, str):
            return None, f"{name}: tempo must be a string like '3-0-2-1', not {value!r}"
        try:
            return Tempo.parse(value), None
        except SettingsError as e:
            return None, f"{name}: {e}"

    def _start_set(self, args) -> tuple[bool, str | None]:
        st = self.analyzer.state
        if st.set_open:
            return False, f"set {st.set_index} is already open; end it first"
        if self._endurance_on:
            return False, "an endurance test is running"
        if "mode" in args:
            if args["mode"] not in ("free", "guided"):
                return False, f"start_set: mode must be 'free' or 'guided', not {args['mode']!r}"
        if "tempo" in args:
            tempo, err = self._parse_tempo("start_set", args["tempo"])
            if err:
                return False, err
            self._apply_tempo(tempo)
        if "mode" in args:
            self.guided = args["mode"] == "guided"
        if self.guided:
            if self.tempo is None:
                return False, "start_set: guided mode needs a tempo (set_tempo first)"
            if self.coach is not None:
                self.coach.start_guided(self.tempo)
        return True, None

    def _end_set(self, args=None) -> tuple[bool, str | None]:
        if not self.analyzer.state.set_open:
            return False, "no set is open"
        self._dispatch(self.analyzer.end_set())
        if self.guided and self.coach is not None and not self._endurance_on:
            self.coach.stop()
        return True, None

    def _set_tempo(self, args) -> tuple[bool, str | None]:
        if "tempo" not in args:
            return False, "set_tempo: needs args {'tempo': '3-0-2-1'} (or null for none)"
        tempo, err = self._parse_tempo("set_tempo", args["tempo"])
        if err:
            return False, err
        if tempo is None and self.guided:
            return False, "set_tempo: guided mode needs a tempo; switch to free mode first"
        self._apply_tempo(tempo)
        if self.guided and self.coach is not None and self.analyzer.state.set_open:
            self.coach.start_guided(tempo)
        return True, None

    def _apply_tempo(self, tempo) -> None:
        self.tempo = tempo
        self.analyzer.set_tempo(tempo)

    def _start_endurance_test(self, args) -> tuple[bool, str | None]:
        if self._endurance_on:
            return False, "an endurance test is already running"
        options = {}
        if "pace_bpm" in args:
            pace = args["pace_bpm"]
            if isinstance(pace, bool) or not isinstance(pace, (int, float)) or not 5 <= pace <= 120:
                return False, f"start_endurance_test: pace_bpm must be 5 to 120, not {pace!r}"
            options["pace_bpm"] = float(pace)
        if self.analyzer.state.set_open:
            self._dispatch(self.analyzer.end_set())
        self.endurance_result = None
        if self.coach is not None:
            # the coach paces the test and judges each rep against its beat
            self.coach.start_endurance(**options)
        else:
            self._tally = EnduranceTest(self.config.user.body_mass_kg)
        self._endurance_on = True
        return True, None

    def _stop_endurance_test(self, args) -> tuple[bool, str | None]:
        if not self._endurance_on:
            return False, "no endurance test is running"
        self._finish_endurance("command")
        if self.analyzer.state.set_open:
            self._dispatch(self.analyzer.end_set())
        return True, None

    def _finish_endurance(self, stopped_by: str) -> None:
        """Stop the test now (command, shutdown; without a coach also the set's end)."""
        self._endurance_on = False
        if self._tally is not None:
            tally, self._tally = self._tally, None
            self.endurance_result = tally.result(stopped_by)
        elif self.coach is not None:
            result = self.coach.stop()
            self.endurance_result = result or getattr(self.coach, "endurance_result", None)
        log.info("endurance test: %s", self.endurance_result)

    def _check_endurance(self) -> None:
        """The coach ends the test by itself when the pace or the height fails."""
        if self._endurance_on and self._tally is None and self.coach is not None:
            if getattr(self.coach, "mode", "endurance") != "endurance":
                self._endurance_on = False
                self.endurance_result = getattr(self.coach, "endurance_result", None)
                log.info("endurance test ended by the coach: %s", self.endurance_result)

    def _set_live(self, args) -> tuple[bool, str | None]:
        on = args.get("on")
        if not isinstance(on, bool):
            return False, f"set_live: needs args {{'on': true|false}}, not {args!r}"
        self.live = on
        self._last_live_t_s = -math.inf
        return True, None
