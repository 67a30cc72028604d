"""The whole product on one machine: broker, dashboard, and a simulated shoe running the service.

One job: put the real parts together and take them apart again, in order.

- **broker**: the one already listening on ``port``, else amqtt in this process
  (:mod:`heelraise.demo.broker`);
- **dashboard**: the host's :class:`~heelraise_host.store.Store` (in memory, or ``db``),
  :class:`~heelraise_host.ingest.Ingest` subscribed to the broker and
  :class:`~heelraise_host.server.Dashboard` serving it on ``http``;
- **shoe**: :func:`heelraise.service.assemble.assemble` with the simulated
  MPU-6050 (:class:`~heelraise.imu.sim.SimImu`: the register-level emulator
  and the real driver) playing :func:`~heelraise.demo.workout.demo_spec`, the
  real Analyzer, the Coach on gpiozero ``MockFactory`` pins drawn in the
  terminal, and the MQTT publisher, on a clock ``speed`` times real time
  (``math.inf``: a virtual clock, as fast as the CPU allows). ``pair=True``: two
  shoes (:func:`heelraise.service.assemble.sim_pair_imus`), the workout on the left,
  then a weaker right shoe.

Example (needs a broker, or a free port to run one on)::

    demo = Demo(speed=float("inf"), port=18830, http="127.0.0.1:0")
    demo.start(); print(demo.url)
    demo.play()                  # blocks until the workout has played out (or stop())
    demo.wait_delivered(10.0)    # the dashboard has stored the session event
    demo.close()                 # dashboard, ingest, broker (ours only), temp files

Nothing runs until :meth:`Demo.start`; a bad argument is refused at once:

>>> demo = Demo(speed=float("inf"), port=18830, http="127.0.0.1:0")
>>> demo.url, demo.device_id, demo.session_id        # no dashboard, no session yet
('', 'demo-shoe', None)
>>> demo.spec.sets, demo.spec.reps, demo.spec.tempo   # the workout it will play
(3, 10, '3-1-2-0')
>>> demo.close()                                      # idempotent; nothing was started
>>> Demo(speed=0)
Traceback (most recent call last):
heelraise.exceptions.DemoError: speed must be above 0, not 0

Shutdown order matters: the shoe stops first (closes its set, publishes the
session, drains its outbox), then the dashboard and its subscription, then the
broker, so nothing in flight is cut off.
"""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
import threading
import time

from heelraise.demo.broker import ensure_broker
from heelraise.demo.workout import (
    DEVICE_ID,
    PAIR_WEAKER,
    demo_config_text,
    demo_spec,
    read_interval_s,
)
from heelraise.events import GapEvent
from heelraise.exceptions import DemoError, HeelraiseError
from heelraise.service.sinks import EventSink

log = logging.getLogger("heelraise.demo")


