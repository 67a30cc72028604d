"""Step 5: rep detection and phase timing on the pitch signal.

A rep is a rise of at least ``rise_min_deg`` from the bottom that ends above
neutral by at least ``peak_min_deg`` (``low_rise_deg`` and ``low_peak_deg`` when the
lever fit sees the heel pivot up on the ball of the foot), followed by a lowering of at least
``fall_fraction`` of that rise (or back near neutral, and at least ``fall_min_deg``; out of a
heel drop, back near neutral (``neutral_deg``) and ``back_min_deg`` down, ended by a new rise)
that comes to a stop. The state machine runs on
grid samples, searching each chunk with vectorised running minima and maxima,
so it costs little however the stream is chunked, and it decides at the same
sample whatever the chunking:

    rise  --(pitch >= bottom + min(rise_min, low_rise) and >= min(peak_min, low_peak))-->  fall
    fall  --(pitch <= top - max(fall_fraction * (top - bottom), fall_min), or back)-->  stop
    stop  --(lowering rate, averaged over stop_smooth_s, < 1/16 of its peak,
             or the rate itself rebounding at stop_rebound_dps,
             or braked from 1/4 of the peak to under 1/16 within stop_abrupt_s,
             or, smooth, within stop_settle_share of the peak with its brake done)-->  confirm
    confirm --(lowering resumes)--> stop
    confirm --(``confirm_s`` after the stop)--> rep decided --> rise

The phase instants come from :mod:`heelraise.chain.phases` on the gyro's pitch
rate (no speed profile assumed; each movement's two ends timed together), checked
against a minimum-jerk line through the movement's middle in pitch where that shape
fits (sway near rest can move the rate's ends; see ``fit_trust_s``). A candidate with
walking-speed rotation in it is not a rep; nor is one the lever-arm fit says did not
pivot on the ball of the foot, or one that turned about the vertical (a step on the spot).
"""

from __future__ import annotations

import collections
from dataclasses import dataclass

import numpy as np

from heelraise.chain.axis import AXIS
from heelraise.chain.faults import FAULT
from heelraise.chain.phases import first_true, fit_span, phase_span, rising_again_s
from heelraise.chain.pivot import (
    PIVOT,
    PivotFit,
    cross3,
    fit_lever,
    gravity_in_sensor,
    heel_up_sign,
    lever_behind_m,
)


