"""The gain self-calibration's windows judged all at once give what judging them one at a time
gave, bit for bit: the same poses at the same rows, the same fits, the same state."""

import numpy as np
import pytest
from heelraise.chain.analyzer import Analyzer
from heelraise.chain.calibration import GainSelfCal
from heelraise.settings import AnalyzerSettings
from heelraise.sim import SessionSpec, simulate_session


class OneAtATime(GainSelfCal):
    """The judging as it was before the windows were batched: each window from its own rows
    (kept here as the reference)."""

    def feed(self, acc_g, gyr_dps, w_dps):
        changes = []
        self.poses = []
        x = np.concatenate((acc_g, gyr_dps, w_dps), axis=1)
        a, n = 0, len(x)
        while a < n:
            take = min(n - a, self.window - self.filled)
            self.rows[self.filled : self.filled + take] = x[a : a + take]
            self.filled += take
            a += take
            if self.filled == self.window:
                self.filled = 0
                changed = self._judge_one(self.rows)
                if self.last is not None and self.last[2] == self.windows_seen:
                    self.poses.append((a, self.last[0]))
                if changed:
                    changes.append((a, self.correction))
        return changes

    def _judge_one(self, rows):
        s, dt = self.s, self.dt_s
        self.windows_seen += 1
        turns = self.turn_deg + dt * np.cumsum(rows[:, 6:8], axis=0)
        mid_turn = turns.mean(axis=0)
        self.turn_deg = turns[-1].copy()
        acc, gyr = rows[:, :3].mean(axis=0), rows[:, 3:6]
        half = len(gyr) // 2
        ramp = gyr[half:].mean(axis=0) - gyr[:half].mean(axis=0)
        still = (
            np.linalg.norm(gyr.mean(axis=0)) < s.pose_mean_dps
            and np.linalg.norm(ramp) < s.pose_ramp_dps
            and np.sqrt(gyr.var(axis=0).max()) < s.pose_spread_dps
            and abs(np.linalg.norm(acc) - self.g_ref) < s.pose_g
        )
        if not still:
            return False
        return self._pose(acc, mid_turn)  # pairing and fitting: the one in use


def recorded_feeds(rate_hz: float, seed: int):
    """What the analyzer fed its self-calibration on a simulated session: the constructor's
    arguments and every feed's rows (a reset between feeds marked as None)."""
    sim = simulate_session(SessionSpec(sets=3, reps=8, rate_hz=rate_hz, seed=seed))
    made, feeds = [], []
    init, feed, reset = GainSelfCal.__init__, GainSelfCal.feed, GainSelfCal.reset

    def spy_init(self, *args, **kwargs):
        made.append((args, kwargs))
        init(self, *args, **kwargs)

    def spy_feed(self, acc_g, gyr_dps, w_dps):
        feeds.append((acc_g.copy(), gyr_dps.copy(), w_dps.copy()))
        return feed(self, acc_g, gyr_dps, w_dps)

    def spy_reset(self):
        feeds.append(None)
        reset(self)

    mp = pytest.MonkeyPatch()
    mp.setattr(GainSelfCal, "__init__", spy_init)
    mp.setattr(GainSelfCal, "feed", spy_feed)
    mp.setattr(GainSelfCal, "reset", spy_reset)
    try:
        a = Analyzer(AnalyzerSettings())
        a.update(sim.t_s, sim.acc_g, sim.gyr_dps)
        a.finish()
    finally:
        mp.undo()
    assert len(made) == 1
    return made[0], feeds


def run(cls, made, feeds, rng=None):
    """Feed ``cls`` the recorded rows (re-cut at random when ``rng`` is given); what it
    found, in a form compared bit for bit."""
    args, kwargs = made
    cal = cls(*args, **kwargs)
    found = []
    for f in feeds:
        if f is None:
            cal.reset()
            continue
        cuts = [0, len(f[0])]
        if rng is not None:
            cuts = sorted({0, len(f[0]), *rng.integers(0, len(f[0]) + 1, 4).tolist()})
        for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
            changes = cal.feed(*(v[lo:hi] for v in f))
            found += [("pose", lo + row, acc.tobytes()) for row, acc in cal.poses]
            found += [("fit", lo + row, c.acc_matrix.tobytes(), c.gyr_gain) for row, c in changes]
    found.sort(key=lambda f: (f[1], f[0] == "pose"))  # per row, in one order whatever the cuts
    state = (
        cal.windows_seen,
        cal.filled,
        cal.turn_deg.tobytes(),
        cal.pairs_total,
        cal.fits,
        [p.tobytes() for p in cal.pose_acc],
        [p.tobytes() for p in cal.pair_turn],
        None if cal.last is None else (cal.last[0].tobytes(), cal.last[1].tobytes(), cal.last[2]),
    )
    return found, state


@pytest.mark.parametrize("rate_hz, seed", [(100.0, 3), (400.0, 5)])
def test_batched_windows_judge_as_one_at_a_time(rate_hz, seed):
    made, feeds = recorded_feeds(rate_hz, seed)
    want = run(OneAtATime, made, feeds)
    assert sum(1 for f in want[0] if f[0] == "pose") > 20  # still poses were there to find
    assert any(f[0] == "fit" for f in want[0])  # and pairs enough for fits
    assert run(GainSelfCal, made, feeds) == want
    rng = np.random.default_rng(seed)
    for _ in range(3):  # cut anywhere: windows straddling the feeds
        assert run(GainSelfCal, made, feeds, rng) == want


@pytest.mark.parametrize("ulps", [-2, -1, 0, 1, 2])
def test_a_length_at_a_limit_is_judged_as_np_linalg_norm_judges_it(ulps):
    """Limits set a few units in the last place from a window's own mean-turn, ramp and |g|
    lengths (``np.linalg.norm``): the batched lengths cannot tell, the window is judged as
    one at a time, on either side of each limit."""
    from dataclasses import replace

    from heelraise.chain.calibration import SELFCAL

    rng = np.random.default_rng(ulps + 10)
    dt, w = 0.01, 30
    acc = np.array([0.01, -0.02, 0.995]) + 1e-3 * rng.standard_normal((w, 3))
    gyr = np.array([0.7, -0.4, 0.2]) + 0.05 * np.arange(w)[:, None] / w
    gyr = gyr + 0.01 * rng.standard_normal((w, 3))
    up, basis = np.array([0.0, 0.0, 1.0]), np.eye(3)[:, :2]
    mean_len = float(np.linalg.norm(gyr.mean(axis=0)))
    ramp_len = float(np.linalg.norm(gyr[w // 2 :].mean(axis=0) - gyr[: w // 2].mean(axis=0)))
    g_off = abs(float(np.linalg.norm(acc.mean(axis=0))) - 1.0)
    for field, value in (("pose_mean_dps", mean_len), ("pose_ramp_dps", ramp_len),
                         ("pose_g", g_off)):  # fmt: skip
        limit = value
        for _ in range(abs(ulps)):
            limit = np.nextafter(limit, np.inf if ulps > 0 else -np.inf)
        settings = replace(SELFCAL, window_s=w * dt, **{field: float(limit)})
        found = []
        for cls in (OneAtATime, GainSelfCal):
            cal = cls(up, basis, 1.0, dt, settings)
            for _ in range(3):
                cal.feed(acc, gyr, gyr @ basis)
            found.append((cal.last is None, cal.windows_seen, cal.turn_deg.tobytes()))
        assert found[0] == found[1], field
        assert found[0][0] == (ulps <= 0), field  # still only when the limit is above it
