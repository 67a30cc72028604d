"""paho-mqtt's client module, imported without TLS, WebSocket and proxy code until used.

paho 2 imports ``ssl``, ``hashlib`` and ``urllib.request`` at the top of
``paho.mqtt.client``: 5 MB of the shoe's memory (OpenSSL's libraries, ``http.client``,
``email``; ``bench/service_cpu.py``) that a plain-TCP connection never uses. paho reads
them only in ``tls_set`` and the TLS socket (``ssl``), the WebSocket handshake
(``hashlib``) and the proxy settings when PySocks is installed (``urllib.request``), and
names ``ssl.SSLWantReadError`` / ``SSLWantWriteError`` in the ``except`` clauses of every
socket read and write: before ``ssl`` is imported no such error can exist, so those
clauses get a class nothing raises (:class:`heelraise.deferred.StandIn`). A TLS config
imports ``ssl`` for real when the publisher calls ``tls_set`` (and names
``ssl.CERT_REQUIRED``), and from then on paho sees the real module.

paho's connect hands the broker's host name to ``socket.getaddrinfo``, which encodes it
with the ``idna`` codec: an ASCII name gets a light codec (:func:`heelraise.deferred.defer_idna`),
not the module that loads ``stringprep`` and ``unicodedata`` (0.4 MB).
"""

from __future__ import annotations

from heelraise.deferred import StandIn, defer_idna, import_deferring


def paho_client():
    """The module ``paho.mqtt.client`` (imported light the first time: see above)."""
    defer_idna()
    return import_deferring(
        "paho.mqtt.client",
        StandIn("ssl", placeholders=("SSLWantReadError", "SSLWantWriteError")),
        StandIn("hashlib"),
        StandIn("urllib.request"),
    )
