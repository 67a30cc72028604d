"""The streaming core: samples in, reps and sets out. One chain for the Pi and for recordings.

    raw samples --resample--> uniform grid --calibration--> neutral, gyro bias
        --orientation--> tilt (2-D) --axis--> pitch, roll --detection--> candidates
        --faults, sets--> RepEvent / SetEvent / GapEvent

Feed :meth:`Analyzer.update` chunks of any size (one sample or a whole
recording): the reps, sets and faults are the same, and their times agree to
well under a millisecond, however the stream is chunked.

>>> from heelraise.sim import SessionSpec, simulate_session
>>> sim = simulate_session(SessionSpec(sets=2, reps=5, tempo="3-0-2-1", seed=1))
>>> a = Analyzer(AnalyzerSettings(tempo="3-0-2-1"))
>>> events = a.update(sim.t_s, sim.acc_g, sim.gyr_dps)  # (N,) s, (N, 3) g, (N, 3) deg/s
>>> events += a.finish()                                # end of stream: closes the open set
>>> a.summary().rep_count, [s.rep_count for s in a.summary().sets]
(10, [5, 5])
"""

from __future__ import annotations

import collections
import math
from dataclasses import dataclass, replace

import numpy as np

from heelraise.chain.axis import PitchAxis
from heelraise.chain.calibration import StillCalibrator
from heelraise.chain.detection import Candidate, RepDetector
from heelraise.chain.faults import (
    RaiseDirection,
    floor_depth_deg,
    looks_like_step,
    rebound_dps,
    rep_faults,
    shown_depth,
)
from heelraise.chain.final import Provisional, deviation_s, retime
from heelraise.chain.history import History
from heelraise.chain.orientation import FLAG_FREE, FLAG_RESYNC, FUSION, TiltFusion
from heelraise.chain.pivot import heel_up_sign
from heelraise.chain.resample import GridResampler
from heelraise.chain.screen import Screen
from heelraise.events import GapEvent, Rep, RepEvent, SessionSummary, SetEvent, SetSummary
from heelraise.exceptions import CalibrationError
from heelraise.settings import AnalyzerSettings
from heelraise.tempo import Tempo

#: the grid rows kept: tilt, its rate, what the fusion and the walking rule said, and the
#: raw accelerometer and bias-corrected gyro in sensor axes (for the lever-arm fit)
COLUMNS = ("t", "r1", "r2", "w1", "w2", "wmag", "free_g", "flag", "settled", "walk")
COLUMNS += ("ax", "ay", "az", "gx", "gy", "gz")


@dataclass(frozen=True)
class AnalyzerTuning:
    """The core's own tuning (the user-facing numbers are AnalyzerSettings)."""

    #: s: grid rows kept to look back over (a late axis, a rep's timing)
    history_s: float = 90.0
    #: the latest movements that were not reps kept, for plots
    rejected_kept: int = 200
    #: the latest still poses kept to read tops from (one a 0.3 s window: 30 s of holds,
    #: more than a rep's rise, hold and lowering ever take before it is decided)
    poses_kept: int = 100
    #: s: after walking or a restart of the tilt, this long before a bottom counts
    settle_s: float = 1.0
    #: deg/s: the live phase is rising / lowering above this pitch rate (and reads turning
    #: slower on every axis together are gathered up to ``still_batch_s``)
    phase_rate_dps: float = 4.0
    #: a lowering coming to a stop is not batched once a read's pitch rate (raw gyro on
    #: the pitch axis) is under this share of its peak: its stop (a grid row under 1/16 of
    #: the peak, the rows' average too, or a rebound) may come with it; faster, it cannot
    #: yet (twice 1/16: a margin for the raw rate's projection)
    slowing_share: float = 0.125


TUNING = AnalyzerTuning()


@dataclass
class AnalyzerState:
    """What the core knows right now, for cues, live plots and the MQTT ``state``."""

    t_s: float | None = None
    calibrated: bool = False
    axis_known: bool = False
    phase: str = "uncalibrated"  # uncalibrated|searching|still|rising|top|lowering|bottom|walking
    pitch_deg: float = 0.0
    roll_deg: float = 0.0
    set_index: int = 0  # 1-based index of the open (or last) set; 0 before the first rep
    reps_in_set: int = 0
    rep_count: int = 0  # whole session
    set_open: bool = False