@dataclass(frozen=True)
class DetectionSettings:
    """Step 5's tuning: what an up-and-down movement must do to be a rep."""

    #: deg: default rise above the bottom (AnalyzerSettings.min_peak_deg overrides)
    rise_min_deg: float = 8.0
    #: deg: the top is at least this far above neutral
    peak_min_deg: float = 5.0
    #: deg: ... or this far, when the foot is seen pivoting heel up on the ball of the foot
    #: (see ``_heel_went_up``): a weaker side's raises out of a deep bottom on a step end
    #: 4.5-5.5 deg above neutral and read 1 deg low; a toe tap or a rock back onto the
    #: heels pivots on the heel and comes back only to neutral
    low_peak_deg: float = 2.0
    #: deg: a rise this far above its bottom, short of ``rise_min_deg``, is a rep too when
    #: the foot is seen pivoting on the ball of the foot with the heel going up (see
    #: ``_heel_went_up``; sway and weight shifts, under 4 deg, do not pivot the heel up):
    #: the lowest raises (8 deg, out of a deep heel drop) read 1 to 2 deg low, and a weaker
    #: side's raise to a 5-6 deg top after a rep lowered only to neutral (its bottom up to
    #: 2.5 deg above it) rises 3.5-6: at 4.5 such a rise of 4.4 was no rep (dev deep_drop
    #: pair 60060 right); the floor is sway's, which _heel_went_up tells apart
    low_rise_deg: float = 4.0
    #: a low rise (accepted by ``_heel_went_up`` alone) pivots where the session's clear reps
    #: did: the sensor at least this share as far behind the pivot as theirs (median; the
    #: mounting fixes it, 0.035-0.21 m behind the ball, to within 0.01 m rep after rep). A
    #: toe tap turns about the heel, 0.19 m further back, which leaves a sensor at the heel
    #: counter 0-0.06 m behind it: the heel-up call's sign, but not the reps' lever
    low_lever_share: float = 0.5
    #: reps: ... once this many clear reps have shown the lever (their latest, at most
    #: ``axis.AXIS.refine_reps``, give the median)
    low_lever_reps: int = 3
    #: a lowering brings back at least this fraction of the rise ...
    fall_fraction: float = 0.5
    #: deg: ... or comes back this close to neutral (a rise from a deep heel drop)
    neutral_deg: float = 2.0
    #: deg: but a lowering is at least this deep: a hold's sag and overshoot (up to 4.5)
    #: and sway (under 4) are not, and a low raise (8-10 deg) lowered only to neutral is
    fall_min_deg: float = 5.0
    #: deg: ... yet a lowering back near neutral after a rise out of a heel
    #: drop, this deep, has ended once the heel rises ``back_rise_deg`` from its low: a
    #: weaker side's 5-7 deg top, read up to 1.2 deg low on an axis found from one rep,
    #: lowered only to neutral falls 4-5 deg and ran into the next raise (a hold's sag and
    #: overshoot take no top back to neutral, and a lowering does not turn back up on its way)
    back_min_deg: float = 4.0
    #: deg: ... the rise again that ends such a lowering (sway, about 0.3 deg, does not)
    back_rise_deg: float = 2.0
    #: deg: ... and the heel drop is one the foot came down to, within this of its bottom
    #: over the ``back_held_s`` before it: a lowering's end (the fastest, 0.5 s for 16 deg,
    #: covers 1 deg in its last 0.1 s); a stride's dip in the air, too slow for the walking
    #: screen, falls 15 deg in that time, and the weight shift after it is no rep
    back_held_deg: float = 3.0
    #: s: ... the time before the bottom that judges it
    back_held_s: float = 0.1
    #: s: decided this long after the lowering stops (bounce window)
    confirm_s: float = 0.02
    #: s: the stop is judged on the rate averaged this long (nulls 10 and 20 Hz balance
    #: ripple, halves 5 Hz; a 0.05 s lag against a stop that a ripple dip fakes)
    stop_smooth_s: float = 0.1
    #: ... or this share of the time from the top to half-way down, when shorter
    stop_smooth_share: float = 0.25
    #: deg/s: the rate itself swinging up this fast ends the lowering at once: an abrupt
    #: stop and its rebound (balance ripple, 7 deg/s RMS, is 3.5 sigma short of it on top of
    #: a lowering's own speed), which the average would hold back up to stop_smooth_s
    stop_rebound_dps: float = 25.0
    #: ... and at least this share of the lowering's peak rate (a fast lowering's ripple)
    stop_rebound_share: float = 0.3
    #: s: the rate itself under 1/16 of the peak ends the lowering at once when it was
    #: still past a quarter of the peak and ``stop_abrupt_dps`` this soon before: a quick
    #: lowering braking hard (a too_fast 0.6 s skewed bell: 140 deg/s to rest in 0.2 s),
    #: which the average held back 0.03-0.05 s; a ripple dip is no stop (the confirmation
    #: sees the lowering resume)
    stop_abrupt_s: float = 0.08
    #: deg/s: ... and past this: a brake of 700 deg/s^2 or more. A deep drop's lowering
    #: may slow to a near-stop at neutral and go on below it: from 25 deg/s that was taken
    #: for its stop (read not_past_neutral: dev deep_drop precision 1.00 -> 0.62), from 60
    #: not (dev seeds 60003-60039); balance ripple (7 deg/s RMS) never swings this far
    stop_abrupt_dps: float = 60.0
    #: s: the rate's rise (its trend) is judged over this long: the brake is done when,
    #: within ``stop_settle_share`` of the peak, the rate rose over the last stop_settle_s
    #: at under ``stop_settle_brake`` of the lowering's hardest brake so far (a slow
    #: lowering's tail flattening out onto the foot's sway, 1-3 deg/s, where 1/16 of its
    #: 25-50 deg/s peak waited for the sway to swing its way: decided 50-270 ms late)
    stop_settle_s: float = 0.02
    #: ... at under this share of the hardest brake (a clean bell's tail still brakes at
    #: over half its hardest at 1/10 of the peak; the sway's own rise is a few deg/s^2)
    stop_settle_brake: float = 0.2
    #: ... with the rate, itself and averaged, within this share of the peak
    stop_settle_share: float = 0.1
    #: ... and only on a lowering smooth to half-way down: its rate's second difference
    #: (RMS, per grid row) under this share of the peak. Balance ripple (7 deg/s RMS:
    #: dev brisk, slow, deep_drop 0.012-0.17 of the peak) makes the rate's rise no trend,
    #: so there the average decides; a lowering without it reads 0.0004-0.007
    stop_settle_ripple: float = 0.01
    #: s: a stop ended so, its rate still growing at confirm_s, is waited for this much
    #: longer (a bounce's rebound peaks within a few rows; a rise going on is the next rep)
    rebound_wait_s: float = 0.05
    #: s: longer than this is not a rep (standing on the toes, a long stretch)
    max_rep_s: float = 40.0
    #: s: a raise or lowering shorter than this is a jolt, not a rep
    min_phase_s: float = 0.15
    #: s: ... unless the pitch took this long to cross the middle (20-80 %) of the rise and
    #: of the lowering: a phase that short crosses it in under 0.09 s, whatever its shape
    #: (the timing, not the movement, was cut short: a sag and ripple around a shallow
    #: lowering)
    slow_span_s: float = 0.3
    #: s: a stride this soon before the rise rules it out
    lead_s: float = 0.3
    #: deg/s: a phase's peak rate under this: tilt settling, the foot did not turn
    min_rate_dps: float = 5.0
    #: ... unless the gyro turned the foot through at least this share of the phase's pitch
    #: change (a jolt's tilt settling moves the fused pitch with no turn on the gyro; a slow
    #: lowering of 6 deg in 1.7 s, peaking at 6.6 deg/s, reads 5 under 7 deg/s of ripple)
    min_turn_share: float = 0.5
    #: s: the bottom is the lowest settled pitch this far back
    base_window_s: float = 3.0
    #: s: crossing and fit disagree by more than this: sway spoilt the crossing
    fit_trust_s: float = 0.25
    #: ... but only a fit that matches the movement: the RMS of normalised time its
    #: minimum-jerk line may leave (bell-shaped movements leave 0.001-0.004, a steady
    #: middle or a linear onset more, and the fit reads those 30% long)
    fit_shape_rms: float = 0.0045
    #: a movement's run of same-signed rate carries at least this share of its pitch range;
    #: a shorter one is balance ripple cutting a slow movement's run (7 deg/s RMS against
    #: an 8 deg lowering at 8 deg/s): a phase timed too short on it (``min_phase_s``) is
    #: timed again on the averaged rate's run
    run_carry_share: float = 0.5
    #: s: ... averaged over this long (a box of 0.2 s nulls 5, 10, ... 25 Hz ripple)
    ripple_box_s: float = 0.2
    #: s: the foot still this long before a rise (rate under ``rest_dps``) ...
    rest_s: float = 0.5
    #: deg/s: (balance ripple averages out over ``ripple_box_s``; sway drifts under 1)
    rest_dps: float = 1.5
    #: deg: ... this far above the bottom (beyond sway) rested after a movement of its own
    #: (back up from a heel drop to stand at neutral): the rise starts from that rest
    rest_above_deg: float = 4.0
    #: grid samples examined per state-machine step (bounded work)
    lookahead: int = 400
    #: deg: higher than any heel raise: a toe-off
    max_peak_deg: float = 60.0
    #: free motion over this fraction of the rep: the foot left the ground
    max_free_fraction: float = 0.25
    #: g: acceleration the lever arm cannot explain, counted as free motion
    free_g: float = 0.4
    #: deg: a raise starts and ends with the heel down; a lunge's rear foot stays up
    max_bottom_deg: float = 10.0
    #: g: lever-fit residual (90th pct) above this: the foot flew, no pivot
    pivot_residual_g: float = 0.3
    #: s: the lever fit spans the rep and this much either side
    pivot_pad_s: float = 0.1
    #: m: a fitted lever arm longer than this across the axis is no pivot on the ball of
    #: the foot (the sensor sits 0.05-0.22 m from it): a step's swing read as a rotation
    #: about a point metres away
    max_lever_m: float = 0.5
    #: m: ... nor one longer than this in all (along the axis too, seen through the roll
    #: and ripple: counted reps fit 0.3 m at most): a shuffle step read as a rotation about
    #: a point 3-4 m away, its part across the axis a foot's length
    max_lever_total_m: float = 1.0
    #: standard errors the lever's part along the axis is taken towards 0 before that
    #: judgement (a slow, pure pitch hardly shows it: a classic rep's fit read 1.2 m there)
    lever_sure_sigmas: float = 3.0
    #: deg: a raise turns the foot about horizontal axes only (pitch, and an ankle's roll,
    #: which shows about the vertical as roll x sin(pitch) once on the toes); a turn about
    #: the vertical beyond that by this much (gyro bias and axis error over a rep stay
    #: under 4) is a step turning on the spot (a shuffle turns 0-45 deg a step)
    yaw_margin_deg: float = 6.0
    #: deg: ... and the vertical share of the pitch itself, its axis read off level by up to
    #: this much (the tilt the gyro carries through a brisk rep): sin(3 deg) x a 53 deg
    #: raise is 2.8 deg, which a brisk rep's 7.9 deg turn had needed
    yaw_axis_tilt_deg: float = 3.0


DETECTION = DetectionSettings()


