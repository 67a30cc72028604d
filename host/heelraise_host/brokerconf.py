"""The limits of the mosquitto config heelraise ships, for every broker the tests and benches run.

One job: read ``firmware/deploy/mosquitto/mosquitto.conf`` (in a source checkout)
and give its queue, in-flight and session limits as mosquitto config lines, so
that the one test broker (``heelraise_host.testbroker``, started by the test fixtures and
the benches) runs mosquitto with exactly what a deployer gets, never
raised ones. Listeners, logins, TLS and where to save are the starter's.

``heelraise demo`` embeds amqtt, which has no such settings (it has no queue
limit at all), so it does not use this.

>>> shipped_limits()["max_queued_messages"]
'50000'
>>> limit_lines()[:2]
['max_queued_messages 50000', 'max_queued_bytes 67108864']
"""

from __future__ import annotations

from pathlib import Path

#: the shipped example config, in a source checkout
SHIPPED_CONF = Path(__file__).resolve().parents[2] / "firmware/deploy/mosquitto/mosquitto.conf"

#: the settings that bound what the broker keeps and hands out (copied as they are)
LIMIT_KEYS = (
    "max_queued_messages",
    "max_queued_bytes",
    "max_inflight_messages",
    "max_inflight_bytes",
    "queue_qos0_messages",
    "persistent_client_expiration",
    "max_packet_size",
    "message_size_limit",
    "memory_limit",
    "max_keepalive",
    "upgrade_outgoing_qos",
)


def read_conf(path: Path = SHIPPED_CONF) -> dict[str, str]:
    """``key -> value`` of a mosquitto config (global options; the last one wins)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{path}: the shipped mosquitto config is missing (it lives in a source checkout"
            " of heelraise, under firmware/deploy/mosquitto/)"
        ) from None
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(" ")
        out[key] = value.strip()
    return out


def shipped_limits(path: Path = SHIPPED_CONF) -> dict[str, str]:
    """The :data:`LIMIT_KEYS` the shipped config sets, with their values."""
    conf = read_conf(path)
    return {k: conf[k] for k in LIMIT_KEYS if k in conf}


def limit_lines(path: Path = SHIPPED_CONF) -> list[str]:
    """The shipped limits as mosquitto config lines."""
    return [f"{k} {v}" for k, v in shipped_limits(path).items()]
