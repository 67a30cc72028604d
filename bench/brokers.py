"""A throwaway mosquitto on a free loopback port, for the benchmarks (the tests use conftest).

It runs with the limits of the shipped firmware/deploy/mosquitto/mosquitto.conf
(heelraise_host.brokerconf), as the tests' brokers do.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from heelraise_host.brokerconf import limit_lines


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_mosquitto(workdir: Path) -> tuple[subprocess.Popen, int]:
    """Start mosquitto (anonymous, no persistence) with the shipped config's queue and
    session limits (never raised ones) and wait until it accepts connections."""
    port = free_port()
    conf = workdir / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        + "".join(f"{line}\n" for line in limit_lines())
        + (f"user {os.environ.get('USER', 'root')}\n" if os.geteuid() == 0 else "")
    )
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    proc = subprocess.Popen([binary, "-c", str(conf)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.02)
    proc.kill()
    raise SystemExit("mosquitto did not start")
