"""``heelraise watch``: a live terminal table of reps as they arrive over MQTT, per device.

One job: show, not store. Messages are checked exactly as the dashboard's ingest
checks them (:func:`heelraise_host.messages.parse`); refused ones are counted in
the table's caption. The subscription is an ordinary one (never shared), so a
watcher never takes events away from a dashboard group, and it works over MQTT 5
or 3.1.1 (``protocol``; by default 5, falling back to 3.1.1 when the broker
refuses 5: see :mod:`heelraise_host.mqttlink`).

It says "connecting to HOST:PORT..." at once, and a plain line when the broker
cannot be reached (connection refused, no such host, no answer) or refuses us;
a device that goes offline shows no phase (its last one is no longer true).

>>> from heelraise_host.devicesim import session_messages
>>> table = RepTable(rows_per_device=6)
>>> for m in session_messages("shoe-1", "s-1", reps_per_set=[3, 2], tempo="3-0-2-1"):
...     table.add(messages.parse(m.topic, m.payload))
>>> table.take("heelraise/shoe-1/event/rep", b'{"schema": 1, "id": ')   # counted, not raised
>>> import rich.console
>>> console = rich.console.Console(width=100, color_system=None)
>>> console.print(table.render())  # doctest: +NORMALIZE_WHITESPACE
heelraise: reps as they arrive
┏━━━━━━━━┳━━━━━━━━┳━━━━━━━┳━━━━━━━━━┳━━━━━┳━━━━━┳━━━━━━━━┳━━━━━━━━┳━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━┓
┃ device ┃ status ┃ phase ┃ session ┃ set ┃ rep ┃ rise s ┃ hold s ┃ lower s ┃ heel mm ┃ faults ┃
┡━━━━━━━━╇━━━━━━━━╇━━━━━━━╇━━━━━━━━━╇━━━━━╇━━━━━╇━━━━━━━━╇━━━━━━━━╇━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━┩
│ shoe-1 │ ?      │ still │ s-1     │   1 │   1 │   1.98 │   0.95 │    3.00 │    59.3 │        │
│        │        │       │ s-1     │   1 │   2 │   2.08 │   1.02 │    2.90 │    58.5 │        │
│        │        │       │ s-1     │   1 │   3 │   1.99 │   0.92 │    2.97 │    57.4 │        │
│        │        │       │ s-1     │   2 │   1 │   2.05 │   0.90 │    3.00 │    58.7 │        │
│        │        │       │ s-1     │   2 │   2 │   2.09 │   0.99 │    2.83 │    58.0 │        │
└────────┴────────┴───────┴─────────┴─────┴─────┴────────┴────────┴─────────┴─────────┴────────┘
refused: malformed_json 1
"""

from __future__ import annotations

import collections
import queue
import socket
import threading

from heelraise.exceptions import MessageRejected
from heelraise.protocol.topics import subscription

from heelraise_host import messages
from heelraise_host.ingest import IngestError, parse_hostport
from heelraise_host.mqttlink import MqttLink


class RepTable:
    """The last ``rows_per_device`` reps of every device (of each shoe of a pair, shown as
    ``device left`` / ``device right``), with its status and phase."""

    def __init__(self, rows_per_device: int = 8):
        self.rows_per_device = rows_per_device
        self.reps: dict[tuple[str, str], collections.deque] = {}  # (device, side or "")
        self.status: dict[str, str] = {}
        self.state: dict[tuple[str, str], dict] = {}
        self.rep_totals = collections.Counter()
        self.rejected = collections.Counter()
        self._seen: set[tuple[str, str]] = set()

    def add(self, msg: messages.Message) -> None:
        device = msg.device
        shoe = (device, (msg.body or {}).get("side") or "")
        if msg.type == "status":
            self.status[device] = msg.status
            if not any(d == device for d, _ in self.reps):
                self.reps[shoe] = collections.deque(maxlen=self.rows_per_device)
            return
        if msg.type not in ("state", "rep"):
            return  # a set or session ("both" shoes) is not a row of its own
        self.reps.setdefault(shoe, collections.deque(maxlen=self.rows_per_device))
        if shoe[1]:  # a shoe of a pair: a row of its own replaces the device's placeholder
            placeholder = self.reps.get((device, ""))
            if placeholder is not None and not placeholder:
                del self.reps[(device, "")]
        if msg.type == "state":
            self.state[shoe] = msg.body["state"]
        elif msg.type == "rep":
            key = (device, msg.id)  # ids are unique per device only
            if key in self._seen:  # a QoS 1 redelivery
                return
            self._seen.add(key)
            self.reps[shoe].append((msg.session, msg.body["rep"]))
            self.rep_totals[device] += 1

    def reject(self, e: MessageRejected) -> None:
        self.rejected[e.kind] += 1

    def take(self, topic: str, payload: bytes, prefix: str = "heelraise") -> None:
        """Check one MQTT message and show it, or count its refusal; never raises."""
        try:
            self.add(messages.parse(topic, payload, prefix=prefix))
        except MessageRejected as e:
            self.reject(e)

    def render(self):
        from rich.table import Table
        from rich.text import Text

        table = Table(title="heelraise: reps as they arrive", expand=False)
        for name, justify in (
            ("device", "left"),
            ("status", "left"),
            ("phase", "left"),
            ("session", "left"),
            ("set", "right"),
            ("rep", "right"),
            ("rise s", "right"),
            ("hold s", "right"),
            ("lower s", "right"),
            ("heel mm", "right"),
            ("faults", "left"),
        ):
            table.add_column(name, justify=justify)
        for device, side in sorted(self.reps):
            state = self.state.get((device, side)) or {}
            rows = list(self.reps[(device, side)]) or [(None, None)]
            for i, (session, rep) in enumerate(rows):
                first = i == 0
                # Text(): device ids and sessions are data, never rich markup.
                status = self.status.get(device, "?")
                # An offline device's last phase is stale: show none.
                phase = "" if status == "offline" else str(state.get("phase", ""))
                cells = [
                    Text((f"{device} {side}" if side else device) if first else ""),
                    Text(status if first else ""),
                    Text(phase if first else ""),
                ]
                if rep is None:
                    cells += [Text("")] * 8
                else:
                    faults = ", ".join(rep.get("faults") or [])
                    cells += [
                        Text(str(session)),
                        Text(str(rep["set"])),
                        Text(str(rep["index"])),
                        Text(_f(rep.get("raise_s"))),
                        Text(_f(rep.get("top_hold_s"))),
                        Text(_f(rep.get("lower_s"))),
                        Text(_f(rep.get("heel_rise_mm"), 1)),
                        Text(faults, style="red" if faults else ""),
                    ]
                table.add_row(*cells, end_section=i == len(rows) - 1)
        if self.rejected:
            table.caption = "refused: " + ", ".join(
                f"{k} {n}" for k, n in sorted(self.rejected.items())
            )
        return table


