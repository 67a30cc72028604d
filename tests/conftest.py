"""Shared test fixtures: a real MQTT broker per test, plain or TLS + password.

Every engineer's tests may use these:

``mqtt_broker``
    A mosquitto (``/usr/sbin/mosquitto``) on a free loopback port, anonymous,
    no persistence, with the queue and session limits of the shipped
    ``firmware/deploy/mosquitto/mosquitto.conf`` (every mosquitto here has
    them). Attributes ``host``, ``port``; methods ``stop()`` (SIGTERM, waits),
    ``start()`` (again on the same port), ``kill()`` (SIGKILL), ``log_text()``
    (what the broker logged so far).
``mqtt_tls_broker``
    TLS on a loopback port with a CA and server certificate (127.0.0.1 and
    localhost) made in the test with ``cryptography``, anonymous refused,
    one user. Extra attributes: ``ca_path``, ``client_cert_path``,
    ``client_key_path`` (a client certificate from the same CA), ``username``,
    ``password``.
``mqtt_broker_factory``
    ``make(tls=False, users=None, persistence=False, acl=None)`` for anything
    (``tls`` may be a :class:`TlsFiles` from :func:`make_tls_files`: expired or
    for another name)
    else (a persistent broker whose subscriber sessions survive a restart, an
    ACL file, several users).
``mqtt_subscriber``
    ``make(broker, topics, **tls_kwargs)`` -> a :class:`Recorder`: a paho client
    that subscribes on every (re)connect and records messages; ``wait_for(pred,
    timeout_s)`` polls with a deadline.

Where the mosquitto binary is missing (or ``HEELRAISE_TEST_BROKER=amqtt``), the
same fixtures run the amqtt broker from PyPI in a subprocess, so the suite never
skips for want of a broker.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
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


# --------------------------------------------------------------------------- certificates


@dataclass
class TlsFiles:
    ca_path: Path
    server_cert_path: Path
    server_key_path: Path
    client_cert_path: Path
    client_key_path: Path


def make_tls_files(
    directory: Path, *, server_names=("localhost", "127.0.0.1"), expired: bool = False
) -> TlsFiles:
    """A throwaway CA, a server certificate for ``server_names`` (DNS names or IP
    addresses; 127.0.0.1 and localhost by default) and a client certificate.
    ``expired``: the server certificate's validity ended yesterday."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory.mkdir(parents=True, exist_ok=True)
    now = _dt.datetime.now(_dt.UTC) - _dt.timedelta(minutes=5)
    later = now + _dt.timedelta(days=2)

    def key():
        return ec.generate_private_key(ec.SECP256R1())

    def write_key(k, path):
        path.write_bytes(
            k.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
        )

    ca_key = key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "heelraise test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(later)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    def leaf(common_name, usage, san, expired=False):
        k = key()
        start, end = (
            (now - _dt.timedelta(days=3), now - _dt.timedelta(days=1)) if expired else (now, later)
        )
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(ca_name)
            .public_key(k.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
        )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return k, builder.sign(ca_key, hashes.SHA256())

    def san(name):
        try:
            return x509.IPAddress(ipaddress.ip_address(name))
        except ValueError:
            return x509.DNSName(name)

    server_key, server_cert = leaf(
        server_names[0],
        ExtendedKeyUsageOID.SERVER_AUTH,
        [san(n) for n in server_names],
        expired=expired,
    )
    client_key, client_cert = leaf("heelraise-test-client", ExtendedKeyUsageOID.CLIENT_AUTH, [])

    files = TlsFiles(
        ca_path=directory / "ca.crt",
        server_cert_path=directory / "server.crt",
        server_key_path=directory / "server.key",
        client_cert_path=directory / "client.crt",
        client_key_path=directory / "client.key",
    )
    pem = serialization.Encoding.PEM
    files.ca_path.write_bytes(ca_cert.public_bytes(pem))
    files.server_cert_path.write_bytes(server_cert.public_bytes(pem))
    files.client_cert_path.write_bytes(client_cert.public_bytes(pem))
    write_key(server_key, files.server_key_path)
    write_key(client_key, files.client_key_path)
    return files


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
            "log_type all",
            "log_timestamp true",
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