@dataclass
class Candidate:
    """A finished up-and-down movement, with the indices and instants of its phases."""

    base_idx: int  # bottom before the rise
    top_idx: int  # highest pitch
    stop_idx: int  # where the lowering rate fell under 1/16 of its peak (see the stop mode)
    decide_idx: int  # where it was decided (confirmation done)
    start_s: float
    top_start_s: float
    top_end_s: float
    end_s: float
    rise_peak_dps: float
    lower_peak_dps: float
    vigorous: bool  # walking-speed rotation in or just before it
    rejected: str | None = None
    pivot: PivotFit | None = None  # the lever-arm fit over the movement (see chain.pivot)
    # The grid rows it spans (base_idx .. decide_idx), as the detector saw them.
    t_s: np.ndarray | None = None
    tilt_deg: np.ndarray | None = None  # (N, 2) rotation vector on the neutral basis
    rate_dps: np.ndarray | None = None  # pitch rate
    yaw_deg: float = 0.0  # turn about the vertical over the movement (see _yaw_deg)


class RepDetector:
    def __init__(self, grid_hz: float, rise_min_deg: float = DETECTION.rise_min_deg):
        self.grid_hz = grid_hz
        self.rise_min_deg = rise_min_deg
        self.frame: np.ndarray | None = None  # (e1, e2, up) in sensor axes, from calibration
        self.g_ref = 1.0  # the accelerometer's reading at rest
        self.floor_idx = 0  # nothing before this index (a gap) may start a rep
        self.prev_end_s = -np.inf  # end of the last counted rep
        self.base_window = int(round(DETECTION.base_window_s * grid_hz))
        self.back_held_rows = int(round(DETECTION.back_held_s * grid_hz))
        # How far behind the pivot the sensor sat on the latest clear reps (m): the
        # mounting's lever, which a low rise must show too (see low_lever_share)
        self.levers: collections.deque[float] = collections.deque(maxlen=AXIS.refine_reps)
        self.reset(None)

    def reset(self, cursor: int | None):
        """Start looking for a rise at ``cursor`` (after calibration, an axis find or a gap)."""
        self.mode = "rise"
        self.cursor = cursor
        self.base_val = np.inf
        self.base_idx = cursor
        self.heel_drop = False  # the rise starts from a heel drop (see _set_base)
        self.top_val = -np.inf
        self.top_idx = cursor
        self.vl_val = 0.0
        self.stop_idx = None
        self.fall_rows = 0
        self.confirm_t = None
        self.sprung = False  # the stop was its rebound's (see the confirm mode)
        self.braked = False  # the stop was a hard brake's, before any rebound (ditto)
        self.brake_dps2 = 0.0  # the lowering's hardest brake so far (see _rise_dps2)
        self.smooth = False  # the lowering shows no balance ripple (stop_settle_ripple)
        self.after_idx = -1  # the last movement's stop: the next rise's bottom is after it
        self.low_val, self.low_idx = np.inf, cursor  # lowest tilt back near neutral (fall)

    @property
    def in_rep(self) -> bool:
        return self.mode != "rise"

    def run(self, hist, end: int, axis) -> list[Candidate]:
        """Advance to absolute index ``end``; returns candidates decided on the way."""
        out: list[Candidate] = []
        done_one = False
        # One decision per call: the caller refines the axis from an accepted rep before
        # the next is timed, whatever the chunking.
        while self.cursor is not None and self.cursor < end and not done_one:
            if self.cursor < hist.first:  # fell out of the history: cannot be timed
                self.reset(hist.first)
            a = self.cursor
            stop_at = min(
                end, a + DETECTION.lookahead
            )  # bounded work per step, however long the chunk
            r = hist.rows(a, stop_at)
            hot = r[:, hist.col["walk"]] != 0.0  # a stride (see Analyzer._walking)
            if hot[0]:
                # Walking or stepping: whatever was under way is not a rep. Start afresh
                # after this run of walking-speed samples.
                calm = first_true(~hot)
                self.reset(a + (calm if calm is not None else len(hot)))
                continue
            first_hot = first_true(hot)
            if first_hot is not None:
                r = r[:first_hot]  # up to the walking
            end_here = a + len(r)
            if self.mode in ("rise", "fall"):
                pitch = r[:, 1:3] @ axis.p  # columns r1, r2
            if self.mode == "rise":
                # A rise is measured from, and ends at, samples where the tilt was settled
                # (no jolt now, no walking just before).
                settled = r[:, hist.col["settled"]] != 0.0
                high = settled & (pitch >= min(DETECTION.peak_min_deg, DETECTION.low_peak_deg))
                if not high.any():
                    self.cursor = end_here  # nothing here can end a rise: skip the search
                    continue
                # The bottom: the lowest settled pitch of the last DETECTION.base_window_s.
                w = self.base_window
                lo = max(hist.first, a - w + 1, self.floor_idx, self.after_idx)
                pre = hist.rows(lo, a)
                pre_p = pre[:, 1:3] @ axis.p
                pre_p[pre[:, hist.col["settled"]] == 0.0] = np.inf
                both = np.concatenate((pre_p, np.where(settled, pitch, np.inf)))
                mn = trailing_min(both, w)[len(pre_p) :]
                cond = high & (pitch - mn >= min(self.rise_min_deg, DETECTION.low_rise_deg))
                if not cond.any():
                    self.cursor = end_here
                    continue
                j = int(np.argmax(cond))
                k = len(pre_p) + j
                win = both[max(0, k - w + 1) : k + 1]
                i_min = int(np.argmin(win))
                self._set_base(hist, axis, float(win[i_min]), lo + max(0, k - w + 1) + i_min)
                self.mode = "fall"
                self.top_val, self.top_idx = float(pitch[j]), a + j
                self.cursor = a + j + 1
            elif self.mode == "fall":
                cmx = np.maximum.accumulate(np.maximum(pitch, self.top_val))
                # Half the rise back down, or half the height above neutral (to within
                # neutral_deg of it): a rep may start far below where it ends (out of a deep
                # heel drop) or end above neutral on a step (not past neutral).
                # Never less than fall_min_deg: a low rise's hold sags half its height.
                half = cmx - np.maximum(
                    DETECTION.fall_fraction * (cmx - self.base_val), DETECTION.fall_min_deg
                )
                back = np.minimum(
                    cmx - min(self.rise_min_deg, DETECTION.fall_min_deg),
                    np.maximum(DETECTION.neutral_deg, DETECTION.fall_fraction * cmx),
                )
                cond = pitch <= np.maximum(half, back)
                j = int(np.argmax(cond)) if cond.any() else None
                j = self._back_at_neutral(pitch, cmx, a, j)
                upto = len(pitch) if j is None else max(j + 1, 0)
                i_max = int(np.argmax(pitch[:upto])) if upto else 0
                if upto and pitch[i_max] > self.top_val:
                    self.top_val, self.top_idx = float(pitch[i_max]), a + i_max
                if j is None:
                    self._wait(hist, end_here)
                    continue
                self.mode = "stop"
                self.low_val = np.inf
                self.fall_rows = a + j - self.top_idx  # top to half-way down
                v = hist.rows(self.top_idx, a + j + 1)[:, [hist.col["w1"], hist.col["w2"]]] @ axis.p
                self.vl_val = float(v.min())
                d2 = np.diff(v, 2)
                self.smooth = len(d2) > 0 and float(np.sqrt(np.mean(d2 * d2))) < (
                    -DETECTION.stop_settle_ripple * self.vl_val
                )
                rise = self._rise_dps2(v)
                self.brake_dps2 = float(np.nanmax(rise)) if np.isfinite(rise).any() else 0.0
                self.cursor = a + j + 1
            elif self.mode == "stop":
                v = r[:, [hist.col["w1"], hist.col["w2"]]] @ axis.p
                cmv = np.minimum.accumulate(np.minimum(v, self.vl_val))
                # Stopped when the rate averaged over the last stop_smooth_s (balance ripple
                # averages out; a dip of the ripple is not a stop) is under 1/16 of the peak.
                avg = self._trailing_rate(hist, a, v, axis)
                cond = avg > cmv / 16.0
                # ... or when the rate itself springs back up (an abrupt stop's rebound).
                # Abrupt: still lowering at a quarter of its peak within confirm_s before (a
                # new rise from rest, quick as it may be, is not a rebound).
                k = max(1, int(round(DETECTION.confirm_s * self.grid_hz)))
                ka = max(1, int(round(DETECTION.stop_abrupt_s * self.grid_hz)))
                pre = hist.rows(max(hist.first, a - max(k, ka)), a)
                pre = pre[:, [hist.col["w1"], hist.col["w2"]]]
                n_pre = len(pre)
                x = np.concatenate((pre @ axis.p, v))
                quarter = np.concatenate((np.full(n_pre, self.vl_val), cmv)) / 4.0
                i = n_pre + np.arange(len(v))
                sprung = (v >= self._rebound_dps(cmv)) & _any_before(x < quarter, i, k)
                # ... or when it has braked from a quarter of the peak to under 1/16 of it
                # within stop_abrupt_s (a quick lowering's hard stop: no average to wait for).
                braking = x < np.minimum(quarter, -DETECTION.stop_abrupt_dps)
                abrupt = (v > cmv / 16.0) & _any_before(braking, i, ka)
                cond |= sprung | abrupt
                # ... or, on a smooth lowering, when its brake is done near the peak's 1/16:
                # the rate, within stop_settle_share of the peak, no longer rising towards 0
                # (a tail flattening onto the sway, which the 1/16 would wait out).
                rise = self._rise_dps2(x)[len(x) - len(v) :]
                hardest = np.fmax.accumulate(np.fmax(rise, self.brake_dps2))
                if self.smooth:
                    near = cmv * DETECTION.stop_settle_share
                    settled = rise < DETECTION.stop_settle_brake * hardest
                    cond |= (v > near) & (avg > near) & settled
                j = int(np.argmax(cond)) if cond.any() else None
                upto = len(v) if j is None else j + 1
                self.vl_val = min(self.vl_val, float(v[:upto].min()))
                self.brake_dps2 = float(hardest[upto - 1])
                if j is None:
                    self._wait(hist, end_here)
                    continue
                # The stop is where the rate itself first fell under 1/16 of the peak in that
                # averaging window (an abrupt stop, then a rebound, is seen from there on).
                n = self._stop_rows()
                lo = max(hist.first, self.top_idx, a + j - n + 1)
                w = hist.rows(lo, a + j + 1)[:, [hist.col["w1"], hist.col["w2"]]] @ axis.p
                k = first_true(w > self.vl_val / 16.0)
                self.stop_idx = lo + (k if k is not None else len(w) - 1)
                # Decide DETECTION.confirm_s after that; the stop instant itself is
                # extrapolated from the deceleration when the rep is timed.
                self.confirm_t = hist.at("t", a + j) + DETECTION.confirm_s
                self.sprung = bool(sprung[j])  # ended by its rebound: see it to its peak
                self.braked = bool(abrupt[j]) and not self.sprung  # see the confirm mode
                self.mode = "confirm"
                self.cursor = a + j + 1
            elif self.mode == "confirm":
                v = r[:, [hist.col["w1"], hist.col["w2"]]] @ axis.p
                t = r[:, hist.col["t"]]
                # A hard brake's stop holds only while the rate stays under 1/16 of the peak
                # (where the brake put it): a lowering braking to a slower descent goes on.
                resumed = v < self.vl_val / (16.0 if self.braked else 4.0)
                done = t >= self.confirm_t
                if self.braked:
                    # Stopped hard, before any rebound could show: a rebound fast enough to be
                    # a bounce (FAULT.bounce_min_dps and bounce_fraction of the peak) before
                    # the decision is seen to its peak, as a stop ended by its rebound is.
                    springs = v >= max(FAULT.bounce_min_dps, -FAULT.bounce_fraction * self.vl_val)
                    js = int(np.argmax(springs)) if springs.any() else None
                    jd = int(np.argmax(done)) if done.any() else None
                    jr = int(np.argmax(resumed)) if resumed.any() else None
                    if js is not None and (jd is None or js <= jd) and (jr is None or js < jr):
                        self.braked, self.sprung = False, True
                        continue  # the same rows again, waiting as for a rebound
                if self.sprung:
                    # ... but only once its rebound has done what the bounce rule asks of it
                    # (lifted the heel FAULT.rebound_min_deg and dying away, under
                    # FAULT.rebound_falling of its peak), so a bounce is seen as one; a rise
                    # going on past rebound_wait_s is the next rep's.
                    cols = [hist.col["w1"], hist.col["w2"]]
                    seen = hist.rows(self.stop_idx, a)
                    w_seen = seen[:, cols] @ axis.p
                    pitch_seen = seen[:, [hist.col["r1"], hist.col["r2"]]] @ axis.p
                    pitch = r[:, [hist.col["r1"], hist.col["r2"]]] @ axis.p
                    peak = np.maximum.accumulate(np.maximum(v, w_seen.max(initial=-np.inf)))
                    low = np.minimum.accumulate(np.minimum(pitch, pitch_seen.min(initial=np.inf)))
                    over = (pitch - low >= FAULT.rebound_min_deg) & (
                        v < FAULT.rebound_falling * peak
                    )
                    done &= over | (t >= self.confirm_t + DETECTION.rebound_wait_s)
                jr = int(np.argmax(resumed)) if resumed.any() else None
                jd = int(np.argmax(done)) if done.any() else None
                if jr is not None and (jd is None or jr < jd):
                    self.mode = "stop"  # the lowering goes on: keep following it
                    self.cursor = a + jr
                    continue
                if jd is None:
                    self.cursor = end_here
                    continue
                cand = self._finish(hist, a + jd, axis)
                out.append(cand)
                done_one = True
                nxt = a + jd + 1
                stop = self.stop_idx
                bottom = hist.rows(stop, nxt)[:, [hist.col["r1"], hist.col["r2"]]] @ axis.p
                i_b = int(np.argmin(bottom))
                self.reset(nxt)
                self._set_base(hist, axis, float(bottom[i_b]), stop + i_b)
                self.after_idx = stop
        return out

    def _set_base(self, hist, axis, val: float, idx: int) -> None:
        """The rise's bottom, and whether it is a heel drop: below neutral, and come down to
        as a raise's bottom is, within ``back_held_deg`` of it over the ``back_held_s``
        before (a stride's dip in the air falls 15 deg in that time)."""
        self.base_val, self.base_idx = val, idx
        self.heel_drop = val < -DETECTION.neutral_deg
        if self.heel_drop:
            lo = max(hist.first, idx - self.back_held_rows)
            before = hist.rows(lo, idx + 1)[:, [hist.col["r1"], hist.col["r2"]]] @ axis.p
            self.heel_drop = float(before.max()) - val <= DETECTION.back_held_deg

    def _back_at_neutral(self, pitch: np.ndarray, cmx: np.ndarray, a: int, j: int | None):
        """The fall's row (relative to ``a``, maybe before it): ``j``, or earlier the low of
        a lowering out of a heel drop back near neutral (at least
        ``back_min_deg`` down, short of ``fall_min_deg``), once the heel has risen
        ``back_rise_deg`` from it. Keeps the low seen so far across calls."""
        if not self.heel_drop:
            return j
        upto = len(pitch) if j is None else j
        near_top = np.maximum(DETECTION.neutral_deg, DETECTION.fall_fraction * cmx[:upto])
        near = pitch[:upto] <= np.minimum(cmx[:upto] - DETECTION.back_min_deg, near_top)
        seen = np.where(near, pitch[:upto], np.inf)  # rows back near neutral
        again = first_true(
            pitch[:upto]
            >= np.minimum.accumulate(seen).clip(max=self.low_val) + DETECTION.back_rise_deg
        )
        looked = upto if again is None else again + 1  # the low is in these rows
        if looked:
            k = int(np.argmin(seen[:looked]))
            if seen[k] < self.low_val:
                self.low_val, self.low_idx = float(seen[k]), a + k
        return j if again is None else self.low_idx - a

    def _rebound_dps(self, peak_dps=None):
        """The rate (deg/s, rising) of an abrupt stop's rebound: ``stop_rebound_dps`` and
        ``stop_rebound_share`` of the lowering's peak (``peak_dps``, negative; default the
        peak so far)."""
        peak = self.vl_val if peak_dps is None else peak_dps
        return np.maximum(DETECTION.stop_rebound_dps, -DETECTION.stop_rebound_share * peak)

    def _rise_dps2(self, x: np.ndarray) -> np.ndarray:
        """The rate's rise (deg/s^2) over the last ``stop_settle_s`` at each row of ``x``
        from that many rows on (a lowering braking: positive); the rows before: NaN."""
        m = max(1, int(round(DETECTION.stop_settle_s * self.grid_hz)))
        out = np.full(len(x), np.nan)
        if len(x) > m:
            out[m:] = (x[m:] - x[:-m]) * (self.grid_hz / m)
        return out

    def _stop_rows(self) -> int:
        """Rows the stop's rate is averaged over: ``stop_smooth_s``, or ``stop_smooth_share``
        of the time from the top to half-way down when that is shorter (a quick lowering
        has little ripple beside its speed, and a long average would hold its stop back)."""
        n = DETECTION.stop_smooth_s * self.grid_hz
        return max(1, int(round(min(n, DETECTION.stop_smooth_share * self.fall_rows))))

    def _trailing_rate(self, hist, a: int, v: np.ndarray, axis) -> np.ndarray:
        """The pitch rate at rows a, a+1, ... (``v``) averaged over the last ``stop_smooth_s``
        (fewer rows where the history is shorter)."""
        n = self._stop_rows()
        lo = max(hist.first, a - n + 1)
        pre = hist.rows(lo, a)[:, [hist.col["w1"], hist.col["w2"]]] @ axis.p
        x = np.concatenate((pre, v))
        c = np.concatenate(([0.0], np.cumsum(x)))
        i = np.arange(len(pre), len(x)) + 1
        k = np.maximum(i - n, 0)
        return (c[i] - c[k]) / (i - k)

    def _wait(self, hist, end: int) -> None:
        """Nothing decided up to ``end``; a movement up there longer than ``max_rep_s`` is not
        a rep: look for a rise from here on."""
        self.cursor = end
        if hist.at("t", end - 1) - hist.at("t", self.base_idx) > DETECTION.max_rep_s:
            self.reset(end)

    def _finish(self, hist, decide_idx: int, axis) -> Candidate:
        c = hist.col
        a, b = self.base_idx, decide_idx + 1
        rows = hist.rows(a, b)
        t = rows[:, c["t"]].copy()  # contiguous: searchsorted would copy a strided column each call
        tilt = rows[:, [c["r1"], c["r2"]]]
        v = rows[:, [c["w1"], c["w2"]]] @ axis.p
        top = self.top_idx - a
        stop = self.stop_idx - a
        pitch = tilt @ axis.p
        ins = phase_instants(t, v, pitch, top, stop, self.grid_hz, self.prev_end_s)
        start, top_start, top_end, end = ins.start_s, ins.top_start_s, ins.top_end_s, ins.end_s
        rise_peak, lower_peak = ins.rise_peak_dps, ins.lower_peak_dps
        # Already rising when the data resumed after a gap (or the axis's look-back began,
        # after a step): its start was not seen. Rising all the way from there to the
        # rise's peak; a bottom at the floor because the foot was still settling from a
        # step onto the box, then still for seconds before the rise, is not that.
        cut_off = self.base_idx <= self.floor_idx and bool(
            np.all(v[: ins.rise_row + 1] >= 1.0 / 16.0 * rise_peak)
        )
        # end may lie a little past the decision: it is extrapolated from the deceleration.
        # Walking-speed rotation during the rep, or just before it started, rules it out.
        walk = rows[:, c["walk"]]
        vigorous = bool(walk[int(np.searchsorted(t, start - DETECTION.lead_s)) :].any())
        span = _span(t, start - DETECTION.pivot_pad_s, end + DETECTION.pivot_pad_s)
        pivot = None
        yaw = 0.0
        if self.frame is not None:
            grav = gravity_in_sensor(tilt[span], self.frame, self.g_ref)
            i_acc, i_gyr = c["ax"], c["gx"]
            acc, gyr = rows[span, i_acc : i_acc + 3], rows[span, i_gyr : i_gyr + 3]
            pivot = fit_lever(acc, gyr, tilt[span], grav, 1 / self.grid_hz)
            yaw = _yaw_deg(gyr, grav / self.g_ref, 1 / self.grid_hz)
            if pivot is not None and self._too_long(pivot, axis):
                # The heel's landing (a bounce's impact, 0.5-1.2 g of ringing right after
                # the stop) is no lever-arm acceleration, yet it can pull the fit's lever
                # along the axis to metres: judge the lever over the movement itself, up to
                # the lowering's end (as _flew judges the residual).
                n = min(span.stop, _span(t, start, end).stop) - span.start
                own = fit_lever(acc[:n], gyr[:n], tilt[span][:n], grav[:n], 1 / self.grid_hz)
                if own is not None:
                    pivot, span = own, slice(span.start, span.start + n)
        low = self.top_val - self.base_val < self.rise_min_deg or (
            self.top_val < DETECTION.peak_min_deg
        )
        cand = Candidate(
            base_idx=a,
            top_idx=self.top_idx,
            stop_idx=self.stop_idx,
            decide_idx=decide_idx,
            start_s=start,
            top_start_s=top_start,
            top_end_s=top_end,
            end_s=end,
            rise_peak_dps=rise_peak,
            lower_peak_dps=lower_peak,
            vigorous=vigorous,
            t_s=t,
            tilt_deg=tilt,
            rate_dps=v,
            pivot=pivot,
            yaw_deg=yaw,
        )
        if vigorous:
            cand.rejected = "walking"
        elif pivot is not None and (
            _flew(pivot, t[span], end, pitch[span]) or self._too_long(pivot, axis)
        ):
            cand.rejected = "not_pivoting"  # the foot flew (a stride, a step up): no heel raise
        elif cut_off:
            cand.rejected = "cut_off"
        elif min(self.base_val, float(pitch[top:].min())) > DETECTION.max_bottom_deg:
            cand.rejected = "stays_on_toes"  # rose from and fell back to the toes: a lunge
        elif self.top_val > DETECTION.max_peak_deg:
            cand.rejected = "too_high"  # past any heel raise: a toe-off in walking
        elif (
            _fraction(rows[_span(t, start, end), c["free_g"]] > DETECTION.free_g)
            > DETECTION.max_free_fraction
        ):
            cand.rejected = "free_motion"  # the foot was off the ground, not pivoting on the ball
        elif (
            rise_peak < DETECTION.min_rate_dps and not _turned(v, pitch, 0, top, self.grid_hz)
        ) or (
            lower_peak < DETECTION.min_rate_dps and not _turned(v, pitch, top, stop, self.grid_hz)
        ):
            cand.rejected = "no_rotation"  # tilt drifted back after a jolt; the foot did not turn
        elif (
            top_start - start < DETECTION.min_phase_s
            and _quick_in_pitch(pitch[top::-1], self.grid_hz)
        ) or (end - top_end < DETECTION.min_phase_s and _quick_in_pitch(pitch[top:], self.grid_hz)):
            cand.rejected = "too_quick"
        elif yaw > _yaw_allowed_deg(tilt[_span(t, start, end)], axis.p):
            cand.rejected = "turned"  # the foot turned on the spot: a shuffle step, not a raise
        elif low and not self._heel_went_up(pivot, axis):
            cand.rejected = "too_low"  # a low rise not seen pivoting heel up on the ball: sway
        if cand.rejected is None and not low:
            self._learn_lever(pivot, axis)
        return cand

    def _too_long(self, pivot: PivotFit, axis) -> bool:
        """The fitted lever is no pivot on the ball of the foot: over ``max_lever_m`` across
        the axis or ``max_lever_total_m`` in all (see _lever_surely_m)."""
        return (
            self._lever_across_m(pivot, axis) > DETECTION.max_lever_m
            or self._lever_surely_m(pivot, axis) > DETECTION.max_lever_total_m
        )

    def _lever_across_m(self, pivot: PivotFit, axis) -> float:
        """The fitted lever arm's length across the pitch axis (m). Along the axis a
        rotation about it moves nothing, so that part of the fit is not seen."""
        n3 = self.frame[:, :2] @ axis.p
        return float(np.linalg.norm(cross3(n3, pivot.r_m)))

    def _lever_surely_m(self, pivot: PivotFit, axis) -> float:
        """The fitted lever arm's length in all (m), its part along the pitch axis taken
        ``lever_sure_sigmas`` standard errors towards 0 (a pitch alone does not show it; the
        roll and ripple do, more or less)."""
        n3 = self.frame[:, :2] @ axis.p
        along = float(n3 @ pivot.r_m)
        se = float(np.sqrt(max(0.0, n3 @ pivot.r_cov_m2 @ n3)))
        sure = max(0.0, abs(along) - DETECTION.lever_sure_sigmas * se)
        return float(np.hypot(self._lever_across_m(pivot, axis), sure))

    def _heel_went_up(self, pivot: PivotFit | None, axis) -> bool:
        """The lever fit says the foot turned about the ball of the foot, lifting the sensor
        behind it (a clean pivot, heel up: see pivot.heel_up_sign), with the sensor as far
        behind the pivot as on the session's clear reps (``low_lever_share``: not the heel)."""
        if pivot is None or self.frame is None:
            return False
        n3 = self.frame[:, :2] @ axis.p
        if heel_up_sign(pivot, n3, self.frame[:, 2]) <= 0:
            return False
        if len(self.levers) < DETECTION.low_lever_reps:
            return True
        behind = lever_behind_m(pivot, n3, self.frame[:, 2])
        return behind >= DETECTION.low_lever_share * float(np.median(self.levers))

    def _learn_lever(self, pivot: PivotFit | None, axis) -> None:
        """Keep a clear rep's lever behind the pivot (m), when the fit sees it heel up."""
        if pivot is None or self.frame is None:
            return
        n3 = self.frame[:, :2] @ axis.p
        if heel_up_sign(pivot, n3, self.frame[:, 2]) > 0:
            self.levers.append(lever_behind_m(pivot, n3, self.frame[:, 2]))


