"""Every error heelraise raises on purpose, one name per kind of trouble."""


class HeelraiseError(Exception):
    """Base class of the errors heelraise raises on purpose."""


class RecordingError(HeelraiseError):
    """A recording file is unreadable or breaks the recording format.

    ``path`` and ``line`` (1-based, or None when the whole file is at fault)
    say where; ``str()`` is a one-line message fit for a terminal.
    """

    def __init__(self, path, line, message):
        self.path = str(path)
        self.line = line
        self.message = message
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {message}")


class SettingsError(HeelraiseError, ValueError):
    """A setting has a value outside what is allowed; the message names it."""


class TempoError(SettingsError):
    """A tempo string is not in the ``lower-bottom-raise-top`` notation."""


class CalibrationError(HeelraiseError):
    """No still period was found to take neutral (shoe flat) from."""


class SensorError(HeelraiseError):
    """The IMU is missing, unidentified or keeps failing on the bus."""


class ConfigError(SettingsError):
    """The service configuration file is invalid; the message names the key."""


class PinMapError(SettingsError):
    """A pin map (``hardware/pins.toml`` or the ``[cues]`` pins) is invalid.

    The message names the file, the key and the bad value.
    """


class MessageRejected(HeelraiseError):
    """An MQTT message the host will not store: bad topic, size, JSON, schema or envelope.

    ``kind`` is one of ``heelraise_host.messages.REJECT_KINDS`` (the reason it is
    counted under); ``topic`` and ``device`` (None when unknown) say where.
    """

    def __init__(self, kind, topic, device, message):
        self.kind = kind
        self.topic = topic
        self.device = device
        self.message = message
        super().__init__(f"{kind} on {topic!r}: {message}")


class PayloadInvalid(HeelraiseError, ValueError):
    """An MQTT payload breaks its JSON Schema; ``type`` and ``where`` (a JSON path) say how."""

    def __init__(self, type_, where, message):
        self.type = type_
        self.where = where
        self.message = message
        super().__init__(f"{type_} payload invalid at {where}: {message}")


class OutboxError(HeelraiseError):
    """The MQTT outbox cannot take a message (hard cap reached) or cannot be opened."""


class DemoError(HeelraiseError):
    """``heelraise demo`` cannot run: no broker can be started, a port is taken, the
    dashboard cannot subscribe. The message says which part and what to change."""
