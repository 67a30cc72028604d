"""Limb symmetry of two shoes: the one home of the LSI rule.

A physiotherapist compares the two legs by the limb symmetry index,
``LSI = involved side / uninvolved side x 100`` (%), of three totals per side:

- ``reps``: repetitions counted;
- ``mean_heel_rise_mm``: the mean heel height of those reps;
- ``work_j``: total work, body mass x g x heel height (m), summed over the reps.

With no involved side known the same ratio is reported as ``left / right x 100`` and
labelled so (``"ratio": "left/right"``). With one side measured there is no symmetry:
the LSIs are ``None`` and ``note`` says which side was measured. An LSI whose
denominator is zero (the uninvolved side made no reps) is ``None`` with a note too.

>>> left = side_totals([60.0, 62.0, 58.0], body_mass_kg=70.0)
>>> right = side_totals([45.0, 48.0], body_mass_kg=70.0)
>>> left.to_dict()
{'reps': 3, 'mean_heel_rise_mm': 60.0, 'work_j': 123.6}
>>> s = symmetry({"left": left, "right": right}, involved="right")
>>> s["reps_lsi"], s["heel_rise_lsi"], s["work_lsi"], s["involved"], s["ratio"]
(66.7, 77.5, 51.7, 'right', 'involved/uninvolved')
>>> s = symmetry({"left": left, "right": right})
>>> s["reps_lsi"], s["ratio"], s["label"]
(150.0, 'left/right', 'no involved side given: LSI is left / right x 100')
>>> s = symmetry({"left": left})
>>> s["reps_lsi"], s["note"]
(None, 'only the left side was measured: no symmetry')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from heelraise.exceptions import SettingsError
from heelraise.physics import G_MPS2

SIDES = ("left", "right")
#: The three totals an LSI is taken of, and the name of each LSI.
LSI_OF = {"reps": "reps_lsi", "mean_heel_rise_mm": "heel_rise_lsi", "work_j": "work_lsi"}
#: LSIs are reported to a tenth of a percentage point.
LSI_DECIMALS = 1


@dataclass(frozen=True)
class SideTotals:
    """What one side did: reps, their mean heel height (mm, None with no reps), total work
    (J). Kept unrounded (LSIs are taken of these); :meth:`to_dict` rounds to 0.1."""

    reps: int
    mean_heel_rise_mm: float | None
    work_j: float

    def to_dict(self) -> dict:
        mean = self.mean_heel_rise_mm
        return {
            "reps": self.reps,
            "mean_heel_rise_mm": None if mean is None else round(mean, 1),
            "work_j": round(self.work_j, 1),
        }


def work_j(heel_rise_mm: Iterable[float], body_mass_kg: float) -> float:
    """Total work of a series of raises: body mass x g x heel height, summed (J).

    >>> round(work_j([100.0, 100.0], body_mass_kg=50.0), 4)
    98.0665
    """
    return float(body_mass_kg) * G_MPS2 * sum(float(mm) for mm in heel_rise_mm) / 1000.0


def side_totals(heel_rise_mm: Iterable[float], body_mass_kg: float) -> SideTotals:
    """One side's totals from the heel height (mm) of each of its reps."""
    h = [float(mm) for mm in heel_rise_mm]
    return SideTotals(len(h), sum(h) / len(h) if h else None, work_j(h, body_mass_kg))


def check_side(side, what: str = "side") -> str | None:
    """``side`` if it is "left", "right" or None; otherwise a SettingsError naming ``what``."""
    if side is None or side in SIDES:
        return side
    raise SettingsError(f"{what} must be 'left' or 'right', not {side!r}")


def lsi(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator x 100`` rounded, None when either is missing or the
    denominator is zero.

    >>> lsi(9, 10), lsi(3, 0), lsi(None, 5)
    (90.0, None, None)
    """
    if numerator is None or denominator is None or denominator == 0:
        return None
    return round(100.0 * numerator / denominator, LSI_DECIMALS)


def symmetry(sides: Mapping[str, SideTotals], involved: str | None = None) -> dict:
    """The ``symmetry`` block: ``reps_lsi``, ``heel_rise_lsi``, ``work_lsi`` (%), ``involved``,
    ``ratio`` (which side is divided by which), ``label`` (the same in words) and ``note``
    (why an LSI is missing, or None)."""
    for side in sides:
        check_side(side, "a measured side")
    check_side(involved, "the involved side")
    out = {name: None for name in LSI_OF.values()}
    out["involved"] = involved
    measured = [s for s in SIDES if s in sides]
    if len(measured) < 2:
        out.update(ratio=None, label=None)
        out["note"] = (
            f"only the {measured[0]} side was measured: no symmetry"
            if measured
            else "no side was measured: no symmetry"
        )
        return out
    if involved is None:
        top, bottom = "left", "right"
        out["ratio"] = "left/right"
        out["label"] = "no involved side given: LSI is left / right x 100"
    else:
        top = involved
        bottom = "right" if involved == "left" else "left"
        out["ratio"] = "involved/uninvolved"
        out["label"] = f"LSI is involved ({top}) / uninvolved ({bottom}) x 100"
    for total, name in LSI_OF.items():
        out[name] = lsi(getattr(sides[top], total), getattr(sides[bottom], total))
    out["note"] = None
    if sides[bottom].reps == 0:
        out["note"] = f"the {bottom} side made no reps: no LSI"
    elif sides[top].reps == 0:
        out["note"] = f"the {top} side made no reps: its mean heel height is unknown"
    return out
