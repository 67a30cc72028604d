"""The service loop: sensor reads -> signal chains -> events to the coach and the sinks.

One thread does everything that touches the signal chains: every
``read_interval_s`` (20 ms) it reads each shoe's IMU (:class:`~heelraise.service.shoe.Shoe`:
one chain per shoe, all on one clock) and runs its chain; every 5 ms while a shoe's chain
is deciding a rep (the FIFOs are read, that shoe's chain runs alone, first); it hands each
event first to the
:class:`~heelraise.service.session.Session` (sets, the endurance test), then to the
coach (so the feedback cue is not delayed by a slow sink) and then to every sink,
sends a state snapshot when it changes and, when :class:`~heelraise.service.live.LiveOutput`
says a sample is due, the live pitch. Commands from other threads (MQTT, the
button) wait in a :class:`~heelraise.service.commands.CommandQueue` and run in the
loop thread between reads.

The loop takes only its parts; :func:`heelraise.service.assemble.build_service` makes
them from a config. Everything with a clock is injected, so a test runs a simulated
hour in seconds::

    clock = ManualClock()
    service = Service([Shoe(imu, Analyzer())], sinks=[sink], clock=clock, sleep=clock.sleep)
    summary = service.run(duration_s=60.0)

Shutdown (``stop()`` from a signal handler, the end of ``duration_s``, or the
IMUs running dry) always: closes the open sets, stops the cues, publishes the
session event, closes (flushes) the sinks and closes the IMUs.
"""

from __future__ import annotations

import logging
import math
import time
from concurrent.futures import Future

from heelraise.events import GapEvent, RepEvent, SessionEvent, SessionSummary, SetEvent
from heelraise.exceptions import SettingsError
from heelraise.service.commands import CommandQueue
from heelraise.service.health import REASON_TEXT, SensorHealth
from heelraise.service.live import LiveOutput
from heelraise.service.session import HOLD, PRESS, Session, SessionPlan
from heelraise.service.shoe import Shoe
from heelraise.service.sinks import SINK_METHODS
from heelraise.symmetry import side_totals

log = logging.getLogger("heelraise.service")

READ_INTERVAL_S = 0.02
#: While a shoe's chain is deciding a rep (its lowering slowing to a stop, or the stop being
#: confirmed: ``Analyzer.deciding``) the loop reads this share of ``read_interval_s`` apart
#: (5 ms at 20 ms): the deciding samples wait a quarter as long in the FIFO; the extra reads
#: last only those 0.1-0.3 s of each rep.
DECIDING_READ_SHARE = 0.25
#: A chain that ran longer than this share of ``read_interval_s`` (5 ms at 20 ms: a fast
#: read's period) had every FIFO filling all the while: with two shoes each FIFO is read
#: again before the next chain runs, so none waits through two chains' compute (a rep's
#: deciding read takes p99 4.8 ms of CPU here, about ten times that on a Pi Zero 2 W; the
#: MPU-6050's FIFO holds 85 ms at 1 kHz).
REFETCH_AFTER_SHARE = 0.25
#: A loop that fell behind says so at once, then at most this often (with a count): a
#: sensor bus that keeps stalling must not flood the journal.
BEHIND_WARN_EVERY_S = 10.0


