"""Print a page of the dashboard to PDF with headless Chromium (the browser the tests use).

One job: find the browser and run it. ``chromium --headless --print-to-pdf``
with a virtual-time budget, so the page's own script has fetched and drawn its
data before the page is printed (its ``@media print`` CSS applies). Where no
browser is found, :class:`BrowserNotFound` says which names were tried and how
to install one.

Example (needs a dashboard serving the page)::

    print_pdf("http://127.0.0.1:8080/report?device=shoe-1", "report.pdf")
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from heelraise.exceptions import HeelraiseError

#: names tried on $PATH, in order, after $HEELRAISE_CHROMIUM
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
#: simulated time the page may take to fetch and draw before printing, ms (it needs ~100)
VIRTUAL_TIME_BUDGET_MS = 10_000
#: wall-clock limit for the browser, s
TIMEOUT_S = 60.0


class BrowserNotFound(HeelraiseError):
    """No headless Chromium to print with."""


class PrintFailed(HeelraiseError):
    """Chromium ran but gave no PDF."""


def find_browser(env=None) -> str:
    env = os.environ if env is None else env
    given = env.get("HEELRAISE_CHROMIUM")
    if given:
        if shutil.which(given):
            return shutil.which(given)
        raise BrowserNotFound(f"HEELRAISE_CHROMIUM={given!r} is not an executable")
    for name in BROWSER_NAMES:
        path = shutil.which(name, path=env.get("PATH"))
        if path:
            return path
    raise BrowserNotFound(
        "no Chromium found to print the PDF (tried $HEELRAISE_CHROMIUM and "
        + ", ".join(BROWSER_NAMES)
        + " on $PATH): install it (Debian: apt install chromium) or set HEELRAISE_CHROMIUM"
    )


def print_pdf(url: str, out: str | Path, *, browser: str | None = None) -> Path:
    """Print ``url`` to the PDF file ``out`` (A4, from the page's print CSS)."""
    browser = browser or find_browser()
    out = Path(out).resolve()
    if not out.parent.is_dir():
        raise FileNotFoundError(2, "No such directory", str(out.parent))
    tmp = out.with_name(out.name + ".part")
    with tempfile.TemporaryDirectory(prefix="heelraise-pdf-") as profile:
        cmd = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}",
            f"--print-to-pdf={tmp}",
            url,
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise PrintFailed(
                f"{browser} did not finish printing {url} in {TIMEOUT_S:g} s"
            ) from None
    if not tmp.exists() or tmp.stat().st_size == 0 or not tmp.read_bytes().startswith(b"%PDF"):
        tmp.unlink(missing_ok=True)
        tail = (done.stderr or "").strip().splitlines()[-3:]
        raise PrintFailed(
            f"{browser} gave no PDF for {url} (exit {done.returncode})"
            + (": " + " | ".join(tail) if tail else "")
        )
    tmp.replace(out)
    return out
