"""The MQTT message protocol, the one home both sides import (the shoe and the dashboard).

- :mod:`~heelraise.protocol.topics`: topic names, built and parsed; the device-id rule.
- :mod:`~heelraise.protocol.payloads`: ``SCHEMA_VERSION``, the envelope, a body per message.
- :mod:`~heelraise.protocol.utctime`: the UTC time format every message uses.
- :mod:`~heelraise.protocol.validation`: JSON within limits, then the shipped schemas.
- ``schemas/``: one JSON Schema per message type, and the pieces they share.

The events themselves (:mod:`heelraise.events`) each carry their one serialiser, ``body()``.
"""