class Demo:
    """See the module docstring. Attributes after :meth:`start`: ``broker``, ``store``,
    ``ingest``, ``dashboard``, ``parts`` (the service :class:`Assembly`), ``sim_imu``."""

    def __init__(
        self,
        *,
        speed: float = 1.0,
        port: int = 1883,
        http: str = "127.0.0.1:8080",
        broker_host: str = "127.0.0.1",
        db: str = ":memory:",
        spec=None,
        stdout=None,
        render_cues: bool = True,
        subscribe_timeout_s: float = 15.0,
        pair: bool = False,
    ):
        if not speed > 0:
            raise DemoError(f"speed must be above 0, not {speed!r}")
        self.speed = float(speed)
        self.port = int(port)
        self.http = http
        self.broker_host = broker_host
        self.db = db
        self.spec = spec if spec is not None else demo_spec()
        #: two shoes (the left playing ``spec``, then the weaker right one), or one
        self.pair = bool(pair)
        self.sim_imus: dict = {}  # side -> SimImu with two shoes
        self.stdout = stdout if stdout is not None else sys.stdout
        self.render_cues = render_cues
        self.subscribe_timeout_s = subscribe_timeout_s
        self.broker = self.store = self.ingest = self.dashboard = None
        self.parts = None
        self.sim_imu = None
        self.summary = None  # the service's SessionSummary once play() returned
        self.play_wall_s: float | None = None
        self.gaps: list = []
        self._workdir: str | None = None
        self._stop = threading.Event()
        self._closed = False

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self.dashboard.url if self.dashboard is not None else ""

    @property
    def device_id(self) -> str:
        return DEVICE_ID

    @property
    def session_id(self) -> str | None:
        return None if self.parts is None else self.parts.session_id

    def session_url(self) -> str:
        from urllib.parse import urlencode

        query = urlencode({"device": self.device_id, "session": self.session_id})
        return f"{self.url}history?{query}"

    def start(self) -> Demo:
        """Broker, dashboard (subscribed before the shoe says a word), then the shoe."""
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def _start(self) -> None:
        try:
            from heelraise_host.ingest import Ingest, IngestError
            from heelraise_host.server import Dashboard
            from heelraise_host.store import Store
        except ImportError as e:
            raise DemoError(
                f"the dashboard's packages are missing ({e.name}): pip install 'heelraise[host]'"
            ) from None

        self.broker = ensure_broker(self.broker_host, self.port)
        self.store = Store(self.db)
        # MQTT 3.1.1: amqtt speaks nothing else and a running mosquitto takes it too; the
        # demo needs neither shared subscriptions nor a persistent session.
        self.ingest = Ingest(
            self.store,
            broker=f"{self.broker_host}:{self.port}",
            protocol="3.1.1",
        )
        try:
            self.ingest.start(timeout_s=self.subscribe_timeout_s)
        except IngestError as e:
            what = "the embedded broker" if self.broker.embedded else "what listens there"
            raise DemoError(
                f"the dashboard could not subscribe at {self.broker_host}:{self.port} ({e});"
                f" is {what} an MQTT broker? Choose another --port"
            ) from None
        self.dashboard = Dashboard(self.store, self.ingest, bind=self.http).start()
        self._workdir = tempfile.mkdtemp(prefix="heelraise-demo-")
        self.parts = self._assemble()

    def _assemble(self):
        from gpiozero.pins.mock import MockFactory, MockPWMPin

        from heelraise.imu.sim import SimImu
        from heelraise.service.assemble import assemble, make_clock, sim_pair_imus
        from heelraise.service.config import parse_config
        from heelraise.sim.pair import PairSpec

        config = parse_config(
            demo_config_text(
                port=self.port,
                host=self.broker_host,
                outbox_path=f"{self._workdir}/outbox.sqlite",
                pair=self.pair,
            ),
            "<demo config>",
        )
        clock, sleep = make_clock(self.speed)
        spec = self.spec
        imus = None
        if self.pair:
            pair_spec = PairSpec(spec, weaker=PAIR_WEAKER)
            self.sim_imus = sim_pair_imus(config, clock=clock, sleep=sleep, spec=pair_spec)
            self.sim_imu = self.sim_imus["left"]
            imus = list(self.sim_imus.items())
        else:
            options = {k: getattr(spec, k) for k in spec.__dataclass_fields__ if k != "seed"}
            self.sim_imu = SimImu(
                fs_hz=float(config.sensor.rate_hz),
                clock=clock,
                sleep=sleep,
                seed=spec.seed,
                session_options=options,
            )
        parts = assemble(
            config,
            imu=None if self.pair else self.sim_imu,
            imus=imus,
            clock=clock,
            sleep=sleep,
            stdout=self.stdout,
            pin_factory=MockFactory(pin_class=MockPWMPin),
            render_cues=self.render_cues,
            read_interval_s=read_interval_s(self.speed),
            stop_when_exhausted=True,
            extra_sinks=[_GapCounter(self.gaps)],
        )
        return parts

    def play(self):
        """Run the shoe's service loop until the workout has played out or :meth:`stop`.

        Blocks; returns the service's SessionSummary. The service closes its set,
        publishes the session event and drains the MQTT outbox before returning.
        """
        if self.parts is None:
            raise DemoError("play() before start()")
        t0 = time.monotonic()
        if self._stop.is_set():
            self.parts.service.stop()
        self.summary = self.parts.service.run()
        self.play_wall_s = time.monotonic() - t0
        return self.summary

    @property
    def workout_finished(self) -> bool:
        """The whole simulated session was played (not cut short by stop())."""
        imus = list(self.sim_imus.values()) or [self.sim_imu]
        return all(imu is not None and imu.finished for imu in imus)

    def stop(self) -> None:
        """Ask everything to wind down (safe from a signal handler or another thread)."""
        self._stop.set()
        if self.parts is not None:
            self.parts.service.stop()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def wait_stop(self, timeout_s: float | None = None) -> bool:
        """Wait until :meth:`stop` (True) or ``timeout_s`` passed (False)."""
        return self._stop.wait(timeout_s)

    def stored(self) -> dict | None:
        """The dashboard's view of this session (``Store.session_detail``), or None yet."""
        if self.store is None or self.session_id is None:
            return None
        return self.store.session_detail(self.device_id, self.session_id)

    def wait_delivered(self, timeout_s: float = 10.0) -> bool:
        """Poll (bounded) until the dashboard stored this session's ``session`` event."""
        deadline = time.monotonic() + timeout_s
        while True:
            detail = self.stored()
            if detail is not None and detail.get("summary") is not None:
                return True
            if time.monotonic() >= deadline or self._stop.is_set():
                return False
            time.sleep(0.05)

    def close(self) -> None:
        """Stop the shoe (if still running), the dashboard, the ingest, our broker; idempotent."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self.parts is not None:
            # never ran: still release the pins, flush and disconnect the publisher
            _quietly("service close", self.parts.service.close)
        if self.dashboard is not None:
            _quietly("dashboard stop", self.dashboard.stop)
        if self.ingest is not None:
            _quietly("ingest stop", self.ingest.stop)
        if self.store is not None:
            _quietly("store close", self.store.close)
        if self.broker is not None:
            _quietly("broker stop", self.broker.stop)
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self) -> Demo:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


class _GapCounter(EventSink):
    """An EventSink that only remembers sensor gaps (for the summary)."""

    def __init__(self, gaps: list):
        self.gaps = gaps

    def on_event(self, event) -> None:
        if isinstance(event, GapEvent):
            self.gaps.append(event)


def _quietly(what: str, fn) -> None:
    try:
        fn()
    except (HeelraiseError, OSError, RuntimeError) as e:
        log.warning("%s: %s: %s", what, type(e).__name__, e)


__all__ = ["Demo"]
