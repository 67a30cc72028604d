"""The systemd notify protocol: READY=1, WATCHDOG=1, STOPPING=1 over ``$NOTIFY_SOCKET``.

With ``Type=notify`` systemd waits for ``READY=1`` (sent once the sensor is open),
and with ``WatchdogSec=`` it kills and restarts a service that stops sending
``WATCHDOG=1``. The service pings from its sensor loop, after each read has
returned, so a hung I2C read (or any other hang of the loop) stops the pings and
systemd notices. A datagram on a unix socket is the whole protocol (see
sd_notify(3)); no library is needed:

    >>> notifier = SystemdNotifier.from_env()   # disabled when $NOTIFY_SOCKET is not set
    >>> notifier.ready(); notifier.progress(); notifier.stopping()

Nothing here ever raises or blocks: a notification that cannot be sent is logged once;
one that finds the socket's queue full is dropped (the next ping follows soon).
"""

from __future__ import annotations

import logging
import os
import socket
import time

log = logging.getLogger("heelraise.service")


class SystemdNotifier:
    """Sends sd_notify messages to ``address`` (a path, or ``@name`` for an abstract socket).

    ``watchdog_s`` is systemd's watchdog period (``$WATCHDOG_USEC``) or None; a ping is
    sent at most every quarter of it (systemd's advice is "at least every half").
    ``clock`` is a monotonic clock in seconds (injectable for tests).
    """

    def __init__(self, address: str | None, *, watchdog_s: float | None = None, clock=None):
        self.address = address or None
        self.watchdog_s = watchdog_s if watchdog_s and watchdog_s > 0 else None
        self.clock = clock or time.monotonic
        self.pings = 0
        self.dropped = 0  # messages not sent because the socket's queue was full
        self._last_ping: float | None = None
        self._sock: socket.socket | None = None
        self._failed = False

    @classmethod
    def from_env(cls, environ=None, *, clock=None) -> SystemdNotifier:
        """From ``$NOTIFY_SOCKET``, ``$WATCHDOG_USEC`` and ``$WATCHDOG_PID`` (sd_notify(3))."""
        env = os.environ if environ is None else environ
        watchdog_s = None
        usec, pid = env.get("WATCHDOG_USEC"), env.get("WATCHDOG_PID")
        try:
            if usec and (not pid or int(pid) == os.getpid()):
                watchdog_s = int(usec) / 1e6
        except ValueError:
            log.warning("ignoring WATCHDOG_USEC=%r / WATCHDOG_PID=%r: not integers", usec, pid)
        return cls(env.get("NOTIFY_SOCKET"), watchdog_s=watchdog_s, clock=clock)

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def notify(self, *fields: str) -> bool:
        """Send ``KEY=value`` fields in one datagram; False (logged once) if it failed."""
        if self.address is None or self._failed:
            return False
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            # never wait: a full socket queue (systemd busy) drops this message, not the loop
            self._sock.sendto("\n".join(fields).encode("utf-8"), socket.MSG_DONTWAIT, target)
        except BlockingIOError:
            self.dropped += 1
            return False
        except OSError as e:
            self._failed = True  # systemd is gone or the socket is wrong: say it once
            log.warning("cannot notify systemd at %s: %s (no more notifications)", self.address, e)
            return False
        return True

    def ready(self, status: str | None = None) -> None:
        """The sensor is open and the loop is about to run."""
        self.notify("READY=1", *([f"STATUS={status}"] if status else []))
        if self.watchdog_s is not None:
            self._ping(self.clock())

    def progress(self) -> None:
        """The sensor loop completed a read: ping the watchdog when due."""
        if self.watchdog_s is None:
            return
        now = self.clock()
        if self._last_ping is None or now - self._last_ping >= self.watchdog_s / 4:
            self._ping(now)

    def stopping(self) -> None:
        self.notify("STOPPING=1")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _ping(self, now: float) -> None:
        if self.notify("WATCHDOG=1"):
            self.pings += 1
        self._last_ping = now
