"""An MQTT broker for the demo: use the one already listening, or run amqtt in this process.

One job: make sure something speaks MQTT on ``host:port`` for as long as the
demo runs, and stop it again if (and only if) we started it.

Example (needs a broker, or a free port to run one on)::

    broker = ensure_broker("127.0.0.1", 1883)
    broker.embedded        # False: a mosquitto (or anything) already listened there
    broker.stop()          # stops only a broker we started

What each kind of broker is, before anything is started:

>>> ExistingBroker("127.0.0.1", 1883)
existing broker at 127.0.0.1:1883
>>> ExistingBroker("127.0.0.1", 1883).embedded
False
>>> ours = EmbeddedBroker("127.0.0.1", 18830)
>>> ours, ours.embedded, ours.running
(embedded amqtt broker at 127.0.0.1:18830, True, False)
>>> ours.stop()            # idempotent: nothing was started, nothing to stop

The embedded broker is `amqtt <https://github.com/Yakifo/amqtt>`_ (pure Python,
a dependency of heelraise) running its asyncio loop on a daemon thread, bound
to loopback only and anonymous: it is for one machine's demo, not for a
network of shoes (use mosquitto there, see docs/service.md). amqtt speaks MQTT
3.1.1 only, which is what the shoe's publisher uses; the demo's dashboard
connects with 3.1.1 too (``Ingest(protocol="3.1.1")`` in :mod:`heelraise.demo.runner`).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading

from heelraise.exceptions import DemoError

log = logging.getLogger("heelraise.demo")


def listening(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


class ExistingBroker:
    """A broker someone else runs: nothing to start or stop."""

    embedded = False

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port

    def stop(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"existing broker at {self.host}:{self.port}"


class EmbeddedBroker:
    """amqtt on ``host:port`` in a background thread; :meth:`start` returns once it accepts."""

    embedded = True

    def __init__(self, host: str = "127.0.0.1", port: int = 1883):
        self.host, self.port = host, int(port)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._broker = None
        self.running = False

    def _config(self) -> dict:
        return {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            # Only the anonymous plugin: no $SYS topics, no topic taboo, no password file.
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }

    def start(self, timeout_s: float = 10.0) -> EmbeddedBroker:
        try:
            from amqtt.broker import Broker
        except ImportError as e:  # pragma: no cover - amqtt is a dependency
            raise DemoError(
                f"no MQTT broker on {self.host}:{self.port} and amqtt is not installed"
                " (pip install amqtt, or start mosquitto)"
            ) from e
        # amqtt logs every connection at INFO; the demo's own lines are what matter.
        logging.getLogger("amqtt").setLevel(max(logging.WARNING, logging.getLogger().level))
        loop = self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=loop.run_forever, name="heelraise-demo-broker", daemon=True
        )
        self._thread.start()

        async def start():
            self._broker = Broker(self._config(), loop=loop)
            await self._broker.start()

        try:
            asyncio.run_coroutine_threadsafe(start(), loop).result(timeout_s)
        except Exception as e:
            self._stop_loop()
            raise DemoError(
                f"could not start the embedded MQTT broker on {self.host}:{self.port}: "
                f"{type(e).__name__}: {e}"
            ) from None
        self.running = True
        log.info("embedded MQTT broker (amqtt) listening on %s:%d", self.host, self.port)
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        """Shut the broker down (idempotent); its port is closed when this returns."""
        if self._loop is None:
            return
        if self._broker is not None and self.running:
            try:
                future = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop)
                future.result(timeout_s)
            except Exception as e:  # still stop the loop; the port closes with it
                log.warning("embedded broker shutdown: %s: %s", type(e).__name__, e)
        self.running = False
        self._stop_loop(timeout_s)
        log.info("embedded MQTT broker stopped")

    def _stop_loop(self, timeout_s: float = 10.0) -> None:
        loop, self._loop = self._loop, None
        if loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        if not loop.is_running():
            loop.close()

    def __repr__(self) -> str:
        return f"embedded amqtt broker at {self.host}:{self.port}"


def ensure_broker(host: str, port: int):
    """The broker already listening on ``host:port``, else a started :class:`EmbeddedBroker`."""
    if listening(host, port):
        log.info("using the MQTT broker already listening on %s:%d", host, port)
        return ExistingBroker(host, port)
    return EmbeddedBroker(host, port).start()