@dataclass(frozen=True)
class Instants:
    """A movement's four phase instants (s) and what they were timed on."""

    start_s: float
    top_start_s: float
    top_end_s: float
    end_s: float
    rise_row: int  # the row of the rise's peak rate (of the rows timed)
    rise_peak_dps: float
    lower_peak_dps: float


def phase_instants(
    t: np.ndarray,
    v: np.ndarray,
    pitch: np.ndarray,
    top: int,
    stop: int,
    grid_hz: float,
    after_s: float = -np.inf,
) -> Instants:
    """The four instants of the up-and-down movement over the rows ``t``, pitch rate ``v``
    and ``pitch`` (from its bottom on), its top at row ``top`` and its lowering's stop (as
    the detector found it) at row ``stop``; the rise starts no earlier than ``after_s`` (the
    last rep's end). The detector times a rep on the rows up to its decision; the rep is
    timed again, the same way, once the signal after it is in (:mod:`heelraise.chain.final`)."""
    # Each movement is the run of same-signed pitch rate through its mid-range
    # crossing: a toe tap or rebound before the rise, or sway in a hold, is not part of it.
    v_down = -v
    h = int(round(0.5 * DETECTION.ripple_box_s * grid_hz))
    # A rest well above the bottom before the rise (back up from a heel drop and standing
    # at neutral) is where this movement started: the one before it is not its onset.
    k0 = _last_rest(pitch, v, top, grid_hz)
    (i_vr, rise_peak), alt_r = _peak_of_run(v, pitch, k0, top, rising=True, h=h)
    (vl_rel, lower_peak), alt_l = _peak_of_run(v_down, pitch, top, stop, rising=False, h=h)
    rise_peak = float(v[i_vr]) if rise_peak is None else rise_peak
    lower_peak = float(v_down[vl_rel]) if lower_peak is None else lower_peak
    start, top_start = phase_span(t[k0:], v[k0:], i_vr - k0)
    top_end, end = phase_span(t, v_down, vl_rel)
    # A phase timed shorter than a rep's on a run the ripple cut: timed on the averaged
    # rate's run instead (a slow 8 deg lowering under ripple read 0.08 s long).
    if alt_r is not None and (top_start - start < DETECTION.min_phase_s or rise_peak <= 0):
        i_vr, rise_peak = alt_r
        start, top_start = phase_span(t[k0:], v[k0:], i_vr - k0)
    if alt_l is not None and (end - top_end < DETECTION.min_phase_s or lower_peak <= 0):
        vl_rel, lower_peak = alt_l
        top_end, end = phase_span(t, v_down, vl_rel)
    start, top_start, end = _refit(t, pitch, start, top_start, top_end, end)
    # Keep the instants in order, inside what was seen, and inside this movement.
    start = max(start, float(t[0]), after_s)
    # The lowering ends at the latest when the heel is clearly rising again.
    end = min(end, rising_again_s(t, v, vl_rel, lower_peak))
    if top_start > top_end:  # no hold: rose straight into the lowering
        zc = _zero_crossing(t, v, i_vr, vl_rel)
        top_start = top_end = zc
    return Instants(start, top_start, top_end, end, i_vr, rise_peak, lower_peak)


