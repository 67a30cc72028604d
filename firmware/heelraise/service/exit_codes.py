"""Exit statuses of ``heelraise run``, so systemd (and a user) can tell the failures apart.

The values are the BSD ``sysexits.h`` ones (Python's ``os.EX_*``), which systemd
knows by name. The unit (``firmware/deploy/heelraise.service``) sets
``RestartPreventExitStatus=78``: a bad config never fixes itself, so it is not
restarted forever; a missing or failing sensor is (a loose connector comes back).
"""

from __future__ import annotations

#: A clean stop (SIGTERM, SIGINT, SIGHUP, ``--seconds``, the end of a replay).
OK = 0
#: Command-line usage error (argparse's own status, and ``--speed`` with a real sensor).
USAGE = 2
#: The config file is missing, unreadable or invalid, or names a setting the chip cannot do
#: (``os.EX_CONFIG``). Not restarted by systemd.
CONFIG = 78
#: The sensor is absent, unidentified, or its bus cannot be opened (``os.EX_UNAVAILABLE``).
#: Restarted by systemd after ``RestartSec``.
SENSOR = 69

__all__ = ["OK", "USAGE", "CONFIG", "SENSOR"]
