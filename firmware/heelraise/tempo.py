"""Tempo targets in the usual four-number notation.

``lower-bottom-raise-top`` (eccentric, pause at the bottom, concentric, hold at
the top), in seconds. ``3-0-2-1`` means: lower over 3 s, no pause at the
bottom, raise over 2 s, hold 1 s at the top. The guide's floor raise "up two,
down three" is ``3-0-2-0``; the step raise with a one-second hold is ``3-0-2-1``.
An ``X`` (explosive) for a phase means "as fast as you can": it is never
``too_slow`` and never ``too_fast``.
"""

from __future__ import annotations

from dataclasses import dataclass

from heelraise.exceptions import TempoError

#: A phase is too fast or too slow when it is off its target by more than this
#: fraction of the target and by more than TOLERANCE_MIN_S.
TOLERANCE_FRACTION = 0.35
TOLERANCE_MIN_S = 0.4


@dataclass(frozen=True)
class Tempo:
    """A tempo target; ``None`` for a phase means explosive / unconstrained."""

    lower_s: float | None
    bottom_s: float | None
    raise_s: float | None
    top_s: float | None

    @classmethod
    def parse(cls, text: str) -> Tempo:
        parts = str(text).strip().split("-")
        if len(parts) != 4:
            raise TempoError(
                f"tempo {text!r} must have four numbers lower-bottom-raise-top, e.g. '3-0-2-1'"
            )
        values = []
        for name, part in zip(("lower", "bottom", "raise", "top"), parts, strict=True):
            part = part.strip()
            if part.upper() == "X":
                values.append(None)
                continue
            try:
                value = float(part)
            except ValueError:
                raise TempoError(
                    f"tempo {text!r}: {name} phase {part!r} is not a number of seconds or X"
                ) from None
            if not 0 <= value <= 30:
                raise TempoError(f"tempo {text!r}: {name} phase {value} s is outside 0 to 30 s")
            values.append(value)
        if values[0] == 0 or values[2] == 0:
            raise TempoError(f"tempo {text!r}: the lower and raise phases cannot be 0 s")
        return cls(*values)

    def __str__(self) -> str:
        def fmt(v):
            if v is None:
                return "X"
            return f"{v:g}"

        return "-".join(fmt(v) for v in (self.lower_s, self.bottom_s, self.raise_s, self.top_s))

    @property
    def rep_s(self) -> float | None:
        """Seconds per rep at this tempo (None when any phase is explosive)."""
        if None in (self.lower_s, self.bottom_s, self.raise_s, self.top_s):
            return None
        return self.lower_s + self.bottom_s + self.raise_s + self.top_s

    def as_dict(self) -> dict:
        return {
            "text": str(self),
            "lower_s": self.lower_s,
            "bottom_s": self.bottom_s,
            "raise_s": self.raise_s,
            "top_s": self.top_s,
        }


def phase_verdict(measured_s: float | None, target_s: float | None) -> str | None:
    """``"too_fast"``, ``"too_slow"`` or None for one phase against its target."""
    if measured_s is None or target_s is None:
        return None
    allowed = max(TOLERANCE_FRACTION * target_s, TOLERANCE_MIN_S)
    if measured_s < target_s - allowed:
        return "too_fast"
    if measured_s > target_s + allowed:
        return "too_slow"
    return None
