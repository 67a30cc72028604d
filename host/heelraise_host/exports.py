"""Exports and the report over HTTP: by device and date range, as well as per session.

Routes (mounted by :func:`heelraise_host.app.create_app`)::

    GET /api/export/range?device=&since=YYYY-MM-DD&until=YYYY-MM-DD&tz_offset_min=0&format=csv|json
    GET /report?device=&session=   or   /report?device=&since=&until=   the printable page
    GET /api/report?...same...                                           the page's data

``device`` may be left out (every device); ``since`` / ``until`` are local
calendar days, both included (``tz_offset_min``: minutes ahead of UTC). The
CSV has the per-session export's columns (one row per rep), the JSON the
sessions as ``/api/session`` gives them.
"""

from __future__ import annotations

import json

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from heelraise_host import report as reports


def _range_args(request) -> dict:
    q = request.query_params
    tz = q.get("tz_offset_min") or "0"
    try:
        tz_min = int(tz)
    except ValueError:
        raise reports.ReportError(f"tz_offset_min must be a whole number, not {tz!r}") from None
    if not -900 <= tz_min <= 900:
        raise reports.ReportError(f"tz_offset_min must be between -900 and 900, not {tz_min}")
    return {
        "device": q.get("device") or None,
        "session": q.get("session") or None,
        "since": q.get("since") or None,
        "until": q.get("until") or None,
        "tz_offset_min": tz_min,
    }


def _bad(e: Exception) -> JSONResponse:
    return JSONResponse({"error": str(e)}, status_code=400)


def _name(args: dict, ext: str) -> str:
    from heelraise_host.app import _safe

    parts = ["heelraise", _safe(args["device"] or "all")]
    parts.append(_safe(args["since"] or "start"))
    parts.append(_safe(args["until"] or "now"))
    return "-".join(parts) + f".{ext}"


def range_csv(details: list[dict]) -> str:
    """Every rep of ``details`` in the per-session CSV's columns, one header line."""
    from heelraise_host.app import CSV_COLUMNS, session_csv

    lines = [",".join(CSV_COLUMNS) + "\n"]
    for d in details:
        body = session_csv(d)
        lines.append(body.split("\n", 1)[1])  # its rows, without its header
    return "".join(lines)


def routes(store, page) -> list[Route]:
    """The routes; ``page(name)`` serves a static page (as the app's own pages)."""

    async def export_range(request):
        try:
            args = _range_args(request)
            fmt = request.query_params.get("format", "csv")
            if fmt not in ("csv", "json"):
                raise reports.ReportError(f"format must be 'csv' or 'json', not {fmt!r}")
            details = reports.session_details(store, **args)
        except reports.ReportError as e:
            return _bad(e)
        headers = {"content-disposition": f'attachment; filename="{_name(args, fmt)}"'}
        if fmt == "json":
            body = {
                "device": args["device"],
                "since": args["since"],
                "until": args["until"],
                "sessions": details,
            }
            return Response(
                json.dumps(body, indent=1), media_type="application/json", headers=headers
            )
        return Response(range_csv(details), media_type="text/csv", headers=headers)

    async def api_report(request):
        try:
            return JSONResponse(reports.build_report(store, **_range_args(request)))
        except reports.ReportError as e:
            return _bad(e)

    return [
        Route("/api/export/range", export_range),
        Route("/api/report", api_report),
        Route("/report", page("report.html")),
    ]
