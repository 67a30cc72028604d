"""The replay IMU streams its file block by block: what it hands out does not depend on the
block size (memory does not grow with the file), holes across blocks included."""

from __future__ import annotations

import numpy as np
import pytest
from heelraise.clock import ManualClock
from heelraise.exceptions import RecordingError
from heelraise.imu.replay import ReplayImu
from heelraise.recording import read_recording, write_recording


@pytest.fixture
def recording(tmp_path):
    rng = np.random.default_rng(2)
    t = np.arange(0, 30, 0.01)
    keep = ~((t > 7.0) & (t < 7.5)) & ~((t > 7.8) & (t < 8.2)) & ~((t > 20) & (t < 20.1))
    t = t[keep]
    acc = np.column_stack([0.01 * rng.normal(size=len(t)), 0 * t, 1.0 + 0 * t])
    gyr = rng.normal(0, 0.5, (len(t), 3))
    path = tmp_path / "r.csv"
    write_recording(path, t, acc, gyr)
    return path


def play(path, block_bytes, seconds, step_s=0.037, loop=False):
    clock = ManualClock()
    imu = ReplayImu(path, clock=clock, speed=3.0, loop=loop, block_bytes=block_bytes)
    imu.open()
    out = []
    for _ in range(int(seconds / step_s)):
        clock.advance(step_s)
        out.append(imu.read())
        if imu.finished:
            break
    return imu, out


@pytest.mark.parametrize("block_bytes", [300, 4096, None])
def test_the_same_blocks_and_gaps_whatever_the_block_size(recording, block_bytes):
    _, want = play(recording, 1 << 30, 12.0)  # the whole file in one block
    imu, got = play(recording, block_bytes, 12.0)
    assert imu.finished
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g.t_s, w.t_s)
        np.testing.assert_array_equal(g.acc_g, w.acc_g)
        assert g.gap == w.gap
    rec = read_recording(recording)
    np.testing.assert_array_equal(np.concatenate([b.t_s for b in got]), rec.t_s)
    gaps = [b.gap for b in got if b.gap]
    assert [(g.start_s, g.end_s) for g in gaps] == [
        pytest.approx((7.0, 7.5), abs=1e-6),
        pytest.approx((7.8, 8.2), abs=1e-6),
    ]  # 0.1 s at t = 20 is left to the analyzer to bridge
    assert imu.fs_hz == pytest.approx(100.0)


def test_a_loop_plays_the_file_again_later(recording):
    imu, got = play(recording, 300, 25.0, loop=True)
    t = np.concatenate([b.t_s for b in got])
    assert not imu.finished
    assert (np.diff(t) > 0).all()
    assert t[-1] > 40.0  # into the second pass
    rec = read_recording(recording)
    assert len(t) > len(rec)


def test_a_bad_line_is_raised_by_the_read_that_reaches_it(recording):
    lines = recording.read_text().splitlines()
    lines[2500] = "oops"
    recording.write_text("\n".join(lines) + "\n")
    clock = ManualClock()
    imu = ReplayImu(recording, clock=clock, speed=10.0, block_bytes=2000)
    imu.open()
    with pytest.raises(RecordingError, match=r"r\.csv:2501: expected 7 columns"):
        for _ in range(100):
            clock.advance(0.1)
            imu.read()
