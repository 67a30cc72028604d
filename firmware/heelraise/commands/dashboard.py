"""``heelraise dashboard``: subscribe to the devices over MQTT, store, and serve the web dashboard.

heelraise dashboard                                  # broker 127.0.0.1:1883, http://127.0.0.1:8080/
heelraise dashboard --broker pi.local:1883 --db ~/heelraise.db
heelraise dashboard --bind 0.0.0.0:8080 --token-file ~/.config/heelraise/token --allow-host pi.local
heelraise dashboard --group dash --db /srv/heelraise.db   # several instances, one store
heelraise dashboard --protocol 3.1.1                 # a broker that speaks MQTT 3.1.1 only
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HELP = "serve the web dashboard (subscribes to MQTT)"

DEFAULT_DB = Path.home() / ".local" / "share" / "heelraise" / "dashboard.db"


def add_mqtt_arguments(parser) -> None:
    """Broker options shared with ``heelraise watch``."""
    parser.add_argument(
        "--broker", default="127.0.0.1:1883", metavar="HOST:PORT", help="MQTT broker"
    )
    parser.add_argument("--prefix", default="heelraise", help="topic prefix (default heelraise)")
    parser.add_argument("--username", help="MQTT user name")
    parser.add_argument(
        "--password-file",
        metavar="FILE",
        help="MQTT password: the first line of FILE (default: $HEELRAISE_MQTT_PASSWORD)",
    )
    parser.add_argument("--password", help="MQTT password itself (warns: other users see it in ps)")
    parser.add_argument("--ca", metavar="FILE", help="CA certificate: use TLS to the broker")
    parser.add_argument(
        "--protocol",
        choices=["5", "3.1.1"],
        help="MQTT version (default: 5, falling back to 3.1.1 when the broker refuses 5"
        " and no --group is given)",
    )
    parser.add_argument(
        "--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )


def add_arguments(parser) -> None:
    add_mqtt_arguments(parser)
    parser.add_argument(
        "--db", default=str(DEFAULT_DB), metavar="FILE", help=f"SQLite file (default {DEFAULT_DB})"
    )
    parser.add_argument(
        "--bind", default="127.0.0.1:8080", metavar="ADDR:PORT", help="where to serve HTTP"
    )
    parser.add_argument(
        "--token-file",
        metavar="FILE",
        help="require the token in FILE (first line) on every request"
        " (default: $HEELRAISE_DASHBOARD_TOKEN)",
    )
    parser.add_argument("--token", help="the token itself (warns: other users see it in ps)")
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a host name browsers use for this dashboard (beside loopback names and the"
        " bind address); repeat for several",
    )
    parser.add_argument(
        "--group",
        help="MQTT 5 shared-subscription group: instances in one group split the events"
        " between them (give them the same --db)",
    )
    parser.add_argument(
        "--client-id",
        help="fixed MQTT client id: the broker keeps our session and queues events while"
        " the dashboard is down",
    )
    parser.add_argument(
        "--no-mqtt", action="store_true", help="serve the stored history only, no broker"
    )


def secret(args, name: str, env: str) -> str | None:
    """``--NAME-file`` (first line), else ``$ENV``, else ``--NAME`` with a warning: a
    secret on the command line is visible to every user of the machine in ``ps``."""
    from heelraise.mqtt.settings import read_secret

    path = getattr(args, f"{name}_file")
    if path:
        return read_secret(path, f"--{name}-file")
    given = getattr(args, name)
    if given:
        print(
            f"heelraise: WARNING: --{name} on the command line is visible to other users"
            f" (ps); use --{name}-file FILE or ${env} instead",
            file=sys.stderr,
        )
        return given
    return os.environ.get(env) or None


def run(args) -> int:
    from heelraise_host.ingest import Ingest
    from heelraise_host.server import Dashboard, exposure_warning, parse_hostport
    from heelraise_host.store import Store

    token = secret(args, "token", "HEELRAISE_DASHBOARD_TOKEN")
    password = secret(args, "password", "HEELRAISE_MQTT_PASSWORD")
    host, port = parse_hostport(args.bind, 8080, "--bind")
    warning = exposure_warning(host, port, token)
    if warning:
        print(f"heelraise dashboard: WARNING: {warning}", file=sys.stderr)
    store = Store(os.path.expanduser(args.db))
    ingest = None
    if not args.no_mqtt:
        ingest = Ingest(
            store,
            broker=args.broker,
            prefix=args.prefix,
            group=args.group,
            client_id=args.client_id,
            username=args.username,
            password=password,
            tls_ca=args.ca,
            protocol=args.protocol,
        )
        ingest.start(wait=False)  # paho keeps retrying; history is served meanwhile
    dashboard = Dashboard(store, ingest, bind=args.bind, token=token, allow_hosts=args.allow_host)
    print(
        f"heelraise dashboard: {dashboard.url} (store {args.db}"
        + ("" if ingest is None else f", broker {args.broker}, prefix {args.prefix}")
        + (f", group {args.group}" if args.group else "")
        + ")",
        file=sys.stderr,
    )
    try:
        dashboard.serve_forever()
    finally:
        if ingest is not None:
            ingest.stop()
        store.close()
    return 0
