"""A throwaway MQTT broker process on a loopback port, for the tests and the benches.

One job: run mosquitto (or, where it is missing, amqtt from PyPI in a subprocess) on a
free loopback port with the queue and session limits of the shipped
``firmware/deploy/mosquitto/mosquitto.conf`` (:mod:`heelraise_host.brokerconf`), plain
or with TLS, users, an ACL or persistence; stop, kill and restart it on the same port.
``tests/conftest.py``'s fixtures and ``bench/brokers.py`` both start this one.
``heelraise demo`` is another thing: amqtt inside its own process
(:mod:`heelraise.demo.broker`), for a laptop with nothing installed.

>>> import tempfile
>>> b = Broker(Path(tempfile.mkdtemp()), kind="mosquitto", port=18999)
>>> b.running, b.host, b.port, b.config_path.name
(False, '127.0.0.1', 18999, 'mosquitto.conf')
>>> "max_queued_messages 50000" in b.config_path.read_text()
True
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from heelraise_host.brokerconf import limit_lines

MOSQUITTO = shutil.which("mosquitto") or (
    "/usr/sbin/mosquitto" if os.path.exists("/usr/sbin/mosquitto") else None
)
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd")
START_TIMEOUT_S = 15.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout_s: float, what: str, interval_s: float = 0.01):
    """Poll ``predicate`` until it is truthy; fail the test naming ``what`` at the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(interval_s)


@dataclass
class TlsFiles:
    ca_path: Path
    server_cert_path: Path
    server_key_path: Path
    client_cert_path: Path
    client_key_path: Path


# --------------------------------------------------------------------------- password files


def _mosquitto_hash(password: str) -> str:
    """mosquitto 2.x's ``$7$`` format: PBKDF2-SHA512, 101 iterations, base64 salt and hash."""
    import base64
    import hashlib

    salt = os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, 101)
    return f"$7$101${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def write_mosquitto_passwords(path: Path, users: dict[str, str]) -> None:
    path.write_text("")
    for name, password in users.items():
        if MOSQUITTO_PASSWD:
            subprocess.run(
                [MOSQUITTO_PASSWD, "-b", str(path), name, password],
                check=True,
                capture_output=True,
            )
        else:
            with path.open("a") as f:
                f.write(f"{name}:{_mosquitto_hash(password)}\n")
    os.chmod(path, 0o600)


