"""Make ``docs/dashboard.png``: the real dashboard, during the real demo, in headless Chromium.

    python docs/capture.py                    # writes docs/dashboard.png
    python docs/capture.py --out /tmp/d.png --speed 8 --reps 4

Plays the demo workout (simulated shoe -> MPU-6050 emulator -> chain -> cues -> embedded MQTT
broker -> ingest -> store -> dashboard, exactly as ``heelraise demo``) at ``--speed``, waits
until the first set has ``--reps`` reps, opens the live page at 1280 x 800 in Chromium
(Playwright, ``/usr/bin/chromium`` or ``$HEELRAISE_CHROMIUM``) and screenshots it, then
stops the demo. Needs the test extras (playwright) and Chromium.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "dashboard.png"
VIEWPORT = {"width": 1280, "height": 800}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(pred, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not pred():
        if time.monotonic() > deadline:
            raise SystemExit(f"capture: timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(0.1)


def capture(out: Path, *, speed: float, reps: int, timeout_s: float = 300.0) -> Path:
    from heelraise.demo.runner import Demo
    from playwright.sync_api import sync_playwright

    browser_path = os.environ.get("HEELRAISE_CHROMIUM", "/usr/bin/chromium")
    demo = Demo(speed=speed, port=_free_port(), http="127.0.0.1:0", render_cues=False)
    demo.start()
    player = threading.Thread(target=demo.play, name="capture-demo", daemon=True)
    player.start()
    try:

        def first_set_reps() -> bool:
            cur = demo.store.current_set(demo.device_id)
            return bool(cur) and cur["set"] == 1 and len(cur["reps"]) >= reps

        _wait(first_set_reps, timeout_s, f"{reps} reps of the first set")
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=browser_path, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport=VIEWPORT, device_scale_factor=1)
            page.goto(demo.url)
            card = page.locator("section.device")
            card.locator(".bars .rep").first.wait_for(timeout=30_000)
            # Let the pitch trace fill a few seconds of live data.
            page.locator(".trace canvas").wait_for(timeout=30_000)
            page.wait_for_timeout(max(1000, int(6000 / max(speed, 1))))
            page.screenshot(path=str(out), full_page=False)
            browser.close()
    finally:
        demo.stop()
        player.join(60)
        demo.close()
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--speed", type=float, default=4.0, help="demo speed (default 4)")
    parser.add_argument("--reps", type=int, default=6, help="reps of set 1 before the shot")
    args = parser.parse_args(argv)
    path = capture(args.out, speed=args.speed, reps=args.reps)
    print(f"capture: wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