class Analyzer:
    """Feed it chunks of samples of any size; it returns events in stream order."""

    def __init__(
        self,
        settings: AnalyzerSettings | None = None,
        keep_trace: bool = False,
        keep_sets: bool = True,
    ):
        self.settings = s = settings or AnalyzerSettings()
        #: keep_trace: every grid row's (t, tilt) for plots of a whole recording (offline only;
        #: the history the chain works from is bounded)
        self.trace: list[np.ndarray] | None = [] if keep_trace else None
        #: keep_sets: the closed sets with their reps, for summary() (an analysis); without
        #: it (the service, which keeps its own compact copy: SetSummary.kept) only counted,
        #: so an hour's reps are not held twice
        self.sets: list[SetSummary] | None = [] if keep_sets else None
        self.sets_closed = 0
        self.state = AnalyzerState()
        self.dt_s = 1.0 / s.grid_hz
        self.screen = Screen()
        self.resampler = GridResampler(s.grid_hz, s.max_gap_s)
        block = int(round(s.neutral_still_s * s.grid_hz))
        self.calibrator = StillCalibrator(block, s.still_gyr_dps, s.still_acc_g, block / s.grid_hz)
        self.fusion: TiltFusion | None = None
        self.bias_dps = np.zeros(3)
        self.history = History(COLUMNS, int(TUNING.history_s * s.grid_hz))
        self.axis = PitchAxis(s.grid_hz, s.stride_gyr_dps)
        self.detector = RepDetector(s.grid_hz, s.min_peak_deg)
        self.open_set: SetSummary | None = None
        self.set_votes: list[bool] = []
        #: each open-set rep's fault inputs, to judge it again when the set's surface is known
        self._judged: list[dict] = []
        self.raise_dir = RaiseDirection()  # what roll and heel height are judged along
        self.prev_surface: str | None = None
        self.last_rep_decide = -1
        #: the open set's reps not yet timed again with the signal after them (chain.final)
        self._provisional: list[Provisional] = []
        #: the open set's reps as decided (the live events'), in order
        self._decided: list[Rep] = []
        self.idle_checked = 0
        # The latest movements that were not reps, and why (for plots and debugging; bounded).
        self.rejected: collections.deque[Candidate] = collections.deque(maxlen=TUNING.rejected_kept)
        self.samples_seen = 0
        self.last_t: float | None = None
        self._pending: list = []
        self._last_jolt = -(10**9)
        self._last_walk = -(10**9)
        self._walk_checked = 0
        self._sign_checked = False  # the axis sign is re-checked once, on the first rep
        self._detect_from = 0
        self._neutral_idx = 0  # history index of the first row after neutral was taken
        self._pending_t0: float | None = None
        #: the latest still poses' (history index after the window, tilt offset; see
        #: TiltFusion.pose_offsets), to read a rep's top from its hold's gravity
        self._pose_offsets: collections.deque = collections.deque(maxlen=TUNING.poses_kept)
        self._pending_vl = 0.0  # the lowering's peak rate, its reads waiting included (deg/s)
        self._still_reads = 0  # the first reads waiting, found still (see _pending_still)
        #: A rep is being decided (see :meth:`_deciding`) as of the last update: the next
        #: samples may decide it, so the service reads them sooner (service.runner).
        self.deciding = False

    # -- public API -------------------------------------------------------------------------
    def update(self, t_s, acc_g, gyr_dps) -> list:
        t_s, acc_g, gyr_dps = self._validate(t_s, acc_g, gyr_dps)
        if len(t_s) == 0:
            return []
        self.samples_seen += len(t_s)
        self.last_t = float(t_s[-1])
        # Small reads are gathered until they span batch_s (still_batch_s while nothing
        # turns): the chain's cost is mostly per call, and the results do not depend on how
        # the stream is cut.
        self._pending.append((t_s, acc_g, gyr_dps))
        if self._pending_t0 is None:
            self._pending_t0 = float(t_s[0])
        # ... except while a rep is being decided (its lowering is slowing to a stop, or the
        # stop is being confirmed), so the samples that decide it are never held back.
        if not self._deciding(gyr_dps):
            span = self.last_t - self._pending_t0
            if span < self.settings.batch_s or (
                span < self.settings.still_batch_s and self._pending_still()
            ):
                self.deciding = False
                return []
        events = self._flush()
        # After the flush the detector is where this read left it: still deciding a rep?
        self.deciding = self._deciding(gyr_dps)
        return events

    def only_gathers(self, t0_s: float, t1_s: float) -> bool:
        """Would :meth:`update` with samples from ``t0_s`` to ``t1_s`` only gather them (no
        event, nothing flushed, whatever their values)? Yes while no rep is being decided
        (the detector is not following a stop nor confirming one, which only a flush
        changes) and the reads waiting with them span under ``batch_s``: a caller may then
        hold them and hand them over with a later read, in one update, to the same effect."""
        if self.deciding or self.detector.mode in ("stop", "confirm"):
            return False
        start = t0_s if self._pending_t0 is None else self._pending_t0
        return t1_s - start < self.settings.batch_s

    def _pending_still(self) -> bool:
        """Is every read waiting still: each sample's bias-corrected turning rate under
        ``TUNING.phase_rate_dps``? (The reads already found still are not looked at again.)"""
        new = self._pending[self._still_reads :]
        gyr = new[0][2] if len(new) == 1 else np.concatenate([p[2] for p in new])
        d = gyr - self.bias_dps
        if np.maximum.reduce(np.einsum("ij,ij->i", d, d)) >= TUNING.phase_rate_dps**2:
            return False
        self._still_reads = len(self._pending)
        return True

    def _deciding(self, gyr_dps: np.ndarray) -> bool:
        """Could this read decide a rep? In the stop's confirmation, yes; while the lowering
        comes to a stop, once its pitch rate (this read's raw gyro, bias-corrected, on the
        pitch axis) is slower than ``TUNING.slowing_share`` of the lowering's peak so far."""
        det = self.detector
        if det.mode == "confirm":
            return True
        if det.mode != "stop" or self.fusion is None:
            return False
        n3 = self.fusion.basis @ self.axis.p  # the pitch axis in sensor axes
        rate = gyr_dps @ n3 - float(self.bias_dps @ n3)
        # The peak so far, the reads waiting included (raw samples reach further than rows).
        self._pending_vl = min(self._pending_vl, det.vl_val, float(rate.min()))
        return bool(rate.max() > TUNING.slowing_share * self._pending_vl)

    def _flush(self) -> list:
        if not self._pending:
            return []
        if len(self._pending) == 1:
            t_s, acc_g, gyr_dps = self._pending[0]
        else:
            t_s = np.concatenate([p[0] for p in self._pending])
            acc_g = np.concatenate([p[1] for p in self._pending])
            gyr_dps = np.concatenate([p[2] for p in self._pending])
        self._pending = []
        self._pending_t0 = None
        self._pending_vl = 0.0
        self._still_reads = 0
        # Glitches (values no IMU gives) dropped sample by sample, a batch at a time.
        t_s, acc_g, gyr_dps = self.screen.apply(t_s, acc_g, gyr_dps)
        tg, vg, gaps = self.resampler.update(t_s, acc_g, gyr_dps)
        events: list = []
        # Grid rows between the gaps, gap by gap, in stream order.
        start = 0
        for g0, g1 in gaps:
            stop = int(np.searchsorted(tg, g1))
            events += self._grid(tg[start:stop], vg[start:stop])
            events += self._gap(g0, g1, "missing_samples")
            start = stop
        events += self._grid(tg[start:], vg[start:])
        self._refresh_state()
        return events

    def mark_gap(self, start_s: float, end_s: float, reason: str = "gap") -> list:
        """The next samples follow a hole the source reports. A hole up to ``max_gap_s`` is
        bridged exactly as the same hole found in the timestamps (nothing to do here; the
        caller reports it); a longer one drops any rep in progress, never counted."""
        if end_s - start_s <= self.settings.max_gap_s:
            return []
        events = self._flush()
        self.resampler.break_at_next()
        return events + self._gap(start_s, end_s, reason)

    def end_set(self) -> list:
        """Close the open set now (button, MQTT ``end_set``)."""
        events = self._flush()
        t = self.state.t_s if self.state.t_s is not None else 0.0
        return events + self._close_set(t, "command")

    def set_tempo(self, tempo) -> None:
        """Change the target tempo (a Tempo, a string like '3-0-2-1', or None)."""
        if isinstance(tempo, str):
            tempo = Tempo.parse(tempo)
        self.settings = self.settings.with_(tempo=tempo)

    def finish(self, strict: bool = False) -> list:
        """End of stream: closes the open set. ``strict``: no neutral found is an error."""
        events = self._flush()
        if strict and not self.state.calibrated:
            raise CalibrationError(
                f"no still period of {self.settings.neutral_still_s:g} s to take neutral from "
                f"(stand still with the shoe flat first); saw {self.samples_seen} samples"
            )
        t = self.state.t_s if self.state.t_s is not None else 0.0
        return events + self._close_set(t, "end_of_stream")

    def summary(self) -> SessionSummary:
        if self.sets is None:
            raise ValueError("this analyzer keeps no sets (keep_sets=False): no summary")
        sets = list(self.sets)
        if self.open_set is not None:
            sets.append(self.open_set)
        rate = (
            self.resampler.samples_in / max(self.last_t - self.resampler.t0, 1e-9)
            if (self.resampler.t0 is not None and self.last_t is not None)
            else None
        )
        return SessionSummary(sets=sets, sample_rate_hz=rate)

    # -- the chain ----------------------------------------------------------------------------
    def _validate(self, t_s, acc_g, gyr_dps):
        # Contiguous (a recording's columns are views of one table): every pass below and
        # in the resampler is several times faster than on strided rows, copy included.
        t_s = np.ascontiguousarray(t_s, dtype=float)
        acc_g = np.ascontiguousarray(acc_g, dtype=float)
        gyr_dps = np.ascontiguousarray(gyr_dps, dtype=float)
        n = len(t_s)
        if t_s.ndim != 1 or acc_g.shape != (n, 3) or gyr_dps.shape != (n, 3):
            t_s, acc_g, gyr_dps = t_s.reshape(-1), acc_g.reshape(-1, 3), gyr_dps.reshape(-1, 3)
            if not len(t_s) == len(acc_g) == len(gyr_dps):
                raise ValueError(
                    f"t_s, acc_g and gyr_dps differ in length: "
                    f"{len(t_s)}, {len(acc_g)}, {len(gyr_dps)}"
                )
        if n == 0:
            return t_s, acc_g, gyr_dps
        last = self.last_t if self.last_t is not None else -math.inf
        # Finite ends, in order after the last read, and no step back between them: every t
        # is finite and in order (a NaN makes the smallest step NaN). Else find what is wrong.
        first, final = float(t_s[0]), float(t_s[-1])
        ok = math.isfinite(first) and math.isfinite(final) and first >= last
        if ok and n > 1:
            ok = bool(np.minimum.reduce(np.subtract(t_s[1:], t_s[:-1])) >= 0.0)  # .min(), unwrapped
        if ok:
            return t_s, acc_g, gyr_dps
        # (Non-finite acc_g and gyr_dps are glitches, dropped by the screen.)
        if not np.isfinite(t_s).all():
            i = int(np.flatnonzero(~np.isfinite(t_s))[0])
            raise ValueError(f"t_s has a non-finite value at sample {self.samples_seen + i}")
        if t_s[0] < last or (n > 1 and np.greater(t_s[:-1], t_s[1:]).any()):
            prev = np.concatenate(([last], t_s[:-1]))
            i = int(np.flatnonzero(t_s < prev)[0])
            raise ValueError(
                f"time goes backwards at sample {self.samples_seen + i}: "
                f"{t_s[i]:g} s after {prev[i]:g} s"
            )
        return t_s, acc_g, gyr_dps

    def _grid(self, tg: np.ndarray, vg: np.ndarray) -> list:
        if len(tg) == 0:
            return []
        s = self.settings
        ks = np.rint((tg - self.resampler.t0) / self.dt_s).astype(np.int64)
        acc, gyr = vg[:, :3], vg[:, 3:]
        updates = self.calibrator.update(ks, acc, gyr)
        if self.fusion is None:
            first = next((u for u in updates if u.up is not None), None)
            if first is None:
                return []
            self.fusion = TiltFusion(first.up, self.dt_s, s.fusion_tau_s, first.g_ref)
            self.detector.frame, self.detector.g_ref = self.fusion.frame, first.g_ref
            self.state.calibrated = True
            self.bias_dps = first.bias_dps
            updates = [u for u in updates if u is not first]
            i0 = int(np.searchsorted(ks, first.apply_from))  # the rows from neutral on
            tg, acc, gyr, ks = tg[i0:], acc[i0:], gyr[i0:], ks[i0:]
            self._neutral_idx = self.history.end
        # Each row uses the gyro bias known before it (updates apply from a block's end).
        if updates:
            table = np.array([self.bias_dps] + [u.bias_dps for u in updates])
            takes_over = np.searchsorted(ks, [u.apply_from for u in updates])  # row indices
            rows_per_bias = np.diff(takes_over, prepend=0, append=len(ks))
            bias = np.repeat(table, rows_per_bias, axis=0)
            self.bias_dps = updates[-1].bias_dps
        else:
            bias = self.bias_dps[None, :]
        # Pieces well inside the history, detecting after each so nothing scrolls out unseen.
        piece = self.history.keep // 4
        events: list = []
        for a2 in range(0, len(ks), piece):
            b2 = min(len(ks), a2 + piece)
            g = gyr[a2:b2] - (bias[a2:b2] if updates else bias)
            r, w = self.fusion.update(acc[a2:b2], g)
            k0 = self.history.end
            self._pose_offsets.extend((k0 + row, d) for row, d in self.fusion.pose_offsets)
            wmag, free_g, flags = self.fusion.wmag, self.fusion.free_g, self.fusion.flags
            walk = self._walking(wmag, free_g)
            settled = self._settled(walk, flags)
            # A column at a time, straight into the history: faster than column_stack.
            self.history.append(
                (tg[a2:b2], *r.T, *w.T, wmag, free_g, flags, settled, walk, *acc[a2:b2].T, *g.T)
            )
            if self.trace is not None:  # t, r1, r2 of the rows just added
                newest = self.history.rows(self.history.end - (b2 - a2), self.history.end)
                self.trace.append(newest[:, :3].copy())
            events += self._detect()
        return events

    def _walking(self, wmag: np.ndarray, free_g: np.ndarray) -> np.ndarray:
        """1.0 on rows of a stride: turning at walking speed with the foot off the ground
        (acceleration the lever arm of a pivot on the ball cannot explain), or faster than
        any heel raise. A brisk raise turns at 300-400 deg/s too, but pivots on the ball."""
        s = self.settings
        walk = (wmag > s.walking_gyr_dps) & (free_g > FUSION.dynamic_g)
        walk |= wmag > s.stride_gyr_dps
        return walk.astype(float)

    def _settled(self, walk_f: np.ndarray, flags: np.ndarray) -> np.ndarray:
        """1 where the tilt can be trusted as a rep's bottom: no jolt now, no walking or
        restart of the tilt within the last ``TUNING.settle_s``."""
        k0, n = self.history.end, len(walk_f)
        walk = walk_f != 0.0
        jolt = walk | (flags == FLAG_RESYNC)
        settle = int(round(TUNING.settle_s * self.settings.grid_hz))
        if not jolt.any():
            if k0 - self._last_jolt < settle:  # its first rows still settling from before
                idx = np.arange(k0, k0 + n)
                return ((idx - self._last_jolt >= settle) & (flags != FLAG_FREE)).astype(float)
            return (flags != FLAG_FREE).astype(float)
        idx = np.arange(k0, k0 + n)
        last = np.maximum.accumulate(np.where(jolt, idx, self._last_jolt))
        self._last_jolt = int(last[-1])
        if walk.any():
            self._last_walk = k0 + int(np.flatnonzero(walk)[-1])
        far = idx - last >= settle
        return (far & (flags != FLAG_FREE)).astype(float)

    def _detect(self) -> list:
        hist = self.history
        end = hist.end
        if not self.axis.known:
            k0 = max(self.idle_checked, hist.first)
            rows = hist.rows(k0, end)
            if len(rows):
                found = self.axis.search(
                    k0,
                    rows[:, [hist.col["r1"], hist.col["r2"]]],
                    rows[:, hist.col["wmag"]],
                    hist,
                    free=np.isin(rows[:, hist.col["flag"]], (FLAG_FREE, FLAG_RESYNC))
                    | (rows[:, hist.col["walk"]] != 0.0),
                )
                self.idle_checked = end
                if found is None:
                    return []
                self.state.axis_known = True
                # Found late (the first reps did not qualify): look back over all the kept
                # history since neutral, the last gap or the last free motion (a stride, a
                # step up) and count the reps before it too.
                self._detect_from = max(
                    hist.first,
                    self.detector.floor_idx,
                    self._neutral_idx,
                    self.axis.last_vigorous + 1,
                )
                self.detector.floor_idx = max(self.detector.floor_idx, self._detect_from)
                self.detector.reset(self._detect_from)
        events: list = []
        while True:
            self._finalize(end)
            cands = self.detector.run(hist, end, self.axis)
            if not cands:
                break
            for cand in cands:
                if cand.rejected:
                    # kept for its reason and times, not its grid rows and lever-arm fit
                    # (about 15 kB a movement: 3 MB of the service's memory for 200)
                    self.rejected.append(
                        replace(cand, pivot=None, t_s=None, tilt_deg=None, rate_dps=None)
                    )
                    continue
                events += self._close_if_idle(cand)
                events += self._accept(cand)
        events += self._close_if_idle(None)
        return events

    def _close_if_idle(self, cand: Candidate | None) -> list:
        """Walking or a long pause ends the open set (before ``cand``, or up to now)."""
        if self.open_set is None:
            return []
        hist, s = self.history, self.settings
        # The last rep's end as decided (its final time may come later: chain.final)
        last_end = self.detector.prev_end_s
        # Rows already looked at for walking since the last rep are not looked at again.
        a = max(self.last_rep_decide + 1, hist.first, self._walk_checked)
        b = cand.base_idx if cand is not None else hist.end
        if b > a:
            hot = np.flatnonzero(hist.get("walk", a, b))
            if len(hot):
                return self._close_set(hist.at("t", a + int(hot[0])), "walking")
            if cand is None:
                self._walk_checked = b
        if cand is not None:
            if cand.start_s - last_end >= s.set_gap_s:
                return self._close_set(last_end + s.set_gap_s, "pause")
            return []
        if not self.detector.in_rep and hist.end > hist.first:
            if hist.at("t", hist.end - 1) >= last_end + s.set_gap_s:
                return self._close_set(last_end + s.set_gap_s, "pause")
        return []

    def _close_set(self, t_s: float, why: str) -> list:
        if self.open_set is None:
            return []
        self._finalize(self.history.end, every=True)
        done = self.open_set
        self._rejudge_surface(done)
        done.end_s = done.reps[-1].end_s
        done.ended_by = why
        self.sets_closed += 1
        if self.sets is not None:
            self.sets.append(done)
        self.prev_surface = done.reps[-1].surface
        self.open_set = None
        self.set_votes = []
        self._judged = []
        self._decided = []
        self.state.set_open = False
        return [SetEvent(done, t_s)]

    def _surface(self, votes: list[bool], last_vote: bool) -> str:
        """Floor or step from the set's votes so far (the previous set's surface breaks ties
        when there are few reps): the majority, a tie going to the latest rep's vote."""
        if self.settings.surface != "auto":
            return self.settings.surface
        votes = list(votes)
        if self.prev_surface is not None:
            votes.append(self.prev_surface == "step")
        n_step, n = sum(votes), len(votes)
        return "step" if (n_step * 2 > n or (n_step * 2 == n and last_vote)) else "floor"

    def _rejudge_surface(self, done: SetSummary) -> None:
        """A rep is judged on the surface its set had shown so far; once the set is over,
        its early reps are judged again on the set's surface (a step set's first reps are
        checked for going past neutral, like the rest), so the set event's reps agree."""
        if not self.set_votes:
            return
        surface = self._surface(self.set_votes, self.set_votes[-1])
        for rep, inputs in zip(done.reps, self._judged, strict=True):
            if rep.surface == surface:
                continue
            rep.surface = surface
            rep.faults = rep_faults(settings=self.settings, surface=surface, **inputs)
            rep.depth_deg = shown_depth(
                surface, inputs["depth_deg"], inputs["floor_depth_deg"], self.settings
            )

    def _accept(self, cand: Candidate) -> list:
        s, hist = self.settings, self.history
        r, t, v = cand.tilt_deg, cand.t_s, cand.rate_dps  # the rows the detector timed
        pitch, _ = self.axis.pitch_roll(r)
        top = cand.top_idx - cand.base_idx
        stop = cand.stop_idx - cand.base_idx
        r_top = r[top] + self._hold_offset(cand)
        peak = float(r_top @ self.axis.p)
        depth = max(0.0, -float(pitch[top:].min()))
        if not self._sign_checked:
            self._sign_checked = True
            # Which way is heel up, from physics: turning the heel up about the ball of the
            # foot lifts the sensor (it sits behind the ball). Too slow a movement to tell
            # (little tangential acceleration): a first "rep" that went further below
            # neutral than above it was heels dropped on a step (a stretch), not a raise.
            sign = 0
            if cand.pivot is not None:
                n3 = self.fusion.basis @ self.axis.p
                sign = heel_up_sign(cand.pivot, n3, self.fusion.up)
            if sign < 0 or (sign == 0 and depth > peak):
                # Turn the axis round and look at the same stretch of data again.
                self.axis.p = -self.axis.p
                self.detector.reset(self._detect_from)
                return []
        in_rep = (t >= cand.start_s) & (t <= cand.end_s)
        ref = self.raise_dir.axis(self.axis.p)
        judged_peak = float(r_top @ ref)
        roll_ref = r @ np.array([-ref[1], ref[0]])
        roll_in = roll_ref[in_rep] if in_rep.any() else roll_ref
        roll_deg = float(roll_in[np.argmax(np.abs(roll_in))])
        rebound = rebound_dps(t[stop:], pitch[stop:], v[stop:])
        below = np.flatnonzero(pitch[top:] < 0)
        neutral_speed = float(-v[top + below[0]]) if len(below) else 0.0

        if self.open_set is None:
            index = self.sets_closed + 1
            self.open_set = SetSummary(index, cand.start_s, cand.end_s, [], "open")
            self.state.set_open = True
        st = self.open_set
        vote = looks_like_step(depth, neutral_speed, cand.lower_peak_dps)
        self.set_votes.append(vote)
        surface = self._surface(self.set_votes, vote)
        best = max([judged_peak] + [x["peak_deg"] for x in self._judged])
        judged = dict(
            peak_deg=judged_peak,
            depth_deg=depth,
            floor_depth_deg=floor_depth_deg(t, pitch, cand.start_s, top),
            roll_deg=roll_deg,
            rebound_dps=rebound,
            lower_peak_dps=cand.lower_peak_dps,
            best_peak_deg=best,
            raise_s=cand.top_start_s - cand.start_s,
            lower_s=cand.end_s - cand.top_end_s,
        )
        self._judged.append(judged)
        faults = rep_faults(settings=s, surface=surface, **judged)
        depth = shown_depth(surface, depth, judged["floor_depth_deg"], s)
        tempo = s.tempo
        rep = Rep(
            set=st.index,
            index=len(st.reps) + 1,
            start_s=cand.start_s,
            top_start_s=cand.top_start_s,
            top_end_s=cand.top_end_s,
            end_s=cand.end_s,
            peak_deg=peak,
            depth_deg=depth,
            heel_rise_mm=s.heel_rise_mm(peak),
            roll_deg=roll_deg,
            surface=surface,
            faults=faults,
            tempo=tempo.as_dict() if tempo is not None else None,
        )
        rep.deviation_s = deviation_s(rep, tempo)
        st.reps.append(rep)
        self._decided.append(rep)
        self._link(st, len(st.reps) - 2)
        st.end_s = rep.end_s
        self._provisional.append(
            Provisional.of(rep, st, cand, self.axis.p, self.detector.prev_end_s, tempo, s.grid_hz)
        )
        self.last_rep_decide = cand.decide_idx
        self.detector.prev_end_s = rep.end_s
        bottom = self.axis.refine(r[in_rep])  # its bottom's direction, judged before the fold
        self.raise_dir.add(r[top] if bottom is None else bottom)
        self.state.rep_count += 1
        return [RepEvent(rep, float(hist.at("t", cand.decide_idx)))]

    def _hold_offset(self, cand: Candidate) -> np.ndarray:
        """What to add to the tilt at ``cand``'s top (deg, on the neutral basis): the first
        still pose inside its top hold (TiltFusion.pose_offsets: the pose's corrected gravity
        less the filter's tilt over it), none without one. A deep_drop rep's top is the
        gyro's integral from its bottom, 12-30 deg below it, with the gyro's gain and bias
        errors on that whole way; the hold's gravity carries only the accelerometer's error at
        that height and the gyro's error over the 1-4 deg from the top to the pose."""
        t, base, w = cand.t_s, cand.base_idx, self.fusion.selfcal.window
        for end, d in self._pose_offsets:
            lo, hi = end - w - base, end - 1 - base
            if lo < 0 or hi >= len(t):
                continue
            if t[lo] >= cand.top_start_s and t[hi] <= cand.top_end_s:
                return d
        return np.zeros(2)

    def _finalize(self, limit: int, every: bool = False) -> None:
        """Time again (chain.final) each open-set rep whose signal after it is in by history
        row ``limit`` (``every``: all of them, with what there is: a set closing, a hole), and
        put the final rep in its set in its place."""
        if not self._provisional:
            return
        waiting = []
        for pend in self._provisional:
            if not every and pend.due_idx > limit:
                waiting.append(pend)
                continue
            rep = retime(self.history, pend, limit, self.settings.grid_hz)
            st, i = pend.set, pend.rep.index - 1
            st.reps[i] = rep
            if i == 0:
                st.start_s = rep.start_s
            self._link(st, i - 1)
            self._link(st, i)
            st.end_s = st.reps[-1].end_s
        self._provisional = waiting

    def _link(self, st: SetSummary, i: int) -> None:
        """Rep ``i`` of the open set and the one after it (if both exist): the bottom hold
        between them (on the rep as decided too); a final time of rep ``i`` ending after the
        next rep's start (its window reached into the next rise and its stop was read past
        it) is no better than the decision's, which the detector kept before the next
        start: those are kept."""
        if i < 0 or i + 1 >= len(st.reps):
            return
        rep, nxt = st.reps[i], st.reps[i + 1]
        d = self._decided[i]
        # the decided rep (the live event's) gets the decided times' bottom hold, as before
        d.bottom_hold_s = self._decided[i + 1].start_s - d.end_s
        if rep.end_s > nxt.start_s:
            rep = st.reps[i] = replace(
                rep,
                start_s=d.start_s,
                top_start_s=d.top_start_s,
                top_end_s=d.top_end_s,
                end_s=d.end_s,
                deviation_s=d.deviation_s,
            )
            if i == 0:
                st.start_s = rep.start_s
        rep.bottom_hold_s = nxt.start_s - rep.end_s

    def _gap(self, start_s, end_s, reason) -> list:
        self._finalize(self.history.end, every=True)
        self.calibrator.reset_block()
        if self.fusion is not None:
            self.fusion.reset()
        if self.axis.known:
            self.detector.reset(self.history.end)
        self.detector.floor_idx = self.history.end
        self.axis.run = 0
        self.idle_checked = max(self.idle_checked, self.history.end)
        return [GapEvent(float(start_s), float(end_s), reason, t_s=float(end_s))]

    def _refresh_state(self):
        st, hist = self.state, self.history
        st.set_index = self.open_set.index if self.open_set else self.sets_closed
        st.reps_in_set = len(self.open_set.reps) if self.open_set else 0
        if hist.n == 0:
            st.t_s = self.last_t
            st.phase = "uncalibrated" if not st.calibrated else "searching"
            return
        t, r1, r2, w1, w2 = hist.data[hist.n - 1, :5].tolist()
        st.t_s = t
        # Walking within the last 1.5 s (the index of the last walking-speed sample is kept).
        walking = hist.end - self._last_walk <= int(1.5 * self.settings.grid_hz)
        if not self.axis.known:
            st.phase = "walking" if walking else "searching"
            return
        p0, p1 = self.axis.p.tolist()
        st.pitch_deg = r1 * p0 + r2 * p1
        st.roll_deg = -r1 * p1 + r2 * p0
        if walking:
            st.phase = "walking"
            return
        rate = w1 * p0 + w2 * p1
        if rate > TUNING.phase_rate_dps:
            st.phase = "rising"
        elif rate < -TUNING.phase_rate_dps:
            st.phase = "lowering"
        elif st.pitch_deg > 5.0:
            st.phase = "top"
        else:
            st.phase = "bottom" if self.open_set else "still"
