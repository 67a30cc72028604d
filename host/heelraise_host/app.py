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
import json
import re
from importlib.resources import files
from urllib.parse import parse_qsl, urlencode

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

from heelraise_host import exports
from heelraise_host.store import REP_FIELDS

STATIC_DIR = files("heelraise_host") / "static"
COOKIE = "heelraise_token"

#: Only our own files run: no inline script, no third-party anything.
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
        b" connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


class TokenGate:
    """ASGI middleware: refuse requests without the token; add security headers to all."""

    def __init__(self, app, token: str | None):
        self.app = app
        self.token = token

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self.token:
            verdict = self._check(scope)
            if verdict is not True:
                return await verdict(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + SECURITY_HEADERS
            await send(message)

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


def create_app(store, hub, ingest=None, *, token: str | None = None) -> Starlette:
    """The ASGI app. ``hub`` is a :class:`~heelraise_host.livehub.LiveHub` on ``store``."""

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
        return JSONResponse({"cursor": cursor, "devices": out, "refused": refused})

    async def api_stream(request):
        after = _int(request.query_params.get("after"), "after", minimum=0, default=None)
        last_id = request.headers.get("last-event-id")
        if last_id and last_id.isdigit():
            after = max(after or 0, int(last_id))
        return StreamingResponse(
            hub.stream(after),
            media_type="text/event-stream",
            headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
        )

    async def api_devices(request):
        return JSONResponse(store.devices())

    async def api_sessions(request):
        q = request.query_params
        return JSONResponse(store.sessions(q.get("device") or None, q.get("since"), q.get("until")))

    async def api_session(request):
        device, session = _session_key(request)
        detail = store.session_detail(device, session)
        if detail is None:
            return JSONResponse({"error": "no such session"}, status_code=404)
        return JSONResponse(detail)

    async def api_trends(request):
        q = request.query_params
        weeks = _int(q.get("weeks"), "weeks", minimum=1, maximum=260, default=12)
        tz = _int(q.get("tz_offset_min"), "tz_offset_min", minimum=-900, maximum=900, default=0)
        return JSONResponse(store.trends(q.get("device") or None, weeks=weeks, tz_offset_min=tz))

    async def api_export(request):
        device, session = _session_key(request)
        fmt = request.query_params.get("format", "csv")
        if fmt not in ("csv", "json"):
            raise _BadRequest(f"format must be 'csv' or 'json', not {fmt!r}")
        detail = store.session_detail(device, session)
        if detail is None:
            return JSONResponse({"error": "no such session"}, status_code=404)
        name = f"heelraise-{_safe(device)}-{_safe(session)}.{fmt}"
        headers = {"content-disposition": f'attachment; filename="{name}"'}
        if fmt == "json":
            body = json.dumps(detail, indent=1)
            return Response(body, media_type="application/json", headers=headers)
        return Response(session_csv(detail), media_type="text/csv", headers=headers)

    async def api_health(request):
        return JSONResponse(
            {
                "ingest": None if ingest is None else ingest.health(),
                "stored": store.counts(),
                "stream_clients": hub.client_count,
            }
        )

    async def bad_request(request, exc):
        return JSONResponse({"error": str(exc)}, status_code=400)

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
    app.add_middleware(TokenGate, token=token)
    return app


class _BadRequest(ValueError):
    pass


def _int(text, name, *, minimum=None, maximum=None, default=None):
    if text is None or text == "":
        return default
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
    ("device", "session", "set", "rep")
    + tuple(c for c in REP_FIELDS if c not in ("tempo", "deviation_s"))
    + ("tempo",)
    + tuple(f"deviation_{k}" for k in _DEVIATIONS)
)


def session_csv(detail: dict) -> str:
    """One row per rep. Text cells that a spreadsheet would run as a formula get a ``'``."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for s in detail["sets"]:
        for r in s["reps"]:
            dev = r.get("deviation_s") or {}
            row = [detail["device"], detail["session"], r["set"], r["index"]]
            for c in REP_FIELDS:
                if c in ("tempo", "deviation_s"):
                    continue
                v = r.get(c)
                row.append(";".join(v) if c == "faults" else v)
            row.append((r.get("tempo") or {}).get("text"))
            row += [dev.get(k) for k in _DEVIATIONS]
            writer.writerow(["" if v is None else _cell(v) for v in row])
    return buf.getvalue()


def _cell(v):
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return v
