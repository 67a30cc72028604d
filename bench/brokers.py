"""A throwaway mosquitto on a free loopback port, for the benchmarks.

The same broker the tests' fixtures start (:class:`heelraise_host.testbroker.Broker`:
mosquitto with the limits of the shipped firmware/deploy/mosquitto/mosquitto.conf),
anonymous and without persistence, logging only mosquitto's default lines.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from heelraise_host.testbroker import Broker


def start_mosquitto(workdir: Path) -> tuple[subprocess.Popen, int]:
    """Start mosquitto and wait until it accepts connections: ``(process, port)``."""
    broker = Broker(Path(workdir) / "mosquitto", kind="mosquitto", verbose_log=False).start()
    return broker.proc, broker.port
