"""The MQTT publisher: an EventSink that never blocks the sensor loop and never loses an event.

Wiring (the service does this from the ``[mqtt]`` config table; needs a broker)::

    from heelraise.mqtt.publisher import MqttPublisher
    from heelraise.mqtt.settings import MqttSettings
    pub = MqttPublisher(MqttSettings(host="192.168.1.20"), device_id="shoe-1",
                        session_id="20261124T031500Z", command_handler=commands.submit)
    # a sink of the service (heelraise.service.assemble): on_event / on_state / on_live
    # from the loop thread
    pub.close()                  # at shutdown: drain (bounded), retained "offline", disconnect

How it works, thread by thread:

- **sensor loop** (the caller): ``on_event`` turns a rep/set/session event into
  its JSON payload, writes it to the SQLite :class:`~heelraise.mqtt.outbox.Outbox`
  and wakes the sender. That is all: no network, no waiting on the broker.
  ``on_state`` does the same for the retained ``state`` (only when it changed;
  an unsent older state is replaced). ``on_live`` batches the samples the service
  decimated (heelraise.service.live) and sends a batch at QoS 0 when connected,
  else drops it (live is "now" only).
- **sender thread**: hands outbox rows to paho in order (at most ``WINDOW`` not
  yet acknowledged), and deletes a row when paho reports the broker's PUBACK
  (``on_publish``). After a disconnect paho itself resends what it holds; after a
  crash the next process replays the outbox from its oldest row.
- **paho's network thread** (``loop_start``, ``connect_async``): connects in the
  background with exponential backoff (``reconnect_min_s`` .. ``reconnect_max_s``),
  so a broker that is down at boot or gone for an hour costs the loop nothing.
  On connect it publishes ``status`` = ``online`` (retained; the last will is
  ``offline``), subscribes to the device's own ``cmd`` topic and, with
  ``discovery``, announces the device to Home Assistant.

Commands (``<prefix>/<device>/cmd``): at most ``max_cmd_bytes``, nested at most
``validation.MAX_DEPTH`` deep, UTF-8 JSON valid against ``cmd.schema.json``, not
retained, not a repeat of a recent id (only commands with an id are deduplicated; a
repeat answers "duplicate"), within the rate limit (``CMD_BURST``, ``CMD_RATE_PER_S``); then
``command_handler(name, args)`` (the service's ``CommandQueue.submit``) returns a
Future of ``(ok, reason)``, and the answer goes to ``cmd/result`` with the
caller's id. Anything else is refused there with a reason; nothing raises.

Secrets: the password is given to paho and to nothing else; it is never logged.
"""

from __future__ import annotations

import collections
import json
import logging
import queue
import threading
import time

from heelraise.exceptions import OutboxError, PayloadInvalid, SettingsError
from heelraise.mqtt import diagnose
from heelraise.mqtt.discovery import discovery_messages, ha_status_topic
from heelraise.mqtt.outbox import Outbox
from heelraise.mqtt.settings import MqttSettings
from heelraise.protocol import payloads, validation
from heelraise.protocol.topics import Topics

log = logging.getLogger("heelraise.mqtt")

#: Outbox rows handed to paho and not yet acknowledged, at most.
WINDOW = 100
#: Command ids remembered to answer QoS 1 redeliveries of the same command "duplicate".
RECENT_CMD_IDS = 256
#: Commands handed to the service: a burst of CMD_BURST, then CMD_RATE_PER_S a second
#: (a person presses a button a few times a second at most); the rest are refused, each
#: with a reason on cmd/result, so a flood never reaches the sensor loop.
CMD_RATE_PER_S = 5.0
CMD_BURST = 10
#: The answer to a command that arrives with the retain flag (at subscribe or published
#: retained while we are connected): it is never run.
RETAINED_REFUSAL = "refused: retained commands are not run; publish with retain off"


