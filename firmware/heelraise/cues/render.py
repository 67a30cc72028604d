"""Show the LED and buzzer in a terminal (for ``heelraise demo`` and ``run --imu sim``).

Two views of the same outputs:

- :func:`status_line` / :class:`CueConsole`: one status line, rewritten in
  place on every change (``LED ●  BUZZER ♪ 1760 Hz  guided``). Pass a
  :class:`CueConsole` as the coach's ``on_output``.
- :func:`render_pin_history`: the recorded history of gpiozero mock pins as
  a timeline, one line per change, for logs and tests.

:class:`LinesAboveCueLine` is a logging handler for the same terminal: each log
line wipes the status line, is written whole on its own line, and the status
line is drawn again below it, so the two never mix.

Example::

    >>> status_line(1.0, 1760.0, passive=True)
    'LED ●  BUZZER ♪ 1760 Hz'
    >>> status_line(0.2, 0.0)
    'LED ◐  BUZZER ·'
"""

from __future__ import annotations

import logging
import sys
import threading

#: wipe the terminal's current line (carriage return, erase to the end of the line)
CLEAR_LINE = "\r\033[K"

LED_ON, LED_DIM, LED_OFF = "●", "◐", "○"
BUZZ_ON, BUZZ_OFF = "♪", "·"


def led_glyph(level: float) -> str:
    if level >= 0.5:
        return LED_ON
    return LED_DIM if level > 0 else LED_OFF


def status_line(led_level: float, tone_hz: float, *, passive: bool = False, mode=None) -> str:
    """``LED ●  BUZZER ♪`` (with the pitch for a passive buzzer, the mode if given)."""
    buzz = BUZZ_ON if tone_hz > 0 else BUZZ_OFF
    if passive and tone_hz > 0:
        buzz += f" {tone_hz:.0f} Hz"
    line = f"LED {led_glyph(led_level)}  BUZZER {buzz}"
    if mode:
        line += f"  {mode}"
    return line


class CueConsole:
    """Writes the status line to ``stream`` whenever the outputs change.

    ``CueConsole(stream)(now_s, led_level, tone_hz)`` matches the coach's
    ``on_output`` hook. On a terminal the line is rewritten in place (``\\r``);
    otherwise (``inline=False``, or a non-tty stream) each change is a new line
    prefixed with its time, so the output can be read back as a timeline.
    """

    def __init__(
        self, stream=None, *, passive: bool = False, inline: bool | None = None, coach=None
    ):
        self.stream = stream if stream is not None else sys.stdout
        self.passive = passive
        if inline is None:
            inline = bool(getattr(self.stream, "isatty", lambda: False)())
        self.inline = inline
        self.coach = coach  # when given, its mode is shown
        self._t0: float | None = None
        self._last: str | None = None
        #: held while a line is written, so a log line and the status line never interleave
        self.lock = threading.RLock()

    def __call__(self, now_s: float, led_level: float, tone_hz: float) -> None:
        mode = getattr(self.coach, "mode", None)
        line = status_line(led_level, tone_hz, passive=self.passive, mode=mode)
        if line == self._last:
            return
        self._last = line
        if self._t0 is None:
            self._t0 = now_s
        with self.lock:
            if self.inline:
                self.stream.write("\r" + line.ljust(40))
            else:
                self.stream.write(f"{now_s - self._t0:8.3f} s  {line}\n")
            self.stream.flush()

    def above(self, text: str, stream=None) -> None:
        """Write ``text`` as whole lines above the status line (which is drawn again)."""
        stream = stream if stream is not None else self.stream
        with self.lock:
            if not self.inline:
                stream.write(text + "\n")
                stream.flush()
                return
            stream.write(CLEAR_LINE + text + "\n")
            stream.flush()
            if self._last is not None:
                self.stream.write("\r" + self._last.ljust(40))
                self.stream.flush()


class LinesAboveCueLine(logging.Handler):
    """A logging handler writing each record above ``console``'s status line (to ``stream``,
    stderr by default, which shares the terminal with it)."""

    def __init__(self, console: CueConsole, stream=None):
        super().__init__()
        self.console = console
        self.stream = stream if stream is not None else sys.stderr

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.console.above(self.format(record), self.stream)
        except Exception:  # a logging handler never raises into the caller
            self.handleError(record)


def render_pin_history(led_pin, buzzer_pin) -> str:
    """A timeline of two gpiozero mock pins' recorded states (``pin.states``).

    Mock pins store each state with the time since the previous change; this
    merges both histories on one time axis (zero: when the pins were made, or
    last had ``clear_states()`` called together), one line per change::

           0.000 s  LED ○  BUZZER ·
           1.000 s  LED ●  BUZZER ♪
    """
    changes = []
    for role, pin in (("led", led_pin), ("buzzer", buzzer_pin)):
        t = 0.0
        for i, st in enumerate(pin.states):
            t += st.timestamp if i else 0.0
            changes.append((round(t, 6), role, float(st.state)))
    changes.sort(key=lambda c: (c[0], c[1]))
    led, buzz = 0.0, 0.0
    lines: list[str] = []
    last_t = None
    for t, role, value in changes:
        if role == "led":
            led = value
        else:
            buzz = value
        line = f"{t:8.3f} s  LED {led_glyph(led)}  BUZZER {BUZZ_ON if buzz > 0 else BUZZ_OFF}"
        if last_t is not None and t == last_t:
            lines[-1] = line  # simultaneous changes: one line
        else:
            lines.append(line)
        last_t = t
    return "\n".join(lines) + "\n"
