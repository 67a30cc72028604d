"""Topic names under ``<prefix>/<device_id>/`` (see the shared contract).

>>> t = Topics("heelraise", "shoe-1")
>>> t.event("rep"), t.status, t.cmd
('heelraise/shoe-1/event/rep', 'heelraise/shoe-1/status', 'heelraise/shoe-1/cmd')
>>> t.side_state("left"), t.side_state(None)
('heelraise/shoe-1/state/left', 'heelraise/shoe-1/state')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from heelraise.exceptions import SettingsError

#: A device id is one topic level: letters, digits, ``_ . -`` (no ``/ + #``).
DEVICE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
#: A prefix is one or more such levels joined by ``/``.
PREFIX = re.compile(r"^[A-Za-z0-9_.-]{1,64}(/[A-Za-z0-9_.-]{1,64})*$")

EVENT_KINDS = ("rep", "set", "session")
#: The shoes a topic level can name (heelraise.symmetry.SIDES).
SIDE_LEVELS = ("left", "right")


def _side_level(side: str) -> str:
    if side not in SIDE_LEVELS:
        raise ValueError(f"side {side!r} is not one of {SIDE_LEVELS}")
    return side


def check_device_id(device_id: str) -> str:
    if not isinstance(device_id, str) or not DEVICE_ID.match(device_id):
        raise SettingsError(
            f"device id {device_id!r} must be 1 to 64 letters, digits, '_', '.' or '-' "
            "(it is one MQTT topic level)"
        )
    return device_id


def check_prefix(prefix: str, name: str = "prefix") -> str:
    if not isinstance(prefix, str) or not PREFIX.match(prefix):
        raise SettingsError(
            f"{name} {prefix!r} must be topic levels of letters, digits, '_', '.' or '-' "
            "joined by '/', with no wildcards and no leading or trailing '/'"
        )
    return prefix


@dataclass(frozen=True)
class Topics:
    prefix: str
    device_id: str

    def __post_init__(self):
        check_prefix(self.prefix)
        check_device_id(self.device_id)

    @property
    def base(self) -> str:
        return f"{self.prefix}/{self.device_id}"

    @property
    def status(self) -> str:
        return f"{self.base}/status"

    @property
    def state(self) -> str:
        return f"{self.base}/state"

    @property
    def health(self) -> str:
        """Sensor health and this session's gaps, retained (sent on change)."""
        return f"{self.base}/health"

    @property
    def live(self) -> str:
        return f"{self.base}/live"

    @property
    def last_rep(self) -> str:
        """The newest rep event again, retained (for Home Assistant's last-rep sensors)."""
        return f"{self.base}/last_rep"

    @property
    def last_session(self) -> str:
        """The newest session event again, retained (for Home Assistant's LSI sensors)."""
        return f"{self.base}/last_session"

    def side_state(self, side: str | None) -> str:
        """One shoe's retained state: ``state/left``, ``state/right``; ``state`` for one
        unnamed sensor (two shoes on one topic would overwrite each other's retained state)."""
        return self.state if side is None else f"{self.state}/{_side_level(side)}"

    def side_last_rep(self, side: str | None) -> str:
        """One shoe's newest rep, retained: ``last_rep/left``, ...; ``last_rep`` unnamed."""
        return self.last_rep if side is None else f"{self.last_rep}/{_side_level(side)}"

    @property
    def cmd(self) -> str:
        return f"{self.base}/cmd"

    @property
    def cmd_result(self) -> str:
        return f"{self.base}/cmd/result"

    def event(self, kind: str) -> str:
        if kind not in EVENT_KINDS:
            raise ValueError(f"event kind {kind!r} is not one of {EVENT_KINDS}")
        return f"{self.base}/event/{kind}"
