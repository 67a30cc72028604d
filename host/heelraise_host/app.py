"""The dashboard's web app (Starlette): pages, JSON API, live stream, exports.

One job: answer HTTP. Pages are static files (``static/``) that fetch JSON from
the API below and draw with the bundled uPlot; nothing from MQTT is ever put
into HTML on the server or with ``innerHTML`` in the browser.

Routes::

    GET /                      live view (one card per device)
    GET /history               sessions by day, a session's sets and reps, weekly trends
    GET /api/live              snapshot for the live view, with the stream cursor
    GET /api/stream?after=N    server-sent events: rep, set, session, state, status, live
    GET /api/devices           devices with their last status and state
    GET /api/sessions?device=&since=&until=
    GET /api/session?device=&session=
    GET /api/trends?device=&weeks=12&tz_offset_min=0
    GET /api/export?device=&session=&format=csv|json   (a download)
    GET /api/health            ingest counters, refused messages, stream clients
    GET /api/export/range, /report, /api/report   by device and dates (exports.py)

Every request must name the dashboard in its ``Host`` header by a name on the
allow-list (loopback names, the bind address, ``--allow-host`` names; any IP
address when bound to a wildcard), so a DNS-rebinding page cannot reach it.
With a token every request must carry it: ``Authorization: Bearer <token>``, the
``heelraise_token`` cookie, or ``?token=<token>`` once (the answer sets the
cookie and redirects to the same URL without it, so it does not linger in the
address bar; ``EventSource`` and downloads then carry the cookie).
"""

from __future__ import annotations

import contextlib
import csv
import hmac
import io
import ipaddress
import re
from importlib.resources import files
from urllib.parse import parse_qsl, urlencode

from heelraise.symmetry import LSI_OF
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from heelraise_host import exports, trends
from heelraise_host.store import REP_FIELDS, finite_json

STATIC_DIR = files("heelraise_host") / "static"

#: the largest stream cursor there can be (SQLite's largest integer)
MAX_SEQ = 2**63 - 1
COOKIE = "heelraise_token"

#: Only our own files run: no inline script, no third-party anything; on every answer,
#: the refusals (400, 401, 404) and redirects (303) included.
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
        b" connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]

#: Host names a browser on this machine uses for a loopback dashboard.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def host_allowed(host_header: str, allowed: frozenset[str], *, any_ip: bool) -> bool:
    """Is the request's ``Host`` (``name``, ``name:port``, ``[v6]:port``) one we answer to?

    A DNS-rebinding page reaches the dashboard under the attacker's own domain name,
    so only known names pass; an IP address literal cannot be rebound, so with a
    wildcard bind (0.0.0.0, ::) any address of this machine passes too.
    """
    text = host_header.strip().lower()
    if text.startswith("["):
        name = text[1:].partition("]")[0]
    else:
        name = text.rpartition(":")[0] if text.count(":") == 1 else text
    if not name:
        return False
    if name in allowed:
        return True
    if any_ip:
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True
    return False


class FiniteJSONResponse(JSONResponse):
    """Starlette's JSONResponse, but never NaN or Infinity (see ``finite_json``)."""

    def render(self, content) -> bytes:
        return finite_json(content, ensure_ascii=False, separators=(",", ":")).encode()


class Gate:
    """ASGI middleware: security headers on every answer; refuse a ``Host`` not on the
    allow-list (400) and, with a token, requests without it (401)."""

    def __init__(self, app, token: str | None, allowed_hosts=(), any_ip: bool = False):
        self.app = app
        self.token = token
        self.allowed = frozenset(h.strip().lower().strip("[]") for h in allowed_hosts if h)
        self.any_ip = any_ip

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        host = Request(scope).headers.get("host", "")
        if not host_allowed(host, self.allowed, any_ip=self.any_ip):
            refusal = PlainTextResponse(
                f"heelraise dashboard: Host {host[:80]!r} is not one this dashboard answers"
                " to; start it with --allow-host NAME to add one.\n",
                status_code=400,
            )
            return await refusal(scope, receive, send_with_headers)
        if self.token:
            verdict = self._check(scope)
            if verdict is not True:
                return await verdict(scope, receive, send_with_headers)
        return await self.app(scope, receive, send_with_headers)

    def _check(self, scope):
        request = Request(scope)
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer ") and self._same(header[7:].strip()):
            return True
        if self._same(request.cookies.get(COOKIE, "")):
            return True
        query = request.query_params.get("token")
        if query is not None and self._same(query):
            pairs = parse_qsl(scope.get("query_string", b"").decode())
            rest = [(k, v) for k, v in pairs if k != "token"]
            target = request.url.path + (("?" + urlencode(rest)) if rest else "")
            response = RedirectResponse(target, status_code=303)
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict")
            return response
        return PlainTextResponse(
            "heelraise dashboard: a token is required. Open /?token=<token> once, or send"
            " 'Authorization: Bearer <token>'.\n",
            status_code=401,
            headers={"www-authenticate": "Bearer"},
        )

    def _same(self, given: str) -> bool:
        return bool(given) and hmac.compare_digest(given.encode(), self.token.encode())