def _flew(pivot: PivotFit, t: np.ndarray, end_s: float, pitch: np.ndarray) -> bool:
    """The lever fit leaves a large residual (90th percentile of the moving rows) before the
    lowering's last ``pivot_pad_s``: the foot flew mid-movement (a stride's swing). The heel
    landing at the end of a lowering (a bounce) is an impact, not flight, so it is left out.
    Below neutral (``pitch`` under 0) the foot may turn about its heel instead of the ball (on
    the floor the heel lands and the foot rocks back on it): there a row is judged by the
    better of the two pivots."""
    judge = pivot.moving & (t <= end_s - DETECTION.pivot_pad_s)
    if np.count_nonzero(judge) < PIVOT.min_moving_rows:
        return pivot.high_residual_g > DETECTION.pivot_residual_g
    res = pivot.residual_g.copy()
    below = judge & (pitch < 0.0)
    if np.count_nonzero(below) >= PIVOT.second_pivot_rows:
        res[below] = np.minimum(res[below], pivot.residual_about(below))
    return float(np.percentile(res[judge], 90)) > DETECTION.pivot_residual_g


def _any_before(flags: np.ndarray, i: np.ndarray, k: int) -> np.ndarray:
    """For each index in ``i``: is any of ``flags`` true in the ``k`` rows before it?"""
    c = np.concatenate(([0], np.cumsum(flags)))
    return c[i] - c[np.maximum(i - k, 0)] > 0


