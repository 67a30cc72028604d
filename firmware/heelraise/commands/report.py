"""``heelraise report``: the physiotherapist's report from a dashboard store, as PDF or JSON.

heelraise report --device shoe-1 --since 2026-11-01 --db ~/heelraise.db --out report.pdf
heelraise report --device shoe-1 --since 2026-11-01 --until 2026-11-30 --out november.pdf
heelraise report --device shoe-1 --session 20261124T070000Z --out session.pdf
heelraise report --device shoe-1 --since 2026-11-01 --json          # the data, to stdout

The PDF is the dashboard's report page (/report) printed by headless Chromium.
"""

from __future__ import annotations

import json
import os
import sys

from heelraise.commands.dashboard import DEFAULT_DB
from heelraise.exceptions import SettingsError

HELP = "the physiotherapist's report (sets, tempo, heel height, trends, next target) as PDF"


def add_arguments(parser) -> None:
    parser.add_argument("--device", help="the device (shoe) id; default: every device")
    parser.add_argument("--since", metavar="YYYY-MM-DD", help="first day (included)")
    parser.add_argument("--until", metavar="YYYY-MM-DD", help="last day (included; default today)")
    parser.add_argument("--session", help="one session instead of a date range (needs --device)")
    parser.add_argument(
        "--db",
        default=str(DEFAULT_DB),
        metavar="FILE",
        help=f"dashboard store (default {DEFAULT_DB})",
    )
    out = parser.add_mutually_exclusive_group(required=True)
    out.add_argument("--out", metavar="FILE.pdf", help="write the PDF here")
    out.add_argument("--json", action="store_true", help="print the report's data as JSON")
    parser.add_argument(
        "--tz-offset-min",
        type=int,
        default=None,
        help="minutes ahead of UTC for the day bounds (default: this machine's time zone)",
    )


def run(args) -> int:
    from heelraise_host.report import ReportError, build_report
    from heelraise_host.store import Store

    path = os.path.expanduser(args.db)
    if not os.path.isfile(path):
        raise SettingsError(f"--db {args.db}: no such file (the dashboard's SQLite store)")
    if args.session and not args.device:
        raise SettingsError("--session needs --device")
    tz = args.tz_offset_min
    if tz is None:
        import time

        tz = -(time.altzone if time.daylight and time.localtime().tm_isdst else time.timezone) // 60
    query = {
        "device": args.device,
        "session": args.session,
        "since": args.since,
        "until": args.until,
        "tz_offset_min": tz,
    }
    store = Store(path)
    try:
        try:
            report = build_report(store, **query)
        except ReportError as e:
            raise SettingsError(str(e)) from None
        if args.json:
            json.dump(report, sys.stdout, indent=1)
            sys.stdout.write("\n")
            return 0
        if not report["session_count"]:
            print("heelraise report: no sessions in that range; the PDF says so", file=sys.stderr)
        return _print(store, query, args.out)
    finally:
        store.close()


def _print(store, query, out) -> int:
    from urllib.parse import urlencode

    from heelraise_host.pdf import find_browser, print_pdf
    from heelraise_host.server import Dashboard

    browser = find_browser()  # before starting a server: a clear error if there is none
    dash = Dashboard(store, None, bind="127.0.0.1:0").start()
    try:
        q = urlencode({k: v for k, v in query.items() if v is not None})
        written = print_pdf(f"{dash.url}report?{q}", out, browser=browser)
    finally:
        dash.stop()
    print(f"heelraise report: wrote {written}", file=sys.stderr)
    return 0