class Service:
    """The running product: ``shoes`` (one or two :class:`Shoe`), ``coach`` (None: no
    cues), ``sinks`` (EventSinks), ``button`` (None, or anything with ``poll() ->
    ["press" | "hold", ...]``: a press starts or ends a set, a hold starts or stops the
    endurance test), ``commands`` (the queue the MQTT publisher submits to), ``live``.

    ``clock()`` returns seconds on the same time base as the IMUs' ``t_s``
    (monotonic); ``sleep(s)`` waits (defaults ``time.monotonic`` and ``time.sleep``).
    """

    def __init__(
        self,
        shoes,
        *,
        coach=None,
        sinks=(),
        button=None,
        commands: CommandQueue | None = None,
        live: LiveOutput | None = None,
        plan: SessionPlan | None = None,
        clock=None,
        sleep=None,
        read_interval_s: float = READ_INTERVAL_S,
        stop_when_exhausted: bool = False,
        notifier=None,
        session_id: str | None = None,
    ):
        self.shoes: list[Shoe] = list(shoes)
        if not self.shoes:
            raise SettingsError("the service needs at least one shoe (sensor)")
        self.session_id = session_id
        self.coach = coach
        self.sinks = list(sinks)
        for sink in self.sinks:
            missing = [m for m in SINK_METHODS if not callable(getattr(sink, m, None))]
            if missing:
                raise SettingsError(
                    f"{type(sink).__name__} is not an EventSink: it lacks {', '.join(missing)}"
                )
        self.button = button
        self.commands = commands if commands is not None else CommandQueue()
        self.live = live if live is not None else LiveOutput()
        self.clock = clock or time.monotonic
        self._sleep = sleep or time.sleep
        if (
            isinstance(read_interval_s, bool)
            or not isinstance(read_interval_s, (int, float))
            or not 0 < read_interval_s < math.inf
        ):
            raise SettingsError(
                f"read_interval_s must be a number of seconds above 0, not {read_interval_s!r}"
            )
        self.read_interval_s = float(read_interval_s)
        #: End the run when every IMU has no more samples (``imu.finished``: replay, sim).
        self.stop_when_exhausted = stop_when_exhausted
        #: systemd's notify socket (heelraise.service.sdnotify.SystemdNotifier) or None:
        #: READY=1 once the sensors are open, WATCHDOG=1 only after reads that returned.
        self.notifier = notifier
        self.session = Session(
            self.shoes,
            emit=self._dispatch,
            coach=coach,
            live=self.live,
            plan=plan,
        )
        self.involved_side = self.session.involved_side
        #: the sensors' health and the session's holes, for the ``health`` message
        self.health = SensorHealth()
        self._stop_requested = False
        self._last_state: dict = {}  # side -> the last state sent
        self._state_keys: dict = {}  # side -> what that state was built from (_state_key)
        self._read_at: dict[int, float] = {}  # id(shoe) -> the schedule time of its last read
        self._coach_calibrated: bool | None = None
        self.coach_sensor_ok = True
        self._opened = False
        self._closed = False
        self._behind_warned_at: float | None = None  # clock() of the last "fell behind" warning
        self._behind_since = 0  # falls behind since then, not yet logged
        self._behind_worst_s = 0.0

    # --- the parts, for callers and tests ---------------------------------------------------

    @property
    def analyzer(self):
        """The first shoe's signal chain (the only one with one sensor)."""
        return self.shoes[0].analyzer

    @property
    def imu(self):
        return self.shoes[0].imu

    @property
    def sensor_t_s(self) -> float:
        return self.shoes[0].sensor_t_s

    # --- from other threads -------------------------------------------------------------------

    def submit_command(self, name: str, args: dict | None = None) -> Future:
        """Queue a command for the loop thread (:meth:`CommandQueue.submit`)."""
        return self.commands.submit(name, args)

    def press_button(self) -> None:
        """The set button was pressed (any thread): start a set, or end the open one
        (or stop the endurance test, when one runs)."""
        self.commands.submit(PRESS, {})

    def hold_button(self) -> None:
        """The set button was held (any thread): start or stop the endurance test."""
        self.commands.submit(HOLD, {})

    def stop(self) -> None:
        """Ask the loop to finish after the current read (safe from a signal handler)."""
        self._stop_requested = True

    # --- the loop -----------------------------------------------------------------------------

    def run(self, duration_s: float | None = None) -> SessionSummary:
        """Open the IMUs, loop until stopped (or ``duration_s`` of clock time), shut down."""
        try:
            self.open()
            if self.notifier is not None:
                self.notifier.ready("reading " + ", ".join(s.label for s in self.shoes))
            t0 = self.clock()
            next_read = t0
            fast = False  # this read comes DECIDING_READ_SHARE of read_interval_s after the last
            while not self._stop_requested:
                self.step(self._due(next_read, fast))
                if self.notifier is not None:
                    self.notifier.progress()  # a hung read never gets here: systemd notices
                now = self.clock()
                if duration_s is not None and now - t0 >= duration_s:
                    log.info("ran for %.1f s as asked; stopping", now - t0)
                    break
                if self.stop_when_exhausted and all(s.imu.finished for s in self.shoes):
                    log.info("the sensor stream ended; stopping")
                    break
                interval = self.next_interval_s()
                fast = interval < self.read_interval_s
                next_read += interval
                delay = next_read - now
                if delay > 0:
                    self._wait_until(next_read, now)
                elif delay < -1.0:  # fell far behind (suspend, slow bus): don't try to catch up
                    self._fell_behind(-delay, now)
                    next_read = now
                    self._read_at.clear()
        except BaseException as e:
            if not isinstance(e, KeyboardInterrupt):
                log.error("service loop failed: %s: %s", type(e).__name__, e)
            raise
        finally:
            self.close()
        return self.session_summary()

    def next_interval_s(self) -> float:
        """The wait before the next read: ``read_interval_s``, or ``DECIDING_READ_SHARE`` of
        it while a shoe is deciding a rep (its next samples may decide it)."""
        if any(shoe.deciding for shoe in self.shoes):
            return DECIDING_READ_SHARE * self.read_interval_s
        return self.read_interval_s

    def _due(self, read_s: float, fast: bool) -> list[Shoe]:
        """The shoes whose chains run at the read scheduled at ``read_s``: every shoe at a
        regular read; at a fast one (a shoe is deciding) the deciding shoes and any shoe
        whose chain last ran ``read_interval_s`` before. The others' samples wait in the
        shoe: they cannot decide a rep, and their chain would run before the next fast
        read's. (The reads keep one grid for all shoes, as with one: every FIFO is read at
        the same instants as when every chain ran at every read, so the FIFOs' sample stamps,
        taken from when their level is read, and with them every rep, are the same.)"""
        if fast:
            due = [
                shoe
                for shoe in self.shoes
                if shoe.deciding
                or read_s - self._read_at.get(id(shoe), -math.inf) >= self.read_interval_s - 1e-9
            ]
        else:
            due = self.shoes
        for shoe in due:
            self._read_at[id(shoe)] = read_s
        return due

    def _wait_until(self, t_s: float, now: float) -> None:
        """Sleep until clock ``t_s``, ticking the cues on the way at each change of their
        output (a pattern's next step): a rep's feedback that cut another pattern sounds
        after its short gap (``FEEDBACK_GAP_S``), not at the next read, up to 20 ms later."""
        tried = -math.inf
        next_change_s = getattr(self.coach, "next_change_s", None)  # else ticked at reads only
        while next_change_s is not None:
            cue_s = next_change_s()
            if cue_s is None or cue_s >= t_s or cue_s <= tried:
                break
            tried = cue_s
            if cue_s > now:
                self._sleep(cue_s - now)
            self._safely("coach.tick", self.coach.tick, self.clock())
            now = self.clock()
        if t_s > now:
            self._sleep(t_s - now)

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

    def open(self) -> None:
        if self._opened:
            return
        for shoe in self.shoes:
            shoe.open()
            self._opened = True  # a session began: the first sensor is open
            log.info("sensor %s at %g Hz", shoe.label, shoe.imu.fs_hz)
        log.info("mode %s; tempo %s", self.session.mode, self.session.tempo or "none")
        self._publish_state(force=True)
        self._publish_health(self.clock())
        self.session.start(button=self.button is not None)

    def step(self, shoes: list[Shoe] | None = None) -> None:
        """One iteration: run queued commands, read the IMUs of ``shoes`` (default: all) and
        run their chains, tick the cues.

        The deciding shoes' chains run first (their next samples may decide a rep, which
        must not wait through another shoe's compute). Every shoe's FIFO is read at every
        step, due or not, and again after any chain that ran longer than
        ``REFETCH_AFTER_SHARE`` of ``read_interval_s``: what is read waits in the shoe for
        its chain's turn, so no FIFO fills through a chain's compute (the MPU-6050's holds
        85 ms at 1 kHz)."""
        if self.button is not None:
            for gesture in self.button.poll():
                self.commands.submit(HOLD if gesture == "hold" else PRESS, {})
        self.commands.run_some(self._execute)
        due = self.shoes if shoes is None else shoes
        order = sorted(due, key=lambda shoe: not shoe.deciding)  # stable: the deciding first
        for shoe in self.shoes:
            shoe.fetch()
        refetch_s = REFETCH_AFTER_SHARE * self.read_interval_s
        changed = False
        for shoe in order:
            started = self.clock()
            self._dispatch(shoe.process(), shoe)
            if self.live.on:
                self._maybe_live(shoe)
            changed = shoe.health_changed() is not None or changed
            if len(self.shoes) > 1 and self.clock() - started > refetch_s:
                for each in self.shoes:  # its own FIFO too: it filled through that compute
                    each.fetch()
        if changed:
            self._health_changed()
        now = self.clock()
        self.session.tick(now)
        if self.coach is not None:
            self._safely("coach.tick", self.coach.tick, now)
        self._publish_state()
        self._publish_health(now)

    def _execute(self, name: str, args: dict):
        """Run one command, every shoe's held reads fed to its chain first (a command may
        close a set or change the tempo: the chain acts on every sample read before it, as
        when each read is fed at once)."""
        for shoe in self.shoes:
            self._dispatch(shoe.hand_over(), shoe)
        return self.session.execute(name, args)

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
        self.commands.close("the service is stopping")
        for shoe in self.shoes:
            self._safely("analyzer.finish", lambda s=shoe: self._dispatch(s.finish(), s))
        self._safely("endurance stop", self.session.close)
        if self.coach is not None:
            self._safely("coach.stop", self.coach.stop)
            self._safely("coach.close", self.coach.close)
        if self.button is not None:
            self._safely("button.close", self.button.close)
        summary = self.session_summary()
        if self._opened:  # a sensor that never opened had no session
            self._publish_health(math.inf)  # the last gaps, whatever the rate limit
            session = SessionEvent(
                summary,
                t_s=self.sensor_t_s,
                endurance=self.session.endurance_result,
                gaps=self.health.gaps,
                gap_s=round(self.health.gap_s, 3),
                side=self.shoes[0].side if len(self.shoes) == 1 else None,
                sides=self.side_totals(),
                involved=self.involved_side,
            )
            for sink in self.sinks:
                self._safely(f"{type(sink).__name__}.on_event", sink.on_event, session)
        for sink in self.sinks:
            self._safely(f"{type(sink).__name__}.close", sink.close)
        for shoe in self.shoes:
            if shoe.opened:
                self._safely("imu.close", shoe.imu.close)
        if self.notifier is not None:
            self.notifier.close()
        log.info("stopped: %d reps in %d sets", summary.rep_count, len(summary.sets))

    # --- state --------------------------------------------------------------------------------

    def state(self, shoe: Shoe | None = None) -> dict:
        """One shoe's MQTT ``state`` body (default the first): which shoe (``side``), mode,
        calibration, phase, set and rep counts, tempo, its holes; ``working_side`` when
        one side counts alone (single-leg, endurance)."""
        shoe = shoe or self.shoes[0]
        st = shoe.analyzer.state
        return {
            "side": shoe.side,
            "mode": self.session.mode,
            "calibrated": bool(st.calibrated),
            "phase": str(st.phase),
            "set": int(st.set_index),
            "reps_in_set": int(st.reps_in_set),
            "rep_count": int(st.rep_count),
            "tempo": None if self.session.tempo is None else str(self.session.tempo),
            "gaps": shoe.gaps,
            "gap_s": round(shoe.gap_s, 3),
            "working_side": self.session.working_side,
        }

    def session_summary(self) -> SessionSummary:
        return SessionSummary(sets=list(self.session.sets), sample_rate_hz=self.imu.fs_hz)

    def side_totals(self) -> dict:
        """side -> :class:`~heelraise.symmetry.SideTotals` of the reps counted on each named
        shoe (none for one unnamed sensor; a resting side in single-leg mode has none)."""
        mass = self.session.body_mass_kg
        return {
            side: side_totals((r.heel_rise_mm for s in sets for r in s.reps), mass)
            for side, sets in self.session.side_sets.items()
            if side is not None
        }

    def _state_key(self, shoe: Shoe) -> tuple:
        """What :meth:`state` is built from, as it is (no conversion): the state is built
        again only when this changes (a read rarely changes it; building it every read was
        about 5% of the two-shoe service's CPU)."""
        st, session = shoe.analyzer.state, self.session
        return (
            st.calibrated, st.phase, st.set_index, st.reps_in_set, st.rep_count, session.mode,
            session.tempo, shoe.gaps, shoe.gap_s, session.working_side,
        )  # fmt: skip

    def _publish_state(self, force: bool = False) -> None:
        for shoe in self.shoes:
            key = self._state_key(shoe)
            if not force and key == self._state_keys.get(shoe.side):
                continue
            self._state_keys[shoe.side] = key
            state = self.state(shoe)
            if not force and state == self._last_state.get(shoe.side):
                continue
            self._last_state[shoe.side] = state
            for sink in self.sinks:
                self._safely(f"{type(sink).__name__}.on_state", sink.on_state, dict(state))
        calibrated = all(s.analyzer.state.calibrated for s in self.shoes)
        if self.coach is not None and (force or calibrated != self._coach_calibrated):
            self._coach_calibrated = calibrated
            state = dict(self.state(), calibrated=calibrated)  # the cues wait for every shoe
            self._safely("coach.on_state", self.coach.on_state, state)

    def _health_changed(self) -> None:
        """A shoe's sensor turned unhealthy or recovered: the ``health`` message says whether
        all are healthy (with the first unhealthy one's reason), the coach the same."""
        sick = [s for s in self.shoes if not s.sensor_ok]
        healthy = not sick
        reason = None
        if sick:
            reason = sick[0].imu.health_reason
            if len(self.shoes) > 1 and sick[0].side is not None:
                reason = f"{sick[0].side}: {REASON_TEXT.get(reason or '', reason or 'unhealthy')}"
        self.health.set_healthy(healthy, reason)
        if self.coach is not None and healthy != self.coach_sensor_ok:
            self.coach_sensor_ok = healthy
            self._safely("coach.set_sensor_ok", self.coach.set_sensor_ok, healthy)

    def _publish_health(self, now_s: float) -> None:
        """Hand a ``health`` snapshot to the sinks when it is due."""
        health = self.health.due(now_s)
        if health is None:
            return
        for sink in self.sinks:
            self._safely(f"{type(sink).__name__}.on_health", sink.on_health, dict(health))

    def _maybe_live(self, shoe: Shoe) -> None:
        st = shoe.analyzer.state
        t_s = shoe.sensor_t_s if st.t_s is None else float(st.t_s)
        if not self.live.due(t_s):
            return
        for sink in self.sinks:
            self._safely(
                f"{type(sink).__name__}.on_live",
                sink.on_live,
                t_s,
                float(st.pitch_deg),
                str(st.phase),
            )

    # --- events -------------------------------------------------------------------------------

    def _dispatch(self, events, shoe: Shoe) -> None:
        for event in events or ():
            if isinstance(event, GapEvent):
                self.health.add_gap(event.start_s, event.end_s, event.reason)
            if isinstance(event, (RepEvent, SetEvent)):
                event.side = shoe.side
                if not self.session.counts(shoe.side):
                    log.debug(
                        "%s %s not counted: the %s side works",
                        shoe.side,
                        event.kind,
                        self.session.working_side,
                    )
                    continue
            if isinstance(event, RepEvent):
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
            elif isinstance(event, SetEvent):
                log.debug(
                    "set %d ended (%s): %d reps",
                    event.summary.index,
                    event.summary.ended_by,
                    event.summary.rep_count,
                )
            self.session.on_event(event)
            if self.coach is not None:
                self._safely("coach.on_event", self.coach.on_event, event)
            for sink in self.sinks:
                self._safely(f"{type(sink).__name__}.on_event", sink.on_event, event)
            self.session.after_event(event)

    def _safely(self, what: str, fn, *args) -> None:
        """Run a coach / sink / shutdown call; a failure is logged, never fatal to the loop."""
        try:
            fn(*args)
        except Exception as e:
            log.error("%s failed: %s: %s", what, type(e).__name__, e, exc_info=True)