def _turned(v: np.ndarray, pitch: np.ndarray, i0: int, i1: int, grid_hz: float) -> bool:
    """The gyro's pitch rate ``v``, integrated over rows i0 to i1, turned the foot through at
    least ``min_turn_share`` of the pitch change there (and the same way): the movement was a
    rotation of the foot, not the tilt settling after a jolt."""
    change = float(pitch[i1] - pitch[i0])
    turn = float(v[i0:i1].sum()) / grid_hz
    return abs(change) > 0 and turn / change >= DETECTION.min_turn_share


def _quick_in_pitch(seg: np.ndarray, grid_hz: float) -> bool:
    """A movement, ``seg`` the pitch on the grid going away from the top (back in time for
    the rise), crossed the middle of its range (20 to 80 %) in under ``slow_span_s``: quick
    in the pitch itself, not only as timed on the rate (a hold's sag and ripple can cut a
    shallow lowering's timed run to a few rows)."""
    lo = float(seg.min())
    span = float(seg[0]) - lo
    i80 = first_true(seg <= lo + 0.8 * span)
    i20 = first_true(seg <= lo + 0.2 * span)
    return (i20 - i80) / grid_hz < DETECTION.slow_span_s


def _yaw_deg(gyr_dps: np.ndarray, up: np.ndarray, dt_s: float) -> float:
    """The largest turn about the vertical (deg) over the rows: the gyro's component along
    the measured up, integrated. A heel raise turns the foot about a horizontal axis only
    (the pitch axis, and the roll of an ankle turning in or out); a step turns it on the spot."""
    yaw = np.cumsum(np.einsum("ij,ij->i", gyr_dps, up)) * dt_s
    return float(yaw.max() - yaw.min()) if len(yaw) else 0.0