class MqttPublisher:
    """Publishes events, state and live samples; answers commands (see the module docstring).

    ``client_factory(client_id)`` returns a paho-compatible client (tests, other
    transports); ``clock()`` is the wall clock for the envelopes' ``time``
    (default ``time.time``).
    """

    def __init__(
        self,
        settings: MqttSettings,
        *,
        device_id: str,
        session_id: str,
        command_handler=None,
        client_factory=None,
        clock=None,
        monotonic=None,
        sides: tuple[str, ...] = (),
    ):
        self.settings = settings
        #: the shoes this device measures ("left", "right"; () for one unnamed sensor):
        #: Home Assistant gets each one's entities (and the LSIs with two)
        self.sides = tuple(sides)
        self._monotonic = monotonic or time.monotonic  # the command rate limit's clock
        self._cmd_tokens = float(CMD_BURST)
        self._cmd_tokens_at: float | None = None
        self.topics = Topics(settings.prefix, device_id)
        self.device_id = device_id
        self.session_id = str(session_id)
        self.command_handler = command_handler
        self._env = payloads.Envelope(device_id, self.session_id, wall_clock=clock or time.time)
        self.outbox = Outbox(settings.resolve_outbox_path(device_id), settings.outbox_max_messages)
        self.connected = threading.Event()
        self._closed = False
        self._sensor_t_s: float | None = None
        self._last_state: dict[str | None, dict] = {}  # the last state sent, per side
        self._live_t: list[float] = []
        self._live_pitch: list[float] = []
        self._recent_cmds: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._cmd_lock = threading.Lock()
        self._refusal_logged: str | None = None
        self._down_logged: str | bool = False  # the last connection trouble logged
        self._answered = False  # the broker answered this connection's CONNECT

        # sender thread state (only the sender thread touches _inflight/_handed_seq)
        self._inflight: dict[int, int] = {}  # paho mid -> outbox seq
        self._handed_seq = 0
        self._acks: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._to_check: collections.deque = collections.deque()  # (kind, payload) to validate
        self._stop_sender = threading.Event()
        self._reset_handed = False

        password = settings.resolve_password()
        client_id = settings.client_id or f"heelraise-{device_id}"
        self.client = self._make_client(client_factory, client_id, password)
        self._sender = threading.Thread(
            target=self._sender_main, name=f"heelraise-mqtt-sender-{device_id}", daemon=True
        )
        self._sender.start()
        self.client.connect_async(settings.host, settings.port, keepalive=settings.keepalive)
        self.client.loop_start()

    # --- set-up -------------------------------------------------------------------------------

    def _make_client(self, client_factory, client_id: str, password: str | None):
        s = self.settings
        if client_factory is not None:
            client = client_factory(client_id)
        else:
            from heelraise.mqtt.client import paho_client

            mqtt = paho_client()
            # MQTT 5: the cmd subscription keeps the retain flag of what is published while
            # we are connected (retainAsPublished), so a retained command is always seen as one.
            # No session is kept either way (5: clean start, session expiry 0).
            v5 = s.protocol == "5"
            client = mqtt.Client(
                mqtt.CallbackAPIVersion.VERSION2,
                client_id=client_id,
                clean_session=None if v5 else True,
                protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
            )
        paho_log = logging.getLogger("heelraise.mqtt.paho")
        if paho_log.isEnabledFor(logging.DEBUG):
            # paho logs every failed reconnect at ERROR; only worth it when debugging.
            client.enable_logger(paho_log)
        client.will_set(self.topics.status, "offline", qos=1, retain=True)
        if s.use_tls:
            import ssl

            try:
                client.tls_set(
                    ca_certs=s.tls_ca or None,
                    certfile=s.tls_cert or None,
                    keyfile=s.tls_key or None,
                    cert_reqs=ssl.CERT_REQUIRED,
                )
            except (OSError, ValueError) as e:  # a file that is not PEM, or not that kind
                raise SettingsError(diagnose.tls_files(e, ca=s.tls_ca, cert=s.tls_cert)) from None
        if s.username:
            client.username_pw_set(s.username, password)
        # paho only stores these (typed int, used as float), so sub-second values work for tests.
        client.reconnect_delay_set(min_delay=s.reconnect_min_s, max_delay=s.reconnect_max_s)
        client.max_inflight_messages_set(20)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_pre_connect = self._on_pre_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_other_message
        client.message_callback_add(self.topics.cmd, self._on_cmd)
        if s.discovery:
            client.message_callback_add(ha_status_topic(s.discovery_prefix), self._on_ha_status)
        return client

    # --- EventSink ----------------------------------------------------------------------------

    def on_event(self, event) -> None:
        """Store a rep/set/session event in the outbox and wake the sender (never blocks)."""
        t_s = getattr(event, "t_s", None)
        if t_s is not None:
            self._sensor_t_s = float(t_s)
        maker = payloads.EVENT_PAYLOADS.get(type(event))
        if maker is None:
            log.debug("no MQTT message for a %s", type(event).__name__)
            return
        kind = event.kind
        try:
            payload = maker(self._env, event)
        except Exception as e:  # a malformed event object: say what, keep running
            log.error("cannot make the %s message from %r: %s", kind, event, e)
            return
        self._store(kind, self.topics.event(kind), payload, self.settings.qos, retain=False)

    def on_state(self, state: dict) -> None:
        """Retained ``state`` when it changed (an unsent older state is replaced)."""
        state = dict(state)
        if state == self._last_state.get(state.get("side")):
            return
        self._last_state[state.get("side")] = state
        try:
            payload = payloads.state_payload(self._env, state, self._sensor_t_s)
        except (KeyError, TypeError, ValueError) as e:
            log.error("cannot make the state message from %r: %s", state, e)
            return
        self._store(
            "state",
            self.topics.side_state(payload["side"]),
            payload,
            self.settings.qos,
            retain=True,
            replace_unsent_after=self._handed_seq,
        )

    def on_health(self, health: dict) -> None:
        """Retained ``health``; every one is kept (the service sends one a second at most), so
        the dashboard sees each trouble even when the broker was away while it happened."""
        try:
            payload = payloads.health_payload(self._env, health, self._sensor_t_s)
        except (KeyError, TypeError, ValueError) as e:
            log.error("cannot make the health message from %r: %s", health, e)
            return
        self._store("health", self.topics.health, payload, self.settings.qos, retain=True)

    def on_live(self, t_s: float, pitch_deg: float, phase: str) -> None:
        """Batch the live samples the service hands over (it decides whether the stream is
        on and decimates it: heelraise.service.live); send a batch every ``live_batch_s``
        at QoS 0 when connected, else drop it (live is "now" only)."""
        self._sensor_t_s = float(t_s)
        self._live_t.append(float(t_s))
        self._live_pitch.append(float(pitch_deg))
        full = t_s - self._live_t[0] >= self.settings.live_batch_s - 1e-6
        if not full and len(self._live_t) < 250:
            return
        t, p = self._live_t, self._live_pitch
        self._live_t, self._live_pitch = [], []
        if not self.connected.is_set():
            return
        try:
            body = payloads.encode(payloads.live_payload(self._env, t, p, phase))
        except ValueError as e:
            log.warning("live batch not sent: %s", e)
            return
        self.client.publish(self.topics.live, body, qos=0, retain=False)

    def close(self) -> None:
        """Drain the outbox (at most ``close_timeout_s``), publish ``offline``, disconnect."""
        if self._closed:
            return
        self._closed = True
        deadline = time.monotonic() + self.settings.close_timeout_s
        while len(self.outbox) and self.connected.is_set() and time.monotonic() < deadline:
            self._wake.set()
            time.sleep(0.01)
        if len(self.outbox):
            log.warning(
                "%d MQTT message(s) not yet acknowledged stay in the outbox %s for the next start",
                len(self.outbox),
                self.outbox.path,
            )
        # The sender stops before "offline": a row's ack can come back before the sender has
        # published that row's retained copy (last_rep, last_session), which would then follow
        # "offline" and tell a subscriber the device spoke after it said it had gone.
        self._stop_sender.set()
        self._wake.set()
        self._sender.join(5)
        if self.connected.is_set():
            info = self.client.publish(self.topics.status, "offline", qos=1, retain=True)
            try:
                info.wait_for_publish(max(0.1, deadline - time.monotonic()))
            except (RuntimeError, ValueError) as e:
                log.warning("could not publish 'offline': %s", e)
        self.client.disconnect()
        self.client.loop_stop()
        self.outbox.close()

    # --- the outbox and the sender thread -------------------------------------------------------

    def _store(self, kind, topic, payload, qos, retain, replace_unsent_after=None) -> None:
        # The schema check (only with check_outgoing) is the sender thread's (_check_outgoing):
        # it costs milliseconds a message and only ever logs, so the sensor loop only encodes
        # and writes the row.
        if self.settings.check_outgoing:
            self._to_check.append((kind, payload))
        try:
            body = payloads.encode(payload)
        except ValueError as e:
            log.error("%s message not sent: %s (payload %r)", kind, e, payload)
            return
        try:
            self.outbox.put(
                kind, topic, body, qos, retain, replace_unsent_after=replace_unsent_after
            )
        except OutboxError as e:
            log.error("%s", e)
            return
        except Exception as e:  # disk full, file removed: the loop must keep counting
            log.error("outbox %s: cannot store the %s message: %s", self.outbox.path, kind, e)
            return
        self._wake.set()

    def _sender_main(self) -> None:
        # once, here: not in the middle of the session (commands are always checked)
        validation.compile_all(validation.TYPES if self.settings.check_outgoing else ("cmd",))
        while True:
            self._wake.wait(0.5)
            self._wake.clear()
            try:
                self._process_acks()
                self._check_outgoing()
                if self._stop_sender.is_set():
                    return
                if self.connected.is_set():
                    self._hand_out()
            except Exception:  # never let the sender die: log and keep going
                log.exception("MQTT sender")
                time.sleep(0.1)

    def _check_outgoing(self) -> None:
        while self._to_check:
            kind, payload = self._to_check.popleft()
            try:
                validation.validate(kind, payload)
            except PayloadInvalid as e:
                # Sent anyway (nothing is lost); the receiver's check will name it too.
                log.error("outgoing %s message breaks its schema: %s", kind, e)

    def _process_acks(self) -> None:
        seqs = []
        while True:
            try:
                mid = self._acks.get_nowait()
            except queue.Empty:
                break
            seq = self._inflight.pop(mid, None)
            if seq is not None:
                seqs.append(seq)
        if seqs:
            self.outbox.ack(*seqs)

    def _hand_out(self) -> None:
        import paho.mqtt.client as mqtt

        room = WINDOW - len(self._inflight)
        if room <= 0:
            return
        for row in self.outbox.pending(after_seq=self._handed_seq, limit=room):
            info = self.client.publish(row.topic, row.payload, qos=row.qos, retain=row.retain)
            if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
                log.warning("paho refused outbox row %d: %s", row.seq, mqtt.error_string(info.rc))
                self._wake.set()
                return
            self._inflight[info.mid] = row.seq
            self._handed_seq = row.seq
            if row.kind == "rep":
                # The newest rep again, retained: Home Assistant's last-rep sensors read it,
                # so they show the last rep after HA restarts (event/rep is not retained).
                # Not an outbox row: only the newest matters, and the next rep replaces it.
                side = json.loads(row.payload).get("side")
                topic = self.topics.side_last_rep(side)
                self.client.publish(topic, row.payload, qos=row.qos, retain=True)
            elif row.kind == "session":
                # Likewise the newest session, for Home Assistant's per-side totals and LSIs.
                self.client.publish(self.topics.last_session, row.payload, qos=row.qos, retain=True)

    # --- paho callbacks (network thread) ----------------------------------------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        s = self.settings
        if reason_code.is_failure:
            text = str(reason_code)
            self._answered = True
            if self._refusal_logged != text:
                self._refusal_logged = text
                hint = "password_file / $" + s.password_env
                line = diagnose.login_refused(
                    text, s.host, s.port, username=s.username, password_hint=hint
                )
                log.error("%s", line)
            return
        self._answered = True
        self._refusal_logged = None
        self._down_logged = False
        log.info("MQTT connected to %s:%d as %s", s.host, s.port, self.topics.base)
        client.publish(self.topics.status, "online", qos=1, retain=True)
        subs = [(self.topics.cmd, 1)]
        if s.discovery:
            subs.append((ha_status_topic(s.discovery_prefix), 1))
        if s.protocol == "5":
            from paho.mqtt.subscribeoptions import SubscribeOptions

            # retainAsPublished: without it the broker clears the retain flag of a command
            # published while we are connected, and _handle_cmd could not refuse it.
            subs = [
                (topic, SubscribeOptions(qos=qos, retainAsPublished=True)) for topic, qos in subs
            ]
            self._announce()
        client.subscribe(subs)
        self.connected.set()
        self._wake.set()

    def _on_connect_fail(self, client, userdata) -> None:
        s = self.settings
        error = diagnose.current_error()  # paho calls this inside its except clause
        line = diagnose.connect_failure(error, s.host, s.port, tls=s.use_tls)
        self._log_down(line, diagnose.level(error, tls=s.use_tls))

    def _on_pre_connect(self, client, userdata) -> None:
        self._answered = False

    def _log_down(self, line: str, level: int) -> None:
        if self._down_logged != line:  # once per distinct trouble, not at every retry
            self._down_logged = line
            log.log(level, "%s; events wait in the outbox (%d), retrying", line, len(self.outbox))

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        was = self.connected.is_set()
        self.connected.clear()
        if not was and not self._answered and not self._closed:
            s = self.settings
            line = diagnose.closed_before_connack(s.host, s.port, tls=s.use_tls)
            self._log_down(line, logging.ERROR)
        if was and not self._closed:
            log.warning(
                "MQTT connection to %s:%d lost (%s); retrying, events wait in the outbox",
                self.settings.host,
                self.settings.port,
                reason_code,
            )

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        self._acks.put(mid)
        self._wake.set()

    def _on_other_message(self, client, userdata, msg) -> None:
        log.warning("ignored a message on %r: not a topic of this device", msg.topic)

    def _on_ha_status(self, client, userdata, msg) -> None:
        if msg.payload.strip() == b"online":
            log.info("Home Assistant is online: announcing the device again")
            self._announce()

    def _announce(self) -> None:
        from heelraise import __version__

        for topic, config in discovery_messages(
            self.topics, self.settings.discovery_prefix, version=__version__, sides=self.sides
        ):
            self.client.publish(topic, json.dumps(config), qos=1, retain=True)

    # --- commands -------------------------------------------------------------------------------

    def _on_cmd(self, client, userdata, msg) -> None:
        try:
            self._handle_cmd(msg)
        except Exception as e:  # a command must never take the publisher down
            log.exception("command on %s", msg.topic)
            self._answer("-", None, False, f"internal error: {type(e).__name__}")

    def _handle_cmd(self, msg) -> None:
        limit = self.settings.max_cmd_bytes
        if msg.topic != self.topics.cmd:
            log.warning("ignored a command on %r: ours is %r", msg.topic, self.topics.cmd)
            return
        if not msg.payload:
            return  # an empty message only clears a retained command (ours comes back too)
        if msg.retain:
            # A retained command would run again at every reconnect.
            log.warning("refused a retained command on %s and cleared it", msg.topic)
            self.client.publish(self.topics.cmd, b"", qos=1, retain=True)
            self._answer("-", None, False, RETAINED_REFUSAL)
            return
        if len(msg.payload) > limit:
            self._refuse(
                "-", None, f"command is {len(msg.payload)} bytes, more than max_cmd_bytes {limit}"
            )
            return
        try:
            data = validation.loads(msg.payload)  # finite numbers, nesting bounded
        except validation.PayloadUnreadable as e:
            if e.reason == "too_deep":
                why = f"invalid: nested too deep (over {validation.MAX_DEPTH} levels)"
            else:
                why = f"command is unreadable: {e}"
            self._refuse("-", None, why)
            return
        if not isinstance(data, dict):
            self._refuse("-", None, f"command must be a JSON object, not {type(data).__name__}")
            return
        has_id = isinstance(data.get("id"), str) and bool(data.get("id"))
        cmd_id = data["id"] if has_id else "-"
        cmd = data.get("cmd") if isinstance(data.get("cmd"), str) else None
        try:
            validation.validate("cmd", data)
        except PayloadInvalid as e:
            self._refuse(cmd_id, cmd, f"invalid command at {e.where}: {e.message}")
            return
        with self._cmd_lock:
            # only commands that carry an id are deduplicated: a Home Assistant button sends
            # the same id-less payload at every press, and every press must count
            if has_id and cmd_id in self._recent_cmds:
                self._refuse(cmd_id, cmd, f"duplicate: command id {cmd_id!r} was already received")
                return
            if not self._take_cmd_token():
                self._refuse(
                    cmd_id,
                    cmd,
                    f"rate limited: more than {CMD_BURST} commands at once or "
                    f"{CMD_RATE_PER_S:g} a second; send it again later",
                )
                return
            if has_id:
                self._recent_cmds[cmd_id] = None
                while len(self._recent_cmds) > RECENT_CMD_IDS:
                    self._recent_cmds.popitem(last=False)
        if self.command_handler is None:
            self._refuse(cmd_id, cmd, "this device takes no commands (no command handler)")
            return
        args = dict(data.get("args") or {})
        try:
            future = self.command_handler(cmd, args)
        except Exception as e:
            self._refuse(cmd_id, cmd, f"{type(e).__name__}: {e}")
            return
        log.info("command %r: %s %s", cmd_id, cmd, args)
        future.add_done_callback(lambda f: self._command_done(cmd_id, cmd, args, f))

    def _take_cmd_token(self) -> bool:
        """Token bucket (CMD_BURST, refilled at CMD_RATE_PER_S); call with _cmd_lock held."""
        now = self._monotonic()
        if self._cmd_tokens_at is not None:
            elapsed = max(0.0, now - self._cmd_tokens_at)
            self._cmd_tokens = min(float(CMD_BURST), self._cmd_tokens + elapsed * CMD_RATE_PER_S)
        self._cmd_tokens_at = now
        if self._cmd_tokens < 1.0:
            return False
        self._cmd_tokens -= 1.0
        return True

    def _command_done(self, cmd_id, cmd, args, future) -> None:
        try:
            ok, reason = future.result()
        except Exception as e:
            ok, reason = False, f"{type(e).__name__}: {e}"
        self._answer(cmd_id, cmd, bool(ok), None if reason is None else str(reason))

    def _refuse(self, cmd_id, cmd, reason) -> None:
        log.warning("refused command %r on %s: %s", cmd_id, self.topics.cmd, reason)
        self._answer(cmd_id, cmd, False, reason)

    def _answer(self, cmd_id, cmd, ok, reason) -> None:
        payload = payloads.cmd_result_payload(self._env, cmd_id, cmd, ok, reason, self._sensor_t_s)
        self._store("cmd_result", self.topics.cmd_result, payload, self.settings.qos, retain=False)
