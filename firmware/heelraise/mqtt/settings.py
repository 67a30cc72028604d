"""MQTT settings: one dataclass, every default explained (the ``[mqtt]`` table of the config).

>>> import pathlib, tempfile
>>> tmp = tempfile.TemporaryDirectory()
>>> etc = pathlib.Path(tmp.name)                 # stands in for /etc/heelraise
>>> _ = (etc / "ca.crt").write_text("-----BEGIN CERTIFICATE-----")
>>> _ = (etc / "mqtt-password").write_text("s3cret")
>>> mqtt = MqttSettings(host="192.168.1.20", tls_ca=str(etc / "ca.crt"), username="shoe-1",
...                     password_file=str(etc / "mqtt-password"))
>>> mqtt.use_tls, mqtt.port, mqtt.resolve_password()
(True, 1883, 's3cret')
>>> tmp.cleanup()
>>> "s3cret" in repr(MqttSettings(username="shoe-1", password="s3cret"))
False
>>> MqttSettings(tls_ca="/nonexistent/ca.crt")
Traceback (most recent call last):
heelraise.exceptions.SettingsError: tls_ca '/nonexistent/ca.crt' is not a readable file

Keyword arguments are exactly the TOML keys; every bad value raises
:class:`~heelraise.exceptions.SettingsError` naming the key and the value (never
the value of a secret). The password is never part of ``repr()``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from heelraise.exceptions import SettingsError
from heelraise.protocol.topics import check_prefix

MAX_LIVE_HZ = 25.0
#: The MQTT versions the publisher speaks (the ``protocol`` setting).
PROTOCOLS = ("5", "3.1.1")


@dataclass(frozen=True)
class MqttSettings:
    #: Broker host name or address (the machine running the dashboard, usually).
    host: str = "localhost"
    #: Broker port: 1883 plain, 8883 by convention for TLS.
    port: int = 1883
    #: Topics are ``<prefix>/<device id>/...``.
    prefix: str = "heelraise"
    #: MQTT client id; empty: ``heelraise-<device id>``. Must be unique on the broker.
    client_id: str = ""
    #: MQTT version, ``"5"`` or ``"3.1.1"``. 5 keeps the retain flag of a command published
    #: while the device is connected (retainAsPublished), so every retained command is refused;
    #: under 3.1.1 (brokers without MQTT 5, e.g. the demo's amqtt) only one retained before
    #: the device connected is recognised as such.
    protocol: str = "5"
    #: Seconds between keepalive pings; the broker declares us gone (last will) after 1.5x this.
    keepalive: int = 30
    #: QoS of rep/set/session events and command results. 1 (at least once; receivers dedupe
    #: on the message id) is the right choice; 2 costs an extra round trip; 0 loses the
    #: outbox's guarantee (a message counts as delivered once written to the socket).
    qos: int = 1
    #: Publish the live pitch stream (``live`` topic, QoS 0) from the start; the ``set_live``
    #: command switches it at run time (the one place it is set; heelraise.service.live).
    live: bool = False
    #: Live samples per second sent (the service decimates to it), 0 < x <= 25.
    live_hz: float = 10.0
    #: Live samples are sent in batches of this many seconds (fewer, larger messages).
    live_batch_s: float = 0.5
    #: SQLite outbox file. Empty: ``$STATE_DIRECTORY/outbox-<device>.sqlite`` (systemd's
    #: StateDirectory, /var/lib/heelraise) else ``~/.local/state/heelraise/``.
    #: ``":memory:"`` keeps it in RAM (lost on a crash; tests only).
    outbox_path: str = ""
    #: Hard cap of messages waiting in the outbox. At the cap the oldest ``state`` and
    #: ``cmd_result`` messages are dropped first (a newer state supersedes them anyway); when
    #: only events (rep/set/session) are left, a new event is refused with a logged error.
    #: 20 000 messages is months of training held while the broker is away.
    outbox_max_messages: int = 20000
    #: Announce the device to Home Assistant (MQTT discovery).
    discovery: bool = False
    #: Home Assistant's discovery prefix (its ``status`` topic lives under it too).
    discovery_prefix: str = "homeassistant"
    #: TLS: use TLS (implied when ``tls_ca`` is set). Without ``tls_ca`` the system CAs are used.
    tls: bool = False
    #: TLS: the CA certificate file that signed the broker's certificate.
    tls_ca: str = ""
    #: TLS client certificate and key (both or neither), for brokers that require one.
    tls_cert: str = ""
    tls_key: str = ""
    #: Broker login. The password comes from ``password``, else ``password_file`` (first
    #: line), else the environment variable named by ``password_env``.
    username: str = ""
    password: str = field(default="", repr=False)
    password_file: str = ""
    password_env: str = "HEELRAISE_MQTT_PASSWORD"
    #: Commands larger than this many bytes are refused unread.
    max_cmd_bytes: int = 4096
    #: Also check every outgoing message against its schema (an error is logged; the message
    #: is sent anyway). Off on the device: its messages come from the one serialiser the tests
    #: check kind by kind, the dashboard checks what it receives, and the compiled checks cost
    #: the service about 4 MB of its 45 (``bench/service_cpu.py``). Commands are always checked.
    check_outgoing: bool = False
    #: Reconnect backoff: first retry after ``reconnect_min_s``, doubling up to ``reconnect_max_s``.
    reconnect_min_s: float = 1.0
    reconnect_max_s: float = 30.0
    #: At shutdown, wait at most this long for the outbox to drain and ``offline`` to go out.
    close_timeout_s: float = 5.0

    def __post_init__(self):
        for name in (
            "host",
            "protocol",
            "prefix",
            "client_id",
            "outbox_path",
            "discovery_prefix",
            "tls_ca",
            "tls_cert",
            "tls_key",
            "username",
            "password_file",
            "password_env",
        ):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise SettingsError(f"{name} must be a string, not {value!r}")
        if not isinstance(self.password, str):
            raise SettingsError("password must be a string")
        if self.protocol not in PROTOCOLS:
            raise SettingsError(f"protocol must be '5' or '3.1.1', not {self.protocol!r}")
        if not self.host:
            raise SettingsError("host must not be empty")
        _int(self, "port", 1, 65535)
        _int(self, "keepalive", 5, 3600)
        _int(self, "max_cmd_bytes", 64, 1024 * 1024)
        _int(self, "outbox_max_messages", 10, 10_000_000)
        if isinstance(self.qos, bool) or self.qos not in (0, 1, 2):
            raise SettingsError(f"qos must be 0, 1 or 2, not {self.qos!r}")
        for name in ("live", "discovery", "tls", "check_outgoing"):
            if not isinstance(getattr(self, name), bool):
                raise SettingsError(f"{name} must be true or false, not {getattr(self, name)!r}")
        _number(self, "live_hz", 0.0, MAX_LIVE_HZ, f"must be over 0 and at most {MAX_LIVE_HZ:g}")
        _number(self, "live_batch_s", 0.0, 10.0, "must be more than 0 and at most 10 s")
        _number(self, "reconnect_min_s", 0.0, 60.0, "must be more than 0 and at most 60 s")
        _number(self, "reconnect_max_s", 0.0, 3600.0, "must be more than 0 and at most 3600 s")
        _number(self, "close_timeout_s", 0.0, 120.0, "must be more than 0 and at most 120 s")
        if self.reconnect_max_s < self.reconnect_min_s:
            raise SettingsError(
                f"reconnect_max_s ({self.reconnect_max_s!r}) must be at least "
                f"reconnect_min_s ({self.reconnect_min_s!r})"
            )
        check_prefix(self.prefix)
        check_prefix(self.discovery_prefix, "discovery_prefix")
        if any(c in self.client_id for c in "+#/") or len(self.client_id) > 64:
            raise SettingsError(f"client_id {self.client_id!r} must be at most 64 chars, no + # /")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise SettingsError("tls_cert and tls_key go together: set both or neither")
        for name in ("tls_ca", "tls_cert", "tls_key", "password_file"):
            path = getattr(self, name)
            if path and not Path(path).is_file():
                raise SettingsError(f"{name} {path!r} is not a readable file")
        if (self.password or self.password_file) and not self.username:
            raise SettingsError("a password is set but username is empty")

    @property
    def use_tls(self) -> bool:
        return self.tls or bool(self.tls_ca)

    def resolve_outbox_path(self, device_id: str) -> str:
        if self.outbox_path:
            return self.outbox_path
        state_dir = os.environ.get("STATE_DIRECTORY", "").split(":")[0]
        if not state_dir:
            base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
            state_dir = os.path.join(base, "heelraise")
        return os.path.join(state_dir, f"outbox-{device_id}.sqlite")

    def resolve_password(self, environ=None) -> str | None:
        """The password from the setting, the file or the environment (None: no password).

        Errors name where the password should have come from, never its value.
        """
        if not self.username:
            return None
        if self.password:
            return self.password
        if self.password_file:
            return read_secret(self.password_file, "password_file")
        environ = os.environ if environ is None else environ
        if self.password_env and environ.get(self.password_env):
            return environ[self.password_env]
        return None


def read_secret(path: str, what: str) -> str:
    """The first line of a secret file (a password, a token), stripped.

    Errors name the setting and the file, never a secret.
    """
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SettingsError(f"{what} {path!r} cannot be read: {type(e).__name__}") from None
    line = text.splitlines()[0].strip() if text.strip() else ""
    if not line:
        raise SettingsError(f"{what} {path!r} is empty")
    return line


def _int(s, name, lo, hi):
    value = getattr(s, name)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise SettingsError(f"{name} must be a whole number from {lo} to {hi}, not {value!r}")


def _number(s, name, lo_exclusive, hi, allowed):
    value = getattr(s, name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SettingsError(f"{name} must be a number, not {value!r}")
    if not lo_exclusive < value <= hi:
        raise SettingsError(f"{name} {allowed}, not {value!r}")