def _yaw_allowed_deg(tilt_deg: np.ndarray, p: np.ndarray) -> float:
    """The most a raise can turn about the vertical: its roll about the foot's long axis,
    tilted up by the pitch, has a vertical share roll x sin(pitch); its pitch, about an axis
    read up to ``yaw_axis_tilt_deg`` off level, a share of its range; plus yaw_margin_deg."""
    if len(tilt_deg) == 0:
        return DETECTION.yaw_margin_deg
    pitch = tilt_deg @ p
    roll = tilt_deg @ np.array([-p[1], p[0]])
    lean = np.sin(np.radians(min(90.0, float(np.abs(pitch).max()))))
    leak = np.sin(np.radians(DETECTION.yaw_axis_tilt_deg)) * float(np.ptp(pitch))
    return float(np.abs(roll).max()) * lean + leak + DETECTION.yaw_margin_deg


def trailing_min(x: np.ndarray, w: int) -> np.ndarray:
    """out[i] = min(x[max(0, i - w + 1) : i + 1]): the running minimum over the last ``w``.

    Van Herk / Gil-Werman: cut into blocks of ``w``; a window ending at i spans the tail of
    one block (a suffix minimum) and the head of the next (a prefix minimum), so each output
    is the smaller of two running minima, O(n) whatever ``w``.
    """
    n = len(x)
    if n == 0 or w <= 1:
        return x.astype(float, copy=True)
    m = -(-n // w) * w
    pad = np.full(m, np.inf)
    pad[:n] = x
    blocks = pad.reshape(-1, w)
    prefix = np.minimum.accumulate(blocks, axis=1).reshape(-1)
    suffix = np.minimum.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].reshape(-1)
    out = prefix[:n].copy()
    i = np.arange(w - 1, n)  # windows that start at i - w + 1 >= 0
    np.minimum(suffix[i - w + 1], prefix[i], out=out[w - 1 :])
    return out