def create_app(
    store,
    hub,
    ingest=None,
    *,
    token: str | None = None,
    allowed_hosts=LOOPBACK_HOSTS,
    any_ip: bool = False,
) -> Starlette:
    """The ASGI app. ``hub`` is a :class:`~heelraise_host.livehub.LiveHub` on ``store``;
    ``allowed_hosts`` the ``Host`` names it answers to (``any_ip``: any IP literal too)."""

    def page(name):
        async def endpoint(request):
            return FileResponse(str(STATIC_DIR / name), headers={"cache-control": "no-cache"})

        return endpoint

    async def api_live(request):
        cursor = store.last_seq()  # taken first: the stream replays anything newer
        out = []
        for d in store.devices():
            d["current"] = store.current_set(d["device"])
            d["trace"] = hub.trace(d["device"])
            out.append(d)
        refused = [] if ingest is None else ingest.health()["rejected_by_device"]
        return FiniteJSONResponse({"cursor": cursor, "devices": out, "refused": refused})

    async def api_stream(request):
        after = _int(
            request.query_params.get("after"), "after", minimum=0, maximum=MAX_SEQ, default=None
        )
        last_id = request.headers.get("last-event-id", "")
        if last_id.isdigit() and len(last_id) <= 19 and int(last_id) <= MAX_SEQ:
            after = max(after or 0, int(last_id))
        return StreamingResponse(
            hub.stream(after),
            media_type="text/event-stream",
            headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
        )

    async def api_devices(request):
        return FiniteJSONResponse(store.devices())

    async def api_sessions(request):
        q = request.query_params
        return FiniteJSONResponse(
            store.sessions(q.get("device") or None, q.get("since"), q.get("until"))
        )

    async def api_session(request):
        device, session = _session_key(request)
        detail = store.session_detail(device, session)
        if detail is None:
            return FiniteJSONResponse({"error": "no such session"}, status_code=404)
        return FiniteJSONResponse(detail)

    async def api_trends(request):
        q = request.query_params
        weeks = _int(q.get("weeks"), "weeks", minimum=1, maximum=260, default=12)
        tz = _int(q.get("tz_offset_min"), "tz_offset_min", minimum=-900, maximum=900, default=0)
        return FiniteJSONResponse(
            trends.weekly(store, q.get("device") or None, weeks=weeks, tz_offset_min=tz)
        )

    async def api_export(request):
        device, session = _session_key(request)
        fmt = request.query_params.get("format", "csv")
        if fmt not in ("csv", "json"):
            raise _BadRequest(f"format must be 'csv' or 'json', not {fmt!r}")
        detail = store.session_detail(device, session)
        if detail is None:
            return FiniteJSONResponse({"error": "no such session"}, status_code=404)
        name = f"heelraise-{_safe(device)}-{_safe(session)}.{fmt}"
        headers = {"content-disposition": f'attachment; filename="{name}"'}
        if fmt == "json":
            body = finite_json(detail, indent=1)
            return Response(body, media_type="application/json", headers=headers)
        return Response(session_csv(detail), media_type="text/csv", headers=headers)

    async def api_health(request):
        return FiniteJSONResponse(
            {
                "ingest": None if ingest is None else ingest.health(),
                "stored": store.counts(),
                "stream_clients": hub.client_count,
            }
        )

    async def bad_request(request, exc):
        return FiniteJSONResponse({"error": str(exc)}, status_code=400)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        import asyncio

        task = asyncio.create_task(hub.run())
        try:
            yield
        finally:
            hub.close()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    routes = [
        Route("/", page("index.html")),
        Route("/history", page("history.html")),
        Route("/api/live", api_live),
        Route("/api/stream", api_stream),
        Route("/api/devices", api_devices),
        Route("/api/sessions", api_sessions),
        Route("/api/session", api_session),
        Route("/api/trends", api_trends),
        Route("/api/export", api_export),
        Route("/api/health", api_health),
        *exports.routes(store, page),
        Mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={_BadRequest: bad_request})
    app.add_middleware(Gate, token=token, allowed_hosts=allowed_hosts, any_ip=any_ip)
    return app


class _BadRequest(ValueError):
    pass


def _int(text, name, *, minimum=None, maximum=None, default=None):
    if text is None or text == "":
        return default
    if len(text) > 30:  # no 4300-digit conversions on the event loop
        raise _BadRequest(f"{name} must be a whole number, not {text[:30]!r}...")
    try:
        value = int(text)
    except ValueError:
        raise _BadRequest(f"{name} must be a whole number, not {text!r}") from None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise _BadRequest(f"{name} must be between {minimum} and {maximum}, not {value}")
    return value


def _session_key(request) -> tuple[str, str]:
    device = request.query_params.get("device")
    session = request.query_params.get("session")
    if not device or not session:
        raise _BadRequest("device and session are both required")
    return device, session


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:60] or "_"


#: deviation_s keys (measured minus target tempo, as the analyzer reports them)
_DEVIATIONS = ("raise_s", "top_hold_s", "lower_s", "bottom_hold_s")

#: CSV columns, one row per rep
CSV_COLUMNS = (
    ("device", "session", "set", "rep", "side")
    + tuple(c for c in REP_FIELDS if c not in ("tempo", "deviation_s"))
    + ("tempo",)
    + tuple(f"deviation_{k}" for k in _DEVIATIONS)
    + tuple(f"session_{name}" for name in LSI_OF.values())
)


def session_csv(detail: dict) -> str:
    """One row per rep, with its shoe's side and the session's LSIs (empty without two
    shoes). Text cells that a spreadsheet would run as a formula get a ``'``."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    sym = detail.get("symmetry") or {}
    lsis = [sym.get(name) for name in LSI_OF.values()]  # the session's, on each of its rows
    for s in detail["sets"]:
        for r in s["reps"]:
            dev = r.get("deviation_s") or {}
            row = [detail["device"], detail["session"], r["set"], r["index"], s.get("side")]
            for c in REP_FIELDS:
                if c in ("tempo", "deviation_s"):
                    continue
                v = r.get(c)
                row.append(";".join(v) if c == "faults" else v)
            row.append((r.get("tempo") or {}).get("text"))
            row += [dev.get(k) for k in _DEVIATIONS]
            row += lsis
            writer.writerow(["" if v is None else _cell(v) for v in row])
    return buf.getvalue()


def _cell(v):
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return v
