"""One paho client to one broker, speaking MQTT 5 or 3.1.1: the ingest's and ``heelraise watch``'s.

One job: connect in the background (paho retries on its own) with the right
protocol version and hand the caller's callbacks a connected client.

``protocol``:

* ``None`` (the default): MQTT 5; if the broker answers the MQTT 5 CONNECT with
  "Unsupported protocol version" (amqtt, which ``heelraise demo`` embeds, and
  other 3.1.1-only brokers), or does not answer it at all within
  ``connack_timeout_s`` although the TCP connection stands (amqtt chokes on a
  CONNECT carrying MQTT 5 properties, as a persistent session's does), and
  ``fallback`` is allowed, the link logs that once and connects again with MQTT
  3.1.1, on a fresh paho client, for good.
* ``"5"``: MQTT 5 only (a refusal is reported, not worked around).
* ``"3.1.1"``: MQTT 3.1.1 from the start.

Callers turn ``fallback`` off when they need MQTT 5 (a shared-subscription
group: ``$share/...`` is an MQTT 5 feature). A persistent session
(``session_expiry_s``) is ``clean_start=False`` with a session expiry under
MQTT 5 and ``clean_session=False`` under 3.1.1 (the broker's own expiry).

Before :meth:`MqttLink.start` nothing touches the network:

>>> link = MqttLink("127.0.0.1", 1883, on_connect=lambda c: c.subscribe("heelraise/#"))
>>> link.protocol, link.fallback, link.connack        # MQTT 5 first, 3.1.1 allowed
('5', True, None)
>>> MqttLink("127.0.0.1", 1883, protocol="3.1.1").fallback
False
>>> check_protocol("3.1.1", group="dash")
Traceback (most recent call last):
heelraise.exceptions.SettingsError: group 'dash' is an MQTT 5 shared subscription; \
it cannot use MQTT 3.1.1

Example (needs a broker)::

    link.start()
    link.protocol          # "5", or "3.1.1" after a fallback
    link.stop()
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable

from heelraise.exceptions import SettingsError
from heelraise.mqtt import diagnose

log = logging.getLogger(__name__)

#: the values ``protocol=`` (and ``--mqtt-protocol``) take
PROTOCOLS = ("5", "3.1.1")

#: where the dashboard's MQTT password comes from (named when a login is refused)
PASSWORD_HINT = "--password-file / $HEELRAISE_MQTT_PASSWORD"

#: fewer QoS 1 messages in flight than this (the broker's receive maximum) earns a warning
MIN_RECEIVE_MAXIMUM = 10

#: CONNACK reason "Unsupported protocol version" (MQTT 5 code 0x84; paho reports a
#: 3.1.1 broker's return code 1 with this same value)
UNSUPPORTED_PROTOCOL = 132


def check_protocol(protocol: str | None, *, group: str | None = None) -> str | None:
    """``protocol`` as given (None, "5" or "3.1.1"); SettingsError naming what is wrong."""
    if protocol is None:
        return None
    protocol = str(protocol).strip()
    if protocol not in PROTOCOLS:
        raise SettingsError(
            f"MQTT protocol {protocol!r} is not supported; expected one of {', '.join(PROTOCOLS)}"
        )
    if group is not None and protocol != "5":
        raise SettingsError(
            f"group {group!r} is an MQTT 5 shared subscription; it cannot use MQTT {protocol}"
        )
    return protocol


class MqttLink:
    """See the module docstring. Callbacks (all optional, called on paho's thread):

    ``on_connect(client)`` once connected (subscribe here: called on every reconnect),
    ``on_refused(reason: str)`` when the broker refused the connection,
    ``on_subscribe(client, reason_codes)``, ``on_message(client, msg)``,
    ``on_disconnect(client, reason_code)``.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        protocol: str | None = None,
        fallback: bool = True,
        client_id: str | None = None,
        session_expiry_s: int | None = None,
        username: str | None = None,
        password: str | None = None,
        tls_ca: str | None = None,
        manual_ack: bool = False,
        keepalive_s: int = 30,
        connack_timeout_s: float = 5.0,
        reconnect_delay_s: tuple[float, float] = (1, 30),
        client_factory: Callable | None = None,
        name: str = "heelraise-host",
        on_connect: Callable | None = None,
        on_refused: Callable | None = None,
        on_subscribe: Callable | None = None,
        on_message: Callable | None = None,
        on_disconnect: Callable | None = None,
    ):
        self.host, self.port = host, int(port)
        self.requested = check_protocol(protocol)
        #: the protocol in use (or being tried) now
        self.protocol = self.requested or "5"
        # A client_factory decides the protocol itself: nothing to fall back with.
        self.fallback = bool(fallback) and self.requested is None and client_factory is None
        self.client_id = client_id or f"{name}-{uuid.uuid4().hex[:10]}"
        self.session_expiry_s = session_expiry_s
        self.username, self.password, self.tls_ca = username, password, tls_ca
        self.manual_ack = manual_ack
        self.keepalive_s = keepalive_s
        self.connack_timeout_s = connack_timeout_s
        self.reconnect_delay_s = reconnect_delay_s
        self._client_factory = client_factory
        self.on_connect, self.on_refused = on_connect, on_refused
        self.on_subscribe, self.on_message = on_subscribe, on_message
        self.on_disconnect = on_disconnect
        self.fell_back = False
        #: what the broker's last CONNACK granted (None before the first)
        self.connack: dict | None = None
        #: the last connection trouble logged (a line from heelraise.mqtt.diagnose)
        self.trouble: str | None = None
        self.trouble_level = logging.NOTSET
        self._answered_now = False  # the broker answered the current connection's CONNECT
        self._client = None
        self._retiring = None  # the MQTT 5 client being replaced by a 3.1.1 one
        self._answered = None  # the last client the broker sent a CONNACK to
        self._lock = threading.Lock()
        self._stopping = False

    @property
    def client(self):
        return self._client

    def start(self) -> None:
        """Connect in the background and start paho's network thread."""
        with self._lock:
            self._stopping = False
            self._client = self._new_client()
            self._connect(self._client)

    def stop(self) -> None:
        """Disconnect and stop the network thread (idempotent)."""
        with self._lock:
            self._stopping = True
            client, self._client = self._client, None
        if client is not None:
            client.disconnect()
            client.loop_stop()

    # ------------------------------------------------------------------ internals

    def _new_client(self):
        import paho.mqtt.client as mqtt

        if self._client_factory is not None:
            client = self._client_factory()
        else:
            v5 = self.protocol == "5"
            client = mqtt.Client(
                mqtt.CallbackAPIVersion.VERSION2,
                client_id=self.client_id,
                protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
                # 3.1.1 has no session expiry: a kept session is clean_session=False.
                clean_session=None if v5 else self.session_expiry_s is None,
                manual_ack=self.manual_ack,
            )
            if self.username:
                client.username_pw_set(self.username, self.password)
            if self.tls_ca:
                try:
                    client.tls_set(ca_certs=self.tls_ca)
                except (OSError, ValueError) as e:  # ssl.SSLError is an OSError
                    raise SettingsError(diagnose.tls_files(e, ca=self.tls_ca)) from None
            client.reconnect_delay_set(*self.reconnect_delay_s)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_pre_connect = self._on_pre_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        client.on_disconnect = self._on_disconnect
        return client

    def _connect(self, client) -> None:
        kwargs = {}
        if self.protocol == "5" and self._client_factory is None and self.session_expiry_s:
            from paho.mqtt.packettypes import PacketTypes
            from paho.mqtt.properties import Properties

            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = int(self.session_expiry_s)
            kwargs = {"clean_start": False, "properties": props}
        client.connect_async(self.host, self.port, keepalive=self.keepalive_s, **kwargs)
        client.loop_start()
        if self.fallback and self.protocol == "5":
            self._watch_connack(client)

    def _watch_connack(self, client) -> None:
        timer = threading.Timer(self.connack_timeout_s, self._check_connack, args=(client,))
        timer.daemon = True
        timer.start()

    def _check_connack(self, client) -> None:
        if self._stopping or client is not self._client or self._answered is client:
            return
        if self.fell_back or client.socket() is None:
            if not self.fell_back:
                self._watch_connack(client)  # no TCP connection (yet): look again later
            return
        self.fell_back = True
        self._retiring = client
        log.warning(
            "broker %s:%s did not answer an MQTT 5 CONNECT within %g s; connecting with"
            " MQTT 3.1.1 instead",
            self.host,
            self.port,
            self.connack_timeout_s,
        )
        self._fall_back(client)

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if client is not self._client:
            return  # a client being replaced
        self._answered = client
        self._answered_now = True
        if not reason_code.is_failure:
            self.trouble = None
            self._note_connack(flags, properties)
            if self.on_connect is not None:
                self.on_connect(client)
            return
        if (
            reason_code.value == UNSUPPORTED_PROTOCOL
            and self.fallback
            and self.protocol == "5"
            and not self.fell_back
        ):
            self.fell_back = True
            self._retiring = client
            log.warning(
                "broker %s:%s refused MQTT 5 (%s); connecting with MQTT 3.1.1 instead",
                self.host,
                self.port,
                reason_code,
            )
            # Not on this (paho's) thread: replacing the client joins this thread.
            threading.Thread(
                target=self._fall_back, args=(client,), name="heelraise-mqtt-fallback", daemon=True
            ).start()
            return
        self._trouble(
            diagnose.login_refused(
                str(reason_code),
                self.host,
                self.port,
                username=self.username,
                password_hint=PASSWORD_HINT,
            )
        )

    def _on_pre_connect(self, client, userdata):
        self._answered_now = False

    def _on_connect_fail(self, client, userdata):
        # paho calls this inside the except clause of its connection attempt
        error = diagnose.current_error()
        self._trouble(
            diagnose.connect_failure(error, self.host, self.port, tls=bool(self.tls_ca)),
            level=diagnose.level(error, tls=bool(self.tls_ca)),
        )

    def _trouble(self, line: str, level: int = logging.ERROR) -> None:
        """Log one connection trouble once (not at every retry) and tell the caller."""
        if line != self.trouble:
            self.trouble, self.trouble_level = line, level
            log.log(level, "%s", line)
        if self.on_refused is not None:
            self.on_refused(line)

    def _note_connack(self, flags, properties) -> None:
        """Remember what the broker granted; warn when it cannot keep our session."""
        granted = getattr(properties, "SessionExpiryInterval", None)
        receive_max = getattr(properties, "ReceiveMaximum", None)
        present = bool(getattr(flags, "session_present", False))
        again = self.connack is not None
        self.connack = {
            "protocol": self.protocol,
            "session_present": present,
            # MQTT 5: the broker says so only when it grants less than was asked
            "session_expiry_s": (self.session_expiry_s if granted is None else int(granted))
            if self.session_expiry_s and self.protocol == "5"
            else None,
            "receive_maximum": receive_max,
        }
        if not self.session_expiry_s:
            return
        where = f"broker {self.host}:{self.port}"
        if self.protocol == "5" and granted is not None and granted < self.session_expiry_s:
            log.warning(
                "%s keeps our session (client id %s) only %d s after a disconnect, not the"
                " %d s asked: events published while the dashboard is away longer are lost"
                " (see docs/mqtt.md, what the broker must keep)",
                where,
                self.client_id,
                granted,
                self.session_expiry_s,
            )
        if self.protocol != "5" and not again:
            log.warning(
                "%s: over MQTT 3.1.1 our session (client id %s) is kept for as long as the"
                " broker's own settings say (mosquitto: persistent_client_expiration), not"
                " the %d s asked",
                where,
                self.client_id,
                self.session_expiry_s,
            )
        if again and not present:
            log.warning(
                "%s no longer had our session (client id %s): what was published while we"
                " were disconnected is lost to us (a broker restarted without persistence?)",
                where,
                self.client_id,
            )
        if receive_max is not None and receive_max < MIN_RECEIVE_MAXIMUM:
            log.warning(
                "%s allows only %d QoS 1 messages in flight (receive maximum): the dashboard"
                " stores at most that many per transaction (docs/mqtt.md asks for 100)",
                where,
                receive_max,
            )

    def _fall_back(self, old) -> None:
        old.disconnect()
        old.loop_stop()
        with self._lock:
            if self._stopping or self._client is not old:
                return
            self.protocol = "3.1.1"
            self._client = self._new_client()
            self._connect(self._client)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        if client is self._client and self.on_subscribe is not None:
            self.on_subscribe(client, reason_codes)

    def _on_message(self, client, userdata, msg):
        if self.on_message is not None:
            self.on_message(client, msg)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        if client is self._client and not self._answered_now and not self._stopping:
            self._trouble(
                diagnose.closed_before_connack(self.host, self.port, tls=bool(self.tls_ca))
            )
        if client is self._client and client is not self._retiring:
            if self.on_disconnect is not None:
                self.on_disconnect(client, reason_code)