def reachable(host: str, port: int, timeout_s: float) -> None:
    """Raise IngestError with a plain reason when nothing answers at ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass
    except ConnectionRefusedError:
        raise IngestError(
            f"cannot connect to broker {host}:{port}: connection refused (no MQTT broker"
            " listens there; start mosquitto, or give --broker HOST:PORT)"
        ) from None
    except socket.gaierror as e:
        raise IngestError(f"cannot connect to broker {host}:{port}: {e.strerror}") from None
    except TimeoutError:
        raise IngestError(
            f"cannot connect to broker {host}:{port}: no answer within {timeout_s:g} s"
        ) from None
    except OSError as e:
        raise IngestError(f"cannot connect to broker {host}:{port}: {e.strerror or e}") from None


def _f(v, digits: int = 2) -> str:
    return "" if v is None else f"{v:.{digits}f}"


def watch(
    broker: str = "127.0.0.1:1883",
    *,
    prefix: str = "heelraise",
    rows_per_device: int = 8,
    username: str | None = None,
    password: str | None = None,
    tls_ca: str | None = None,
    protocol: str | None = None,
    console=None,
    stop: threading.Event | None = None,
    table: RepTable | None = None,
    connect_timeout_s: float = 10.0,
) -> int:
    """Show the table until ``stop`` is set (or Ctrl-C). Returns an exit status."""
    from rich.console import Console
    from rich.live import Live

    host, port = parse_hostport(broker, 8883 if tls_ca else 1883, "broker")
    prefix = prefix.strip("/")
    console = console or Console()
    stop = stop or threading.Event()
    inbox: queue.Queue = queue.Queue()
    subscribed = threading.Event()
    refused: list[str] = []
    console.print(f"heelraise watch: connecting to {host}:{port}...", markup=False, highlight=False)
    reachable(host, port, connect_timeout_s)

    def on_refused(reason: str) -> None:
        refused.append(reason)
        subscribed.set()

    link = MqttLink(
        host,
        port,
        protocol=protocol,  # None: MQTT 5, or 3.1.1 if the broker refuses 5
        username=username,
        password=password,
        tls_ca=tls_ca,
        name="heelraise-watch",
        on_connect=lambda c: c.subscribe(
            [
                (subscription(prefix, "event/rep"), 1),
                (subscription(prefix, "state"), 1),
                (subscription(prefix, "state/+"), 1),  # each shoe of a pair
                (subscription(prefix, "status"), 1),
            ]
        ),
        on_subscribe=lambda c, reason_codes: subscribed.set(),
        on_refused=on_refused,
        on_message=lambda c, msg: inbox.put((msg.topic, msg.payload)),
    )
    link.start()
    try:
        if not subscribed.wait(connect_timeout_s):
            trouble = link.trouble  # what the link saw go wrong, if anything
            raise IngestError(
                f"broker {host}:{port} accepted the connection but did not answer within"
                f" {connect_timeout_s:g} s (is it an MQTT broker? TLS needs --ca)"
                + (f": {trouble}" if trouble else "")
            )
        if refused:
            raise IngestError(f"broker {host}:{port} refused us: {refused[0]}")
        console.print(f"heelraise watch: connected to {host}:{port}", markup=False, highlight=False)
        table = table or RepTable(rows_per_device)
        with Live(table.render(), console=console, refresh_per_second=8) as live:
            while not stop.is_set():
                try:
                    topic, payload = inbox.get(timeout=0.2)
                except queue.Empty:
                    continue
                table.take(topic, payload, prefix)
                live.update(table.render())
        return 0
    finally:
        link.stop()
