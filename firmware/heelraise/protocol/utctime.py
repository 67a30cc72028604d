"""UTC wall-clock times as every message writes them: ``2026-11-24T03:15:00.123Z``.

One format on both sides: the envelope's ``time``, the dashboard's ``received_at``
and the made-up sessions of :mod:`heelraise_host.devicesim` all come from
:func:`iso_utc`; :func:`parse_utc` reads them back (the schemas' ``date-time``).

>>> iso_utc(0.9999), iso_utc(1795503600.5)
('1970-01-01T00:00:00.999Z', '2026-11-24T07:00:00.500Z')
>>> import datetime as dt
>>> iso_utc(dt.datetime(2026, 11, 24, 7, 0, 1, 976999, tzinfo=dt.UTC))
'2026-11-24T07:00:01.976Z'
>>> parse_utc("2026-11-24T07:00:01.976Z").isoformat()
'2026-11-24T07:00:01.976000+00:00'
"""

from __future__ import annotations

import datetime as dt


def iso_utc(when: float | dt.datetime) -> str:
    """A Unix time (seconds) or an aware datetime as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` in UTC;
    the datetime's microseconds truncated to milliseconds, never rounded up."""
    t = when if isinstance(when, dt.datetime) else dt.datetime.fromtimestamp(when, dt.UTC)
    t = t.astimezone(dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def parse_utc(text: str) -> dt.datetime:
    """The aware datetime of an ISO-8601 time ending in ``Z``; ValueError if it is none."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