# --------------------------------------------------------------------------- a subscriber


def connect_client(
    broker: Broker,
    client_id: str = "",
    *,
    tls_ca=None,
    username=None,
    password=None,
    clean_session=True,
):
    """A connected, looping paho client (VERSION2 callbacks) for tests."""
    import paho.mqtt.client as mqtt

    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean_session,
        protocol=mqtt.MQTTv311,
    )
    if tls_ca:
        client.tls_set(ca_certs=tls_ca, cert_reqs=ssl.CERT_REQUIRED)
    if username:
        client.username_pw_set(username, password)
    client.reconnect_delay_set(min_delay=0.05, max_delay=0.5)
    return client


@dataclass
class Message:
    topic: str
    payload: bytes
    retain: bool
    qos: int

    def json(self):
        return json.loads(self.payload)


class Recorder:
    """Subscribes to ``topics`` on every (re)connect and keeps every message it gets."""

    def __init__(self, broker: Broker, topics, client_id="", clean_session=True, **kwargs):

        self.topics = [topics] if isinstance(topics, str) else list(topics)
        self.messages: list[Message] = []
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        self.connects = 0
        self.client = connect_client(
            broker, client_id, clean_session=clean_session, **(kwargs or broker.client_kwargs())
        )

        def on_connect(client, userdata, flags, reason_code, properties):
            if reason_code.is_failure:
                return
            self.connects += 1
            client.subscribe([(t, 1) for t in self.topics])

        def on_subscribe(client, userdata, mid, reason_codes, properties):
            self.subscribed.set()

        def on_message(client, userdata, msg):
            with self.lock:
                self.messages.append(Message(msg.topic, msg.payload, bool(msg.retain), msg.qos))

        def on_disconnect(client, userdata, flags, reason_code, properties):
            self.subscribed.clear()

        self.client.on_connect = on_connect
        self.client.on_subscribe = on_subscribe
        self.client.on_message = on_message
        self.client.on_disconnect = on_disconnect
        self.client.connect_async(broker.host, broker.port, keepalive=5)
        self.client.loop_start()
        wait_until(self.subscribed.is_set, 10.0, f"subscription to {self.topics}")

    def on(self, topic: str) -> list[Message]:
        with self.lock:
            return [m for m in self.messages if m.topic == topic]

    def wait_for(self, predicate, timeout_s: float = 10.0, what: str = "messages"):
        """Poll ``predicate(messages)`` until truthy (bounded); returns its value."""

        def check():
            with self.lock:
                snapshot = list(self.messages)
            return predicate(snapshot)

        return wait_until(check, timeout_s, what)

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def mqtt_broker_factory(tmp_path):
    made: list[Broker] = []

    def make(tls=False, users=None, persistence=False, acl=None, kind=None) -> Broker:
        n = len(made)
        workdir = tmp_path / f"broker{n}"
        if isinstance(tls, TlsFiles):
            files = tls  # certificates made by the test (expired, another name, ...)
        else:
            files = make_tls_files(workdir / "tls") if tls else None
        broker = Broker(
            workdir=workdir,
            kind=kind or broker_kind(),
            tls=files,
            users=dict(users or {}),
            persistence=persistence,
            acl=acl,
        )
        made.append(broker)
        return broker.start()

    yield make
    for broker in made:
        broker.kill()


@pytest.fixture
def mqtt_broker(mqtt_broker_factory) -> Broker:
    return mqtt_broker_factory()


@pytest.fixture
def mqtt_tls_broker(mqtt_broker_factory) -> Broker:
    return mqtt_broker_factory(tls=True, users={"shoe-1": "s3cret-heel-Pa55"})


@pytest.fixture
def mqtt_subscriber():
    made: list[Recorder] = []

    def make(broker: Broker, topics, **kwargs) -> Recorder:
        r = Recorder(broker, topics, **kwargs)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()
