"""Topic names under ``<prefix>/<device_id>/``: built (the shoe) and parsed (the dashboard).

>>> t = Topics("heelraise", "shoe-1")
>>> t.event("rep"), t.status, t.cmd
('heelraise/shoe-1/event/rep', 'heelraise/shoe-1/status', 'heelraise/shoe-1/cmd')
>>> t.side_state("left"), t.side_state(None)
('heelraise/shoe-1/state/left', 'heelraise/shoe-1/state')
>>> subscription("heelraise", "event/+"), subscription("heelraise", "state")
('heelraise/+/event/+', 'heelraise/+/state')
>>> parse_topic("heelraise/shoe-1/event/rep", "heelraise")
('shoe-1', 'rep')
>>> parse_topic("heelraise/shoe-1/cmd", "heelraise")
Traceback (most recent call last):
heelraise.exceptions.MessageRejected: unknown_topic on 'heelraise/shoe-1/cmd': \
expected <prefix>/<device>/{event/rep,event/set,event/session,state,state/left,state/right,\
health,live,status}
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from heelraise.exceptions import MessageRejected, SettingsError

#: A device id is one topic level: letters, digits, ``_ . -`` (no ``/ + #``).
DEVICE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
#: What :data:`DEVICE_ID` allows, in words (for the errors of every place that checks one).
DEVICE_ID_RULE = "1 to 64 letters, digits, '_', '.' or '-' (it is one MQTT topic level)"
#: A prefix is one or more such levels joined by ``/``.
PREFIX = re.compile(r"^[A-Za-z0-9_.-]{1,64}(/[A-Za-z0-9_.-]{1,64})*$")

#: The message types that are events: sent at QoS 1, stored once by message id.
EVENT_KINDS = ("rep", "set", "session")
#: The shoes a topic level can name (heelraise.symmetry.SIDES).
SIDE_LEVELS = ("left", "right")

#: What a device publishes and a receiver reads: topic suffix (after
#: ``<prefix>/<device>/``) -> message type. ``cmd`` and ``cmd/result`` go the other way.
TOPIC_TYPES = {
    "event/rep": "rep",
    "event/set": "set",
    "event/session": "session",
    "state": "state",
    "state/left": "state",  # one shoe of two: each side's state is retained on its own
    "state/right": "state",
    "health": "health",
    "live": "live",
    "status": "status",
}


def _side_level(side: str) -> str:
    if side not in SIDE_LEVELS:
        raise ValueError(f"side {side!r} is not one of {SIDE_LEVELS}")
    return side


def check_device_id(device_id: str) -> str:
    if not isinstance(device_id, str) or not DEVICE_ID.match(device_id):
        raise SettingsError(f"device id {device_id!r} must be {DEVICE_ID_RULE}")
    return device_id


def check_prefix(prefix: str, name: str = "prefix") -> str:
    if not isinstance(prefix, str) or not PREFIX.match(prefix):
        raise SettingsError(
            f"{name} {prefix!r} must be topic levels of letters, digits, '_', '.' or '-' "
            "joined by '/', with no wildcards and no leading or trailing '/'"
        )
    return prefix


def _level(suffix: str, doc: str) -> property:
    """A topic of :class:`Topics`: ``<base>/<suffix>``."""
    return property(lambda self: f"{self.base}/{suffix}", doc=doc)


@dataclass(frozen=True)
class Topics:
    """The topics of one device. ``checked=False`` skips the checks of the prefix and the
    device id: only for making messages a shoe could never send (the dashboard's tests)."""

    prefix: str
    device_id: str
    checked: bool = field(default=True, repr=False, compare=False)

    def __post_init__(self):
        if self.checked:
            check_prefix(self.prefix)
            check_device_id(self.device_id)

    @property
    def base(self) -> str:
        return f"{self.prefix}/{self.device_id}"

    status = _level("status", "``online`` / ``offline``, retained (the last will says offline)")
    state = _level("state", "the service's snapshot, retained (sent on change)")
    health = _level("health", "sensor health and this session's gaps, retained (sent on change)")
    live = _level("live", "decimated pitch and phase, QoS 0 (when live output is on)")
    last_rep = _level("last_rep", "the newest rep event again, retained (Home Assistant's sensors)")
    last_session = _level(
        "last_session", "the newest session event again, retained (Home Assistant's LSIs)"
    )
    cmd = _level("cmd", "commands in")
    cmd_result = _level("cmd/result", "each command's answer")

    def side_state(self, side: str | None) -> str:
        """One shoe's retained state: ``state/left``, ``state/right``; ``state`` for one
        unnamed sensor (two shoes on one topic would overwrite each other's retained state)."""
        return self.state if side is None else f"{self.state}/{_side_level(side)}"

    def side_last_rep(self, side: str | None) -> str:
        """One shoe's newest rep, retained: ``last_rep/left``, ...; ``last_rep`` unnamed."""
        return self.last_rep if side is None else f"{self.last_rep}/{_side_level(side)}"

    def event(self, kind: str) -> str:
        if kind not in EVENT_KINDS:
            raise ValueError(f"event kind {kind!r} is not one of {EVENT_KINDS}")
        return f"{self.base}/event/{kind}"


def parse_topic(topic: str, prefix: str) -> tuple[str, str]:
    """``(device, type)`` of a topic a device publishes under ``prefix``; raises
    :class:`~heelraise.exceptions.MessageRejected` (``unknown_topic``) for any other."""
    head = prefix.rstrip("/") + "/"
    if not topic.startswith(head):
        raise MessageRejected("unknown_topic", topic, None, f"not under prefix {prefix!r}")
    device, _, rest = topic[len(head) :].partition("/")
    kind = TOPIC_TYPES.get(rest)
    if not device or kind is None:
        raise MessageRejected(
            "unknown_topic",
            topic,
            device or None,
            f"expected <prefix>/<device>/{{{','.join(TOPIC_TYPES)}}}",
        )
    return device, kind


def subscription(prefix: str, suffix: str) -> str:
    """The filter for one topic of every device under ``prefix``: ``<prefix>/+/<suffix>``,
    where ``suffix`` is one of :data:`TOPIC_TYPES`, ``event/+`` (every event) or ``state/+``
    (each shoe of a pair)."""
    if suffix not in ("event/+", "state/+") and suffix not in TOPIC_TYPES:
        raise ValueError(
            f"no device topic {suffix!r}; known: event/+, state/+, {', '.join(TOPIC_TYPES)}"
        )
    return f"{prefix}/+/{suffix}"
