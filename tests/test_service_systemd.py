"""systemd integration: exit codes, the notify socket (READY / WATCHDOG / STOPPING), the unit."""

from __future__ import annotations

import configparser
import ctypes
import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from heelraise.clock import ManualClock
from heelraise.service import exit_codes
from heelraise.service.assemble import build_service
from heelraise.service.config import parse_config
from heelraise.service.sdnotify import SystemdNotifier
from heelraise.service.testing import ArrayImu

UNIT = Path(__file__).resolve().parents[1] / "firmware" / "deploy" / "heelraise.service"


class Collector:
    """A bound datagram socket read by a thread (as systemd reads its notify socket)."""

    def __init__(self, address):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.sock.settimeout(0.05)
        self._got: list[str] = []
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096).decode()
            except (TimeoutError, OSError):
                continue
            with self._cond:
                self._got.append(data)
                self._cond.notify_all()

    def take(self, timeout_s=0.0, until=None) -> list[str]:
        """What arrived so far, waiting up to ``timeout_s`` for ``until`` (or anything)."""
        with self._cond:
            self._cond.wait_for(
                lambda: (until in self._got) if until else bool(self._got), timeout=timeout_s
            )
            out, self._got = self._got, []
        return out

    def close(self):
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@pytest.fixture
def notify_socket(tmp_path):
    path = str(tmp_path / "notify.sock")
    collector = Collector(path)
    yield path, collector
    collector.close()


def received(collector, timeout_s=0.0, until=None) -> list[str]:
    return collector.take(timeout_s, until)


def still_imu(clock, seconds=20.0, fs_hz=100.0):
    n = int(seconds * fs_hz)
    acc = np.zeros((n, 3))
    acc[:, 2] = 1.0
    return ArrayImu(np.arange(n) / fs_hz, acc, np.zeros((n, 3)), clock=clock)


def test_the_notifier_speaks_sd_notify_to_a_path_and_to_an_abstract_socket(notify_socket):
    path, sock = notify_socket
    clock = ManualClock()
    notifier = SystemdNotifier.from_env(
        {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "10000000", "WATCHDOG_PID": str(os.getpid())},
        clock=clock,
    )
    assert notifier.watchdog_s == 10.0
    notifier.ready("reading x")
    assert received(sock, 5, until="WATCHDOG=1") == ["READY=1\nSTATUS=reading x", "WATCHDOG=1"]
    clock.advance(2.0)
    notifier.progress()  # 2 s < 10 s / 4: not due yet
    assert received(sock) == []
    clock.advance(0.5)
    notifier.progress()
    notifier.stopping()
    assert received(sock, 5, until="STOPPING=1") == ["WATCHDOG=1", "STOPPING=1"]

    name = f"heelraise-test-{os.getpid()}"
    abstract = Collector("\0" + name)
    try:
        SystemdNotifier.from_env({"NOTIFY_SOCKET": "@" + name}).ready()
        assert received(abstract, 5) == ["READY=1"]
    finally:
        abstract.close()


def test_a_watchdog_meant_for_another_process_and_no_socket_are_ignored():
    other = SystemdNotifier.from_env(
        {"NOTIFY_SOCKET": "/nonexistent", "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"}
    )
    assert other.watchdog_s is None
    off = SystemdNotifier.from_env({})
    assert not off.enabled
    off.ready()
    off.progress()  # nothing to send to, nothing raised


def test_a_dead_socket_is_logged_once_and_never_raises(tmp_path, caplog):
    notifier = SystemdNotifier(str(tmp_path / "gone.sock"), watchdog_s=1.0, clock=ManualClock())
    notifier.ready()
    notifier.progress()
    notifier.stopping()
    assert sum("cannot notify systemd" in r.message for r in caplog.records) == 1


def test_the_service_is_ready_after_the_sensor_opened_and_pings_while_it_reads(notify_socket):
    path, sock = notify_socket
    clock = ManualClock(100.0)
    imu = still_imu(clock, seconds=20.0)
    notifier = SystemdNotifier(path, watchdog_s=4.0, clock=clock)
    opened = []
    real_open = imu.open
    imu.open = lambda: (opened.append(received(sock)), real_open())[1]
    service = build_service(
        parse_config(""),
        imu=imu,
        clock=clock,
        sleep=clock.sleep,
        stop_when_exhausted=True,
        notifier=notifier,
    )
    service.run()
    messages = received(sock, 5, until="STOPPING=1")
    assert opened == [[]]  # nothing was said before the sensor was open
    assert messages[0].startswith("READY=1\nSTATUS=reading array")
    assert messages[-1] == "STOPPING=1"
    pings = messages.count("WATCHDOG=1")
    # one ping a second (watchdog 4 s / 4) over the 20 s the sensor played
    assert 19 <= pings <= 22, messages


def test_a_hung_sensor_read_stops_the_watchdog_pings(notify_socket):
    path, sock = notify_socket
    clock = ManualClock(100.0)
    imu = still_imu(clock, seconds=10.0)
    hung, release = threading.Event(), threading.Event()
    real_read = imu.read

    def read():
        if clock() >= 105.0 and not release.is_set():
            hung.set()
            release.wait(30)  # an I2C read that never returns (until the test lets it)
        return real_read()

    imu.read = read
    notifier = SystemdNotifier(path, watchdog_s=1.0, clock=clock)
    service = build_service(
        parse_config(""),
        imu=imu,
        clock=clock,
        sleep=clock.sleep,
        stop_when_exhausted=True,
        notifier=notifier,
    )
    loop = threading.Thread(target=service.run)
    loop.start()
    try:
        assert hung.wait(30)
        before = received(sock, 1, until="never")
        assert before.count("WATCHDOG=1") >= 15  # 4 a second for the first 5 s
        clock.advance(60.0)  # a minute passes inside the read: systemd would be waiting
        assert received(sock, 0.3) == []  # no ping from anywhere while the read hangs
    finally:
        release.set()
        loop.join(30)
    # the loop moved again, so did the pings
    assert "WATCHDOG=1" in received(sock, 5, until="STOPPING=1")