def _zero_crossing(t, v, i0, i1):
    seg = v[i0 : i1 + 1]
    k = np.flatnonzero((seg[:-1] > 0) & (seg[1:] <= 0))
    if len(k) == 0:
        return float(t[(i0 + i1) // 2])
    j = i0 + int(k[0])
    frac = v[j] / (v[j] - v[j + 1]) if v[j] != v[j + 1] else 0.0
    return float(t[j] + frac * (t[j + 1] - t[j]))


def _last_rest(pitch: np.ndarray, v: np.ndarray, i_peak: int, grid_hz: float) -> int:
    """The first row of the last rest before the top at ``i_peak`` that lies at least
    ``rest_above_deg`` above the bottom and ``low_rise_deg`` below the top (row 0 if there
    is none): the foot stood
    still there (its rate, averaged over ``ripple_box_s``, under ``rest_dps`` for
    ``rest_s``) after a movement of its own, such as the way back up from a heel drop."""
    n = int(round(DETECTION.rest_s * grid_hz))
    if i_peak < n:
        return 0
    h = int(round(0.5 * DETECTION.ripple_box_s * grid_hz))
    seg = slice(0, i_peak + 1)
    still = np.abs(_box(v[seg], h)) < DETECTION.rest_dps
    still &= pitch[seg] - float(pitch[seg].min()) >= DETECTION.rest_above_deg
    # ... and a rise from it still to come (a top hold before the highest row is no rest)
    still &= float(pitch[i_peak]) - pitch[seg] >= DETECTION.low_rise_deg
    # Runs of still rows at least n long: the last one's first row.
    c = np.concatenate(([0], np.cumsum(still)))
    full = np.flatnonzero(c[n:] - c[:-n] == n)  # windows [i, i + n) all still
    if not len(full):
        return 0
    i = int(full[-1])
    while i > 0 and still[i - 1]:
        i -= 1
    return i


def _peak_of_run(s, pitch, i0, i1, rising, h=0):
    """The run the movement is timed on: the rise (``rising``, over [i0, i1]) or the
    lowering (``s`` = -rate), ``s`` the rate signed so the movement is positive. Returns
    the index of its peak and the peak rate, and the same over the averaged rate (or None).

    Starts at the mid-range crossing of the movement and follows the run of positive ``s``
    both ways. A run that does not carry the movement (its pitch change under
    ``run_carry_share`` of the movement's range: balance ripple as fast as a slow movement
    turns its rate round every few rows) is also followed on the rate averaged over 2 ``h``
    + 1 rows (``ripple_box_s``, which nulls 5-25 Hz ripple): the averaged rate's peak, and
    the fastest row of that run as its speed.
    """
    seg = pitch[i0 : i1 + 1]
    lo, hi = float(seg.min()), float(seg.max())
    below = seg <= 0.5 * (lo + hi)
    if rising:
        # Rising towards the top at i1: the last time below mid, then one step on.
        k = first_true(below[::-1])
        m = i0 + (len(seg) - 1 - k if k is not None else 0)
    else:
        k = first_true(below)
        m = i0 + (k if k is not None else i1 - i0)
    first = i0 if rising else 0  # a rise is not followed back past its rest (_last_rest)
    x0, x1 = _run_around(s, m, first)
    plain = (m, float(s[m])) if s[m] <= 0 else (x0 + int(np.argmax(s[x0 : x1 + 1])), None)
    if abs(float(pitch[x1] - pitch[x0])) >= DETECTION.run_carry_share * (hi - lo) or h < 1:
        return plain, None
    sm = _box(s, h)
    if sm[m] <= 0:
        # Not moving at the crossing even on average (a hold's sag as fast as a shallow
        # lowering put the crossing in it): the averaged run that carries the most of the
        # movement between i0 and i1 is the movement.
        m = _carrying_run(sm, pitch, max(i0, first), i1)
        if m is None:
            return plain, None
    x0, x1 = _run_around(sm, m, first)
    return plain, (x0 + int(np.argmax(sm[x0 : x1 + 1])), float(s[x0 : x1 + 1].max()))


def _carrying_run(s, pitch, i0, i1):
    """A row of the run of positive ``s`` within [i0, i1] over which ``pitch`` changes most
    (its fastest row), or None if ``s`` is nowhere positive there."""
    pos = s[i0 : i1 + 1] > 0
    if not pos.any():
        return None
    edges = np.flatnonzero(np.diff(np.concatenate(([0], pos.astype(np.int8), [0]))))
    x0, x1 = edges[::2] + i0, edges[1::2] - 1 + i0
    b = int(np.argmax(np.abs(pitch[x1] - pitch[x0])))
    return int(x0[b]) + int(np.argmax(s[x0[b] : x1[b] + 1]))


def _run_around(s, m, first=0):
    """The run of positive ``s`` through row m (m itself, if ``s[m]`` is not positive),
    from row ``first`` on."""
    if s[m] <= 0:
        return m, m
    off = s <= 0
    k = first_true(off[m - 1 :: -1]) if m > 0 else None
    x0 = max(m - k if k is not None else 0, first)
    k = first_true(off[m + 1 :])
    x1 = m + k if k is not None else len(s) - 1
    return x0, x1


def _box(s: np.ndarray, h: int) -> np.ndarray:
    """Centred moving average over 2h + 1 rows (fewer at the ends)."""
    c = np.concatenate(([0.0], np.cumsum(s)))
    i = np.arange(len(s))
    a, b = np.maximum(i - h, 0), np.minimum(i + h + 1, len(s))
    return (c[b] - c[a]) / (b - a)


def _fraction(mask) -> float:
    return np.count_nonzero(mask) / len(mask) if len(mask) else 0.0


def _span(t, t0, t1) -> slice:
    """Rows with t0 <= t <= t1 (t is sorted)."""
    return slice(int(np.searchsorted(t, t0, "left")), int(np.searchsorted(t, t1, "right")))


def _level(t, pitch, t0, t1, fallback):
    """Median pitch over [t0, t1] (sorting a few dozen values is far cheaper than np.median)."""
    seg = np.sort(pitch[_span(t, t0, t1)])
    n = len(seg)
    if n == 0:
        return fallback
    m = n // 2
    return float(seg[m]) if n % 2 else 0.5 * (float(seg[m - 1]) + float(seg[m]))


def _refit(t, pitch, start, top_start, top_end, end):
    """Refine the instants by fitting each movement's middle (see phases.fit_span): both of
    the rise's, and the lowering's stop only where it was extrapolated past the end of what
    was seen (a decision while the speed dies away). The lowering's start is not refitted:
    a top hold's sag flows into it, so its start level is not the hold's, and the fit
    overrode slow lowerings' power-law starts with instants 0.25 s and more off (dev seeds
    61000-61399: slow lower median 0.103 -> 0.081 s, p90 0.42 -> 0.31 without it; a cosine
    or linear-onset lowering's start p90 0.28-0.31 -> 0.11-0.13). But a long slow
    lowering's stop extrapolated from a tail seen part way down can lie a second late,
    past the next rise's start, which then no longer counts (dev classic 62106, 62138)."""
    i_top = int(np.argmax(pitch))
    bottom0 = _level(t, pitch, start - 0.25, start, float(pitch[0]))
    top = (
        _level(t, pitch, top_start, top_end, float(pitch[i_top]))
        if top_end - top_start >= 0.1
        else float(pitch[i_top])
    )
    rise = _span(t, start - 0.3, min(top_start + 0.3, t[i_top]))
    fit = fit_span(t[rise], pitch[rise], bottom0, top)
    if fit is not None and fit[2] <= DETECTION.fit_shape_rms:
        start = _prefer(start, fit[0])
        top_start = _prefer(top_start, fit[1])
    if end > t[-1]:
        after = pitch[int(np.searchsorted(t, top_end, "right")) :]
        bottom1 = float(after.min()) if len(after) else float(pitch[-1])
        fall = _span(t, max(top_end - 0.3, t[i_top]), end + 0.3)
        fit = fit_span(t[fall], pitch[fall], top, bottom1)
        if fit is not None and fit[2] <= DETECTION.fit_shape_rms:
            end = _prefer(end, fit[1])
    return start, top_start, end


def _prefer(crossing: float, fitted: float) -> float:
    """The crossing estimate is sharper on a clean signal; when sway or tremor has moved
    it far from what the movement's middle implies, trust the fit."""
    return crossing if abs(crossing - fitted) <= DETECTION.fit_trust_s else fitted
