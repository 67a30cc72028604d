"""One clear line for each way a connection to the broker fails: TLS, ports, logins.

One job: turn what paho reports (the exception of a failed connection attempt, a
connection closed before the broker answered, a refused CONNACK) into a line
that names the broker, what is wrong and what to change. The shoe's publisher
and the dashboard (``heelraise_host.mqttlink``) both log these lines, once per
distinct trouble, at ERROR.

paho-mqtt 2 calls ``on_connect_fail(client, userdata)`` from inside the
``except OSError`` of its connection attempt, so :func:`current_error` there is
the exception of that attempt (``sys.exception()``).
"""

from __future__ import annotations

import logging
import socket
import sys

#: OpenSSL verification codes that mean "not signed by a CA we trust"
_UNTRUSTED = {2, 18, 19, 20, 21}  # unable to get issuer, self-signed, untrusted chain
#: ... and "outside its validity dates"
_DATES = {9, 10}  # not yet valid, expired


def current_error() -> BaseException | None:
    """The exception being handled (inside paho's ``on_connect_fail``), if any."""
    return sys.exception()


def connect_failure(exc: BaseException | None, host: str, port: int, *, tls: bool) -> str:
    """The line for a connection attempt that raised ``exc``."""
    where = f"MQTT broker {host}:{port}"
    if _ssl_error(exc, "SSLCertVerificationError"):
        code, text = exc.verify_code, exc.verify_message or str(exc)
        if code in _DATES or "expired" in text or "not yet valid" in text:
            return (
                f"{where}: its TLS certificate is outside its validity dates ({text}):"
                " renew the broker's certificate (or check this machine's clock)"
            )
        if "mismatch" in text.lower() or code == 62:
            return (
                f"{where}: its TLS certificate is not for {host!r} ({text}): connect with a"
                " name or address the certificate lists, or reissue it with that one"
            )
        if code in _UNTRUSTED or "issuer" in text or "self-signed" in text:
            return (
                f"{where}: its TLS certificate is not signed by the CA we trust ({text}):"
                " give the CA that signed the broker's certificate (tls_ca / --ca)"
            )
        return f"{where}: its TLS certificate was refused: {text}"
    if _tls_failed(exc, tls):
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc)
        return (
            f"{where}: the TLS handshake failed ({reason}): is {port} a plain MQTT port?"
            " TLS is on because a CA is set (tls_ca / --ca); TLS brokers usually listen on 8883"
        )
    if isinstance(exc, ConnectionRefusedError):
        return f"{where}: nothing listens there (connection refused); is the broker running?"
    if isinstance(exc, socket.gaierror):
        return f"{where}: unknown host ({exc.strerror or exc})"
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"{where}: no answer (timed out); is the address right and the port open?"
    if isinstance(exc, OSError):
        return f"{where}: cannot connect: {exc.strerror or exc}"
    return f"{where}: unreachable" + (" or its TLS handshake failed" if tls else "")


def tls_files(exc: BaseException, *, ca: str | None, cert: str | None = None) -> str:
    """The line for TLS files that cannot be loaded (not PEM, the wrong kind, unreadable)."""
    which = f"CA file {ca!r}" if ca else "the system CAs"
    if cert:
        which += f" or client certificate {cert!r}"
    return f"TLS: cannot load {which}: {getattr(exc, 'reason', None) or exc} (expected PEM files)"


def level(exc: BaseException | None, *, tls: bool) -> int:
    """ERROR for a mistake the deployer must fix (TLS); WARNING for a broker not up (yet)."""
    return logging.ERROR if _tls_failed(exc, tls) else logging.WARNING


def _tls_failed(exc, tls: bool) -> bool:
    # An SSL error, or the broker hanging up on our TLS hello (it expects plain MQTT there).
    return _ssl_error(exc, "SSLError") or (
        tls and isinstance(exc, ConnectionResetError | BrokenPipeError)
    )


def _ssl_error(exc, name: str) -> bool:
    """``isinstance(exc, ssl.<name>)`` without importing ssl: an SSL error exists only once
    something imported it (a TLS connection), so without it no exception is one."""
    ssl = sys.modules.get("ssl")
    return ssl is not None and isinstance(exc, getattr(ssl, name))


def closed_before_connack(host: str, port: int, *, tls: bool) -> str:
    """The line for a connection the broker closed before it answered our CONNECT."""
    where = f"MQTT broker {host}:{port}"
    if not tls:
        return (
            f"{where} closed the connection before answering: is {port} a TLS port? Speaking"
            " plain MQTT; give the broker's CA (tls_ca / --ca) to use TLS"
        )
    return (
        f"{where} closed the TLS connection before answering: does it require a client"
        " certificate (tls_cert / tls_key), or is this not an MQTT port?"
    )


def login_refused(
    reason: str, host: str, port: int, *, username: str | None, password_hint: str
) -> str:
    """The line for a CONNACK that refused us; ``password_hint`` says where the password
    comes from (e.g. ``"password_file / $HEELRAISE_MQTT_PASSWORD"``)."""
    who = f" the login of user {username!r}" if username else " the connection"
    line = f"MQTT broker {host}:{port} refused{who}: {reason}"
    low = reason.lower()
    if "authori" in low or "password" in low or "user name" in low:
        if username:
            line += f" (check username and password / {password_hint})"
        else:
            line += f" (it wants a login: give a username and password / {password_hint})"
    return line