def run_cli(*args, env=None, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "heelraise", "run", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def test_heelraise_run_tells_systemd_it_is_ready_and_pings_the_watchdog(tmp_path, notify_socket):
    path, sock = notify_socket
    proc = run_cli(
        "--imu",
        "sim",
        "--speed",
        "max",
        "--seconds",
        "20",
        "--json",
        "--no-cues",
        env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000"},  # no WATCHDOG_PID: for anyone
    )
    assert proc.returncode == exit_codes.OK, proc.stderr
    messages = received(sock, 5, until="STOPPING=1")
    assert messages[0].startswith("READY=1")
    assert "WATCHDOG=1" in messages and messages[-1] == "STOPPING=1"


def test_a_bad_config_exits_78_and_a_missing_sensor_69(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[sensor]\nrate_hz = 2\n")
    proc = run_cli("--config", str(bad))
    assert proc.returncode == exit_codes.CONFIG == 78
    assert f"{bad}: [sensor] rate_hz = 2: must be 25 to 1000 Hz" in proc.stderr
    proc = run_cli("--config", str(tmp_path / "absent.toml"))
    assert proc.returncode == 78 and "no such config file" in proc.stderr
    rate = tmp_path / "rate.toml"
    rate.write_text("[sensor]\nrate_hz = 300\n")  # valid TOML, but no MPU-6050 rate
    proc = run_cli("--config", str(rate), "--no-cues")
    assert proc.returncode == 78, proc.stderr
    assert "not a rate the MPU-6050 can make" in proc.stderr
    nobus = tmp_path / "nobus.toml"
    nobus.write_text("[sensor]\nbus = 97\n")
    proc = run_cli("--config", str(nobus), "--no-cues")
    assert proc.returncode == exit_codes.SENSOR == 69, proc.stderr
    assert "/dev/i2c-97 does not exist" in proc.stderr


def unit():
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(UNIT)
    return parser["Service"]


def unit_values(key):
    return [
        line.split("=", 1)[1].strip()
        for line in UNIT.read_text().splitlines()
        if line.strip().startswith(key + "=")
    ]


def test_the_unit_waits_for_ready_has_a_watchdog_and_does_not_restart_a_bad_config():
    service = unit()
    assert service["Type"] == "notify"
    assert 2 <= int(service["WatchdogSec"]) <= 60
    assert service["Restart"] == "on-failure"
    assert str(exit_codes.CONFIG) in service["RestartPreventExitStatus"].split()
    assert str(exit_codes.SENSOR) not in service["RestartPreventExitStatus"].split()


def test_the_unit_is_hardened_and_keeps_the_i2c_and_gpio_devices():
    service = unit()
    expected = {
        "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes",
        "ProtectKernelLogs": "yes",
        "ProtectControlGroups": "yes",
        "RestrictNamespaces": "yes",
        "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
        "CapabilityBoundingSet": "",
        "UMask": "0077",
        "SystemCallArchitectures": "native",
        "NoNewPrivileges": "yes",
        "LockPersonality": "yes",
        "MemoryDenyWriteExecute": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "ProtectHostname": "yes",
        "ProtectClock": "yes",
        "RestrictRealtime": "yes",
        "RestrictSUIDSGID": "yes",
        "DevicePolicy": "closed",
    }
    for key, value in expected.items():
        assert unit_values(key) == [value], key
    assert "@system-service" in unit_values("SystemCallFilter")
    assert "/var/lib/heelraise" in service["ReadWritePaths"].split()
    assert set(unit_values("DeviceAllow")) == {"char-i2c rw", "char-gpiochip rw"}
    assert not unit_values("PrivateDevices")  # it would hide /dev/i2c-1 and /dev/gpiochip*


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_analyze_rates_the_unit_ok():
    proc = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", str(UNIT)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    last = proc.stdout.strip().splitlines()[-1]
    score = float(last.split("level for heelraise.service:")[1].split()[0])
    assert score <= 2.0, proc.stdout  # the docs give the figure; it was 8.0 EXPOSED before


def _mdwe_supported() -> bool:
    libc = ctypes.CDLL(None, use_errno=True)
    PR_GET_MDWE = 66
    return libc.prctl(PR_GET_MDWE, 0, 0, 0, 0) >= 0


@pytest.mark.skipif(not _mdwe_supported(), reason="kernel without PR_SET_MDWE (Linux < 6.3)")
def test_the_service_runs_with_memory_deny_write_execute(tmp_path):
    """MemoryDenyWriteExecute=yes is only in the unit because numpy and the rest run under it:
    the kernel's own MDWE (what the systemd option enforces) on a real ``heelraise run``."""
    wrapper = (
        "import ctypes, os, sys\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "assert libc.prctl(65, 1, 0, 0, 0) == 0, os.strerror(ctypes.get_errno())\n"
        "os.execv(sys.executable, [sys.executable, '-m', 'heelraise', *sys.argv[1:]])\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", wrapper, "run", "--imu", "sim", "--speed", "max"]
        + ["--seconds", "60", "--json", "--no-cues"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert '"type":"rep"' in proc.stdout and '"type":"session"' in proc.stdout
