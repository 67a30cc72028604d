"""A counted rep timed again once the signal after its decision is in.

A rep is decided while its lowering's speed is still dying away (0.05 to 0.3 s before it
ends: the live ``event/rep`` and its cue must come within 60 ms of the stop), so its stop,
and with it ``lower_s``, is extrapolated from the part of the flank seen by then (see
:mod:`heelraise.chain.phases`). What outlives the live event (the set and session
summaries, the stored reps, ``heelraise analyze``) can use the rep timed again once the
flank is seen whole: the same estimators (:func:`heelraise.chain.detection.phase_instants`)
over the same rows and more, with the rep's own pitch axis, cut where the signal stops
being about this rep.

When (:class:`FinalSettings`): ``after_s`` of rows after the decision, or fewer at a walking
row, a hole, a set closed or the end of the stream (the analyzer asks). The rows used are
fixed by the signal alone, so the final times do not depend on how the stream was chunked.
A rep decided long after it happened (the axis found late, the history looked at again)
has that signal in already and is timed again at once.

Only the times change (the four instants, and from them ``raise_s``, ``top_hold_s``,
``lower_s``, the tempo deviations and the bottom hold): the count, the faults (judged at
the decision, as cued) and the heights stay as decided.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from heelraise.chain.detection import DETECTION, phase_instants
from heelraise.chain.phases import first_true, rising_again_s
from heelraise.events import Rep, SetSummary
from heelraise.tempo import Tempo


@dataclass(frozen=True)
class FinalSettings:
    """When a decided rep is timed again."""

    #: s: signal after the decision a rep is timed again with: its lowering was decided
    #: 0.05-0.3 s before it ended, and the stop's fit reads the flank down to 1/12 of the
    #: peak with up to a 0.2 s box beyond it (so 0.3 + 0.2, and a margin)
    after_s: float = 0.6
    #: s: a re-timed lowering ending more than this before the row at which the detector
    #: saw its rate fall under 1/16 of the peak timed something else (a run cut short: a
    #: rebound spike after the top, its dip under 0 with the box the whole flank asks for,
    #: read a 0.45 s lowering as 0.09 s): the decision's times are kept
    stop_slack_s: float = 0.05


FINAL = FinalSettings()


@dataclass
class Provisional:
    """A rep as decided, waiting for the signal after it, with what timing it needs."""

    rep: Rep  # the live event's rep (never changed: the final one is a copy)
    set: SetSummary  # its set, whose reps the final one joins in its place
    base_idx: int  # history rows: the bottom before the rise, ...
    top_idx: int  # ... the top, ...
    stop_idx: int  # ... the lowering's stop as the detector found it, ...
    decide_idx: int  # ... and the decision
    axis_p: np.ndarray  # the pitch axis it was timed on (the axis is refined after each rep)
    after_s: float  # the previous rep's end as the detector had it (the rise starts after it)
    lower_peak_dps: float  # the lowering's peak rate (positive), as decided
    tempo: Tempo | None  # the target it was judged against
    due_idx: int  # the history row from which the signal after it is in

    @classmethod
    def of(cls, rep, set_, cand, axis_p, after_s, tempo, grid_hz) -> Provisional:
        after = int(round(FINAL.after_s * grid_hz))
        return cls(
            rep,
            set_,
            cand.base_idx,
            cand.top_idx,
            cand.stop_idx,
            cand.decide_idx,
            np.array(axis_p, dtype=float),
            after_s,
            cand.lower_peak_dps,
            tempo,
            cand.decide_idx + 1 + after,
        )


def retime(hist, pend: Provisional, upto: int, grid_hz: float) -> Rep:
    """The rep timed on the history rows from its bottom to ``upto`` (at most its
    ``due_idx``), cut at the first walking row after the decision and where the heel is
    clearly rising again (the next rise, whose top may pass this one's); the rep as decided
    when its rows are no longer all kept."""
    a = pend.base_idx
    upto = min(upto, pend.due_idx, hist.end)
    if a < hist.first or upto <= pend.decide_idx + 1:
        return pend.rep
    c = hist.col
    rows = hist.rows(a, upto)
    after = pend.decide_idx + 1 - a
    walk = first_true(rows[after:, c["walk"]] != 0.0)
    if walk is not None:
        rows = rows[: after + walk]
    t = rows[:, c["t"]].copy()
    v = rows[:, [c["w1"], c["w2"]]] @ pend.axis_p
    stop = pend.stop_idx - a
    # Up to the heel rising again, and the ripple box's half past it (so the estimators'
    # own cap, rising_again_s, sees it as in the whole signal).
    again = rising_again_s(t, v, stop, pend.lower_peak_dps)
    if np.isfinite(again):
        h = int(round(0.5 * DETECTION.ripple_box_s * grid_hz))
        n = int(np.searchsorted(t, again)) + h + 1
        rows, t, v = rows[:n], t[:n], v[:n]
    pitch = rows[:, [c["r1"], c["r2"]]] @ pend.axis_p
    ins = phase_instants(t, v, pitch, pend.top_idx - a, stop, grid_hz, pend.after_s)
    if ins.end_s < float(t[stop]) - FINAL.stop_slack_s:
        return pend.rep
    rep = replace(
        pend.rep,
        start_s=ins.start_s,
        top_start_s=ins.top_start_s,
        top_end_s=ins.top_end_s,
        end_s=ins.end_s,
    )
    rep.deviation_s = deviation_s(rep, pend.tempo)
    return rep


def deviation_s(rep: Rep, tempo: Tempo | None) -> dict | None:
    """Each phase measured minus its target (s, rounded to the ms; None without a target)."""
    if tempo is None:
        return None
    return {
        "raise_s": None if tempo.raise_s is None else round(rep.raise_s - tempo.raise_s, 3),
        "top_hold_s": None if tempo.top_s is None else round(rep.top_hold_s - tempo.top_s, 3),
        "lower_s": None if tempo.lower_s is None else round(rep.lower_s - tempo.lower_s, 3),
    }