def write_amqtt_passwords(path: Path, users: dict[str, str]) -> None:
    """amqtt verifies ``$6$`` (sha512-crypt) with the stdlib ``crypt`` module (Python <= 3.12)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt as _crypt

    with path.open("w") as f:
        for name, password in users.items():
            f.write(f"{name}:{_crypt.crypt(password, _crypt.mksalt(_crypt.METHOD_SHA512))}\n")


# --------------------------------------------------------------------------- the broker


@dataclass
class Broker:
    """One broker process on a fixed loopback port; restartable on the same port."""

    workdir: Path
    kind: str = "mosquitto"  # or "amqtt"
    tls: TlsFiles | None = None
    users: dict[str, str] = field(default_factory=dict)
    persistence: bool = False
    acl: str | None = None
    host: str = "127.0.0.1"
    port: int = 0
    #: log every packet (the tests read the log); the benches log only what mosquitto
    #: logs by default, so logging does not weigh on what they time
    verbose_log: bool = True
    proc: subprocess.Popen | None = None
    starts: int = 0

    def __post_init__(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        self.log_path = self.workdir / "broker.log"
        self.config_path = self._write_config()

    # convenience for tests
    @property
    def ca_path(self) -> str | None:
        return None if self.tls is None else str(self.tls.ca_path)

    @property
    def client_cert_path(self) -> str | None:
        return None if self.tls is None else str(self.tls.client_cert_path)

    @property
    def client_key_path(self) -> str | None:
        return None if self.tls is None else str(self.tls.client_key_path)

    @property
    def username(self) -> str | None:
        return next(iter(self.users), None)

    @property
    def password(self) -> str | None:
        return None if not self.users else self.users[self.username]

    def _write_config(self) -> Path:
        if self.kind == "mosquitto":
            return self._write_mosquitto_config()
        return self._write_amqtt_config()

    def _write_mosquitto_config(self) -> Path:
        lines = [
            "per_listener_settings false",
            # As root, mosquitto would drop to user 'mosquitto' and lose access to tmp_path.
            f"user {_current_user()}",
            f"listener {self.port} {self.host}",
            "log_dest stderr",
            *(["log_type all", "log_timestamp true"] if self.verbose_log else []),
            # The shipped config's queue, in-flight and session limits, exactly.
            *limit_lines(),
        ]
        if self.persistence:
            lines += [
                "persistence true",
                f"persistence_location {self.workdir}/",
                # Saved on every change, unlike the shipped once a minute: the tests that
                # kill the broker on purpose must not depend on when it last saved.
                "autosave_on_changes true",
                "autosave_interval 1",
            ]
        else:
            lines.append("persistence false")
        if self.tls:
            lines += [
                f"cafile {self.tls.ca_path}",
                f"certfile {self.tls.server_cert_path}",
                f"keyfile {self.tls.server_key_path}",
                "require_certificate false",
            ]
        if self.users:
            pw = self.workdir / "passwords"
            write_mosquitto_passwords(pw, self.users)
            lines += ["allow_anonymous false", f"password_file {pw}"]
        else:
            lines.append("allow_anonymous true")
        if self.acl is not None:
            acl_path = self.workdir / "acl"
            acl_path.write_text(self.acl)
            os.chmod(acl_path, 0o600)
            lines.append(f"acl_file {acl_path}")
        path = self.workdir / "mosquitto.conf"
        path.write_text("\n".join(lines) + "\n")
        return path

    def _write_amqtt_config(self) -> Path:
        listener = {"type": "tcp", "bind": f"{self.host}:{self.port}"}
        if self.tls:
            listener.update(
                ssl=True,
                certfile=str(self.tls.server_cert_path),
                keyfile=str(self.tls.server_key_path),
                cafile=str(self.tls.ca_path),
            )
        plugins: dict = {
            "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": not self.users},
        }
        if self.users:
            pw = self.workdir / "passwords"
            write_amqtt_passwords(pw, self.users)
            plugins["amqtt.plugins.authentication.FileAuthPlugin"] = {"password_file": str(pw)}
        config = {"listeners": {"default": listener}, "plugins": plugins}
        path = self.workdir / "amqtt.yaml"
        path.write_text(json.dumps(config))  # JSON is YAML
        return path

    def _command(self) -> list[str]:
        if self.kind == "mosquitto":
            return [MOSQUITTO, "-c", str(self.config_path)]
        return [sys.executable, "-m", "amqtt.scripts.broker_script", "-c", str(self.config_path)]

    def start(self) -> Broker:
        """Start (or restart) the broker on the same port; returns once it accepts TCP."""
        if self.running:
            return self
        log = self.log_path.open("ab")
        log.write(f"----- start {self.starts + 1}\n".encode())
        log.flush()
        self.proc = subprocess.Popen(
            self._command(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        self.starts += 1

        def accepting():
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"{self.kind} exited with {self.proc.returncode}:\n{self.log_text()[-3000:]}"
                )
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return True
            except OSError:
                return False

        wait_until(accepting, START_TIMEOUT_S, f"{self.kind} to accept on port {self.port}")
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout_s: float = 10.0) -> None:
        """Graceful stop (SIGTERM); waits for the process to end."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout_s)
        self._wait_port_free()

    def kill(self) -> None:
        """Abrupt death (SIGKILL): no goodbyes to clients, nothing saved."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._wait_port_free()

    def _wait_port_free(self):
        def closed():
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return False
            except OSError:
                return True

        wait_until(closed, 10.0, f"port {self.port} to close")

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def client_kwargs(self) -> dict:
        """Keyword arguments for :func:`connect_client` / the Recorder, matching this broker."""
        return {
            "tls_ca": self.ca_path,
            "username": self.username,
            "password": self.password,
        }


def _current_user() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def broker_kind() -> str:
    forced = os.environ.get("HEELRAISE_TEST_BROKER")
    if forced:
        if forced not in ("mosquitto", "amqtt"):
            raise ValueError(f"HEELRAISE_TEST_BROKER must be mosquitto or amqtt, not {forced!r}")
        return forced
    return "mosquitto" if MOSQUITTO else "amqtt"
