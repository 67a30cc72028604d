"""The recording format: every bad file is a RecordingError naming the file and the line."""

from __future__ import annotations

import numpy as np
import pytest
from heelraise.exceptions import HeelraiseError, RecordingError
from heelraise.recording import (
    HEADER,
    estimate_rate_hz,
    parse_recording,
    read_recording,
    write_recording,
)


def rows(n=50, rate_hz=100.0, t0=0.0):
    """``n`` plausible still samples as CSV lines (shoe flat, z up)."""
    return [f"{t0 + i / rate_hz:.6f},0.01,-0.02,0.99,0.5,-0.3,0.1" for i in range(n)]


def write(tmp_path, lines, name="rec.csv"):
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def error_of(path) -> RecordingError:
    with pytest.raises(RecordingError) as info:
        read_recording(path)
    e = info.value
    assert isinstance(e, HeelraiseError)
    assert e.path == str(path)
    assert "\n" not in str(e)
    return e


def test_round_trip_keeps_samples_meta_and_comments(tmp_path):
    rng = np.random.default_rng(1)
    t = np.arange(200) / 100.0
    acc = rng.normal(0, 0.5, (200, 3))
    gyr = rng.normal(0, 50, (200, 3))
    p = tmp_path / "r.csv"
    write_recording(
        p, t, acc, gyr, meta={"sample_rate_hz": 100, "mount": "laces"}, comments=["made by a test"]
    )
    text = p.read_text()
    assert text.startswith("# made by a test\n")
    rec = read_recording(p)
    assert len(rec) == 200
    assert rec.path == str(p)
    assert rec.meta == {"sample_rate_hz": 100, "mount": "laces"}
    np.testing.assert_allclose(rec.t_s, t, atol=1e-6)
    np.testing.assert_allclose(rec.acc_g, acc, atol=1e-6)
    np.testing.assert_allclose(rec.gyr_dps, gyr, atol=1e-4)
    assert rec.sample_rate_hz == pytest.approx(100.0)
    assert rec.duration_s == pytest.approx(1.99)


def test_write_refuses_arrays_of_different_length(tmp_path):
    with pytest.raises(ValueError, match="differ in length"):
        write_recording(tmp_path / "x.csv", np.arange(3.0), np.zeros((3, 3)), np.zeros((2, 3)))


def test_comments_blank_lines_and_spaces_in_header_are_fine(tmp_path):
    lines = ["# a comment", "", "# rate = 100", " t, ax, ay, az, gx, gy, gz ", *rows(30)]
    rec = read_recording(write(tmp_path, lines))
    assert len(rec) == 30
    assert rec.meta == {"rate": 100}


def test_repeated_timestamps_are_accepted_and_ignored_for_the_rate(tmp_path):
    body = rows(100)
    dup = body[:50] + [body[49]] * 3 + body[50:]
    rec = read_recording(write(tmp_path, [HEADER, *dup]))
    assert len(rec) == 103
    assert rec.sample_rate_hz == pytest.approx(100.0)


def test_estimate_rate_of_nothing_is_nan():
    assert np.isnan(estimate_rate_hz(np.array([1.0, 1.0])))


# ------------------------------------------------------------------------------ bad files
# Line numbers are the file's own (1-based, comments and blank lines included).


def test_missing_file(tmp_path):
    e = error_of(tmp_path / "nope.csv")
    assert e.line is None
    assert "no such file" in str(e)


def test_directory(tmp_path):
    e = error_of(tmp_path)
    assert e.line is None
    assert "directory" in str(e)


def test_binary_file(tmp_path):
    p = tmp_path / "bin.csv"
    p.write_bytes(b"\xff\xfe\x00\x01garbage\x80\x81")
    e = error_of(p)
    assert "text" in str(e)


def test_empty_file(tmp_path):
    p = tmp_path / "empty.csv"
    p.write_text("")
    e = error_of(p)
    assert e.line is None
    assert "empty" in str(e)


def test_only_comments_is_empty(tmp_path):
    e = error_of(write(tmp_path, ["# nothing here", "# at all"]))
    assert "empty" in str(e)


def test_header_only(tmp_path):
    e = error_of(write(tmp_path, ["# c", HEADER]))
    assert e.line == 2
    assert "no samples" in str(e)


def test_wrong_header_names_the_expected_one(tmp_path):
    e = error_of(write(tmp_path, ["t,ax,ay,az,gx,gy", *rows(5)]))
    assert e.line == 1
    assert HEADER in str(e)


def test_headerless_numbers(tmp_path):
    e = error_of(write(tmp_path, rows(5)))
    assert e.line == 1
    assert "header" in str(e)


@pytest.mark.parametrize(
    "bad, found",
    [("0.1,0,0,1,0,0", 6), ("0.1,0,0,1,0,0,0,7", 8), ("0.1", 1)],
    ids=["missing_column", "extra_column", "one_column"],
)
def test_wrong_column_count(tmp_path, bad, found):
    body = rows(20)
    body[9] = bad
    e = error_of(write(tmp_path, ["# c", HEADER, *body]))
    assert e.line == 12  # comment, header, then the 10th sample
    assert f"found {found}" in str(e)
    assert str(e).startswith(f"{tmp_path / 'rec.csv'}:12: ")


def test_text_in_a_number_names_cell_and_column(tmp_path):
    body = rows(20)
    body[4] = "0.04,0.01,-0.02,0.99,0.5,fast,0.1"
    e = error_of(write(tmp_path, [HEADER, *body]))
    assert e.line == 6
    assert "'fast'" in str(e) and "gy" in str(e)


