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

The broker itself is :class:`heelraise_host.testbroker.Broker` (the benches start it too).
Where the mosquitto binary is missing (or ``HEELRAISE_TEST_BROKER=amqtt``), the
same fixtures run the amqtt broker from PyPI in a subprocess, so the suite never
skips for want of a broker.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import json
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from heelraise_host.testbroker import (  # noqa: F401 (tests import these from conftest)
    MOSQUITTO,
    Broker,
    TlsFiles,
    broker_kind,
    free_port,
    wait_until,
    write_mosquitto_passwords,
)

# --------------------------------------------------------------------------- certificates


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
