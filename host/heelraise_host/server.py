"""Run the dashboard: web app + live hub on uvicorn, in a background thread or in the foreground.

One job: own the listening socket and the uvicorn server. ``Dashboard`` is what
``heelraise dashboard``, ``heelraise demo`` and the tests use.

Binding to anything but loopback without a token logs a warning: the dashboard
then shows every device's training to anyone who can reach the port.

Nothing listens before :meth:`Dashboard.start`; what it will answer to is set up front:

>>> from heelraise_host.store import Store
>>> dash = Dashboard(Store(":memory:"), bind="127.0.0.1:0")   # port 0: any free port
>>> dash.allowed_hosts                    # the Host names it answers to
('localhost', '127.0.0.1', '::1', '127.0.0.1')
>>> exposure_warning("127.0.0.1", 8080, token=None) is None
True
>>> print(exposure_warning("0.0.0.0", 8080, token=None))
the dashboard listens on 0.0.0.0:8080 without a token: anyone who can reach this port sees \
every device's training data. Pass --token (or bind 127.0.0.1).

Example (needs a broker)::

    store = Store("heelraise.db")
    ingest = Ingest(store, broker="127.0.0.1:1883"); ingest.start()
    dash = Dashboard(store, ingest, bind="127.0.0.1:0")   # port 0: any free port
    dash.start(); print(dash.url)                         # http://127.0.0.1:40123/
    dash.stop(); ingest.stop()
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading

from heelraise.exceptions import SettingsError

from heelraise_host.app import LOOPBACK_HOSTS, create_app
from heelraise_host.ingest import parse_hostport
from heelraise_host.livehub import LiveHub

log = logging.getLogger(__name__)

DEFAULT_BIND = "127.0.0.1:8080"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: assume it is reachable from elsewhere


def exposure_warning(host: str, port: int, token: str | None) -> str | None:
    """The warning to print when the dashboard is reachable from the network without a token."""
    if token or is_loopback(host):
        return None
    return (
        f"the dashboard listens on {host}:{port} without a token: anyone who can reach this"
        " port sees every device's training data. Pass --token (or bind 127.0.0.1)."
    )


class Dashboard:
    """The web dashboard over ``store``, fed live by ``ingest`` (optional: history only)."""

    def __init__(
        self,
        store,
        ingest=None,
        bind: str = DEFAULT_BIND,
        *,
        token: str | None = None,
        allow_hosts=(),
        poll_s: float = 0.5,
    ):
        self.host, self.port = parse_hostport(bind, 8080, "bind address")
        allow_hosts = tuple(str(h).strip().strip("[]") for h in allow_hosts)
        for name in allow_hosts:
            if not name or any(c in name for c in "/@ \t"):
                raise SettingsError(
                    f"allowed host {name!r} must be a bare host name or address, without a port"
                )
        if token is not None and not token.strip():
            raise SettingsError("token is empty; give a non-empty token or none")
        self.store = store
        self.ingest = ingest
        self.token = token
        self.hub = LiveHub(store, poll_s=poll_s)
        if ingest is not None:
            self.hub.attach(ingest)
        wildcard = self.host in ("0.0.0.0", "::", "")
        #: the Host names the dashboard answers to (see heelraise_host.app.host_allowed)
        self.allowed_hosts = (*LOOPBACK_HOSTS, *(() if wildcard else (self.host,)), *allow_hosts)
        self.app = create_app(
            store,
            self.hub,
            ingest,
            token=token,
            allowed_hosts=self.allowed_hosts,
            any_ip=wildcard,
        )
        self._server = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if host in ("0.0.0.0", "[::]"):
            host = "127.0.0.1" if host == "0.0.0.0" else "[::1]"
        return f"http://{host}:{self.port}/"

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as e:
            sock.close()
            raise SettingsError(f"cannot listen on {self.host}:{self.port}: {e.strerror}") from None
        sock.listen(128)
        sock.set_inheritable(True)
        self.port = sock.getsockname()[1]
        return sock

    def _make_server(self):
        import uvicorn

        warning = exposure_warning(self.host, self.port, self.token)
        if warning:
            log.warning("%s", warning)
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=2,
            access_log=False,
        )
        return uvicorn.Server(config)

    def start(self, timeout_s: float = 10.0) -> Dashboard:
        """Serve from a background thread; returns once the server accepts connections."""
        self._sock = self._bind()
        self._server = self._make_server()
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._sock]},
            name="heelraise-dashboard",
            daemon=True,
        )
        self._thread.start()
        for _ in range(int(timeout_s / 0.02)):
            if self._server.started or not self._thread.is_alive():
                break
            self._thread.join(0.02)
        if not self._server.started:
            self.stop()
            raise SettingsError(f"the dashboard did not start on {self.url} within {timeout_s} s")
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until Ctrl-C (uvicorn handles the signals)."""
        self._sock = self._bind()
        self._server = self._make_server()
        try:
            self._server.run(sockets=[self._sock])
        finally:
            self._sock.close()

    def stop(self, timeout_s: float = 10.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