@pytest.mark.parametrize("cell", ["nan", "NaN", "inf", "-inf"])
def test_non_finite(tmp_path, cell):
    body = rows(20)
    body[7] = f"0.07,0.01,{cell},0.99,0.5,-0.3,0.1"
    e = error_of(write(tmp_path, [HEADER, *body]))
    assert e.line == 9
    assert "ay" in str(e) and "finite" in str(e)


def test_time_going_backwards(tmp_path):
    body = rows(20)
    body[10] = "0.050000,0.01,-0.02,0.99,0.5,-0.3,0.1"
    e = error_of(write(tmp_path, [HEADER, *body]))
    assert e.line == 12
    assert "backwards" in str(e)


def test_all_samples_at_one_time(tmp_path):
    body = ["1.0,0.01,-0.02,0.99,0.5,-0.3,0.1"] * 10
    e = error_of(write(tmp_path, [HEADER, *body]))
    assert "same time" in str(e)


def test_rate_under_25_hz(tmp_path):
    e = error_of(write(tmp_path, [HEADER, *rows(100, rate_hz=20.0)]))
    assert "20.0 Hz" in str(e) and "25" in str(e)


def test_rate_of_25_hz_is_accepted(tmp_path):
    rec = read_recording(write(tmp_path, [HEADER, *rows(100, rate_hz=25.0)]))
    assert rec.sample_rate_hz == pytest.approx(25.0)


def test_parse_without_a_file_names_the_source():
    with pytest.raises(RecordingError, match=r"^<recording>: empty"):
        parse_recording("")


# ------------------------------------------------------------------------------ blocks
# The reader parses blocks with numpy's reader; the line checker only names a bad line.


@pytest.mark.parametrize("block_bytes", [64, 1000, 1 << 20])
def test_blocks_of_any_size_give_the_same_samples_meta_and_errors(tmp_path, block_bytes):
    from heelraise.recording import RecordingReader

    body = rows(400)
    body[150:150] = ["", "# late=7", "  "]  # blank and comment lines inside the data
    p = write(tmp_path, ["\ufeff# first=1", HEADER, *body])
    reader = RecordingReader(p, block_bytes=block_bytes)
    blocks = list(reader)
    assert sum(len(b) for b in blocks) == reader.n == 400
    assert reader.meta == {"first": 1, "late": 7}
    t = np.concatenate([b.t_s for b in blocks])
    np.testing.assert_array_equal(t, read_recording(p).t_s)
    assert reader.sample_rate_hz == pytest.approx(100.0)
    assert reader.duration_s == pytest.approx(3.99)
    bad = list(body)
    bad[350] = "3.480000,0.01,oops,0.99,0.5,-0.3,0.1"  # file line 2 + 351 = 353
    e = error_of(write(tmp_path, ["# first=1", HEADER, *bad], "bad.csv"))
    assert e.line == 353 and "'oops'" in str(e) and "ay" in str(e)


def test_the_median_step_is_numpys_median():
    from heelraise.recording import StepCounts

    rng = np.random.default_rng(4)
    t = np.cumsum(np.round(rng.uniform(0.0095, 0.0105, 10_001), 6))
    counts = StepCounts()
    for part in np.array_split(np.diff(t), 7):
        counts.add(part)
    assert counts.median_s() == pytest.approx(np.median(np.diff(t)), rel=1e-9)
    assert 1.0 / counts.median_s() == pytest.approx(estimate_rate_hz(t), rel=1e-9)


def test_a_byte_order_mark_is_skipped(tmp_path):
    p = tmp_path / "bom.csv"
    p.write_bytes(b"\xef\xbb\xbf" + ("\n".join([HEADER, *rows(30)]) + "\n").encode())
    assert len(read_recording(p)) == 30


def test_a_rate_a_hair_under_25_hz_is_accepted(tmp_path):
    """RATE_TOLERANCE: the simulator's own --rate 25 measures 24.9975 Hz."""
    from heelraise.recording import RATE_TOLERANCE

    assert RATE_TOLERANCE >= 0.0002
    rec = read_recording(write(tmp_path, [HEADER, *rows(100, rate_hz=24.9975)]))
    assert rec.sample_rate_hz == pytest.approx(24.9975, rel=1e-4)
    e = error_of(write(tmp_path, [HEADER, *rows(100, rate_hz=24.0)], "slow.csv"))
    assert "24.0 Hz is below the 25 Hz minimum" in str(e)


def test_an_absurd_timestamp_is_refused_with_its_line(tmp_path):
    body = rows(100)
    body[-1] = "1e30,0.01,-0.02,0.99,0.5,-0.3,0.1"
    e = error_of(write(tmp_path, [HEADER, *body]))
    assert e.line == 101
    assert "corrupt timestamp" in str(e)


def test_a_long_hole_is_not_an_absurd_timestamp(tmp_path):
    body = rows(100) + rows(100, t0=3600.0)  # an hour's hole: a hole, reported downstream
    assert len(read_recording(write(tmp_path, [HEADER, *body]))) == 200


def test_only_zeros(tmp_path):
    body = [f"{i / 100:.6f},0,0,0,0,0,0" for i in range(300)]
    e = error_of(write(tmp_path, [HEADER, *body]))
    assert "the sensor reported only zeros" in str(e)


def test_time_in_milliseconds_is_named(tmp_path):
    body = [f"{i * 10},0.01,-0.02,0.99,0.5,-0.3,0.1" for i in range(300)]
    e = error_of(write(tmp_path, [HEADER, *body]))
    assert "t looks like milliseconds" in str(e) and "divide it by 1000" in str(e)
