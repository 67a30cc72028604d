"""Read and write recordings: ``t,ax,ay,az,gx,gy,gz`` CSV, the project's format.

``t`` in seconds (any origin, non-decreasing), acceleration in g, angular rate
in deg/s, in the sensor's own axes. Lines starting with ``#`` are comments;
``# key=value`` comments are metadata (``# sample_rate_hz=100``). Repeated
timestamps are accepted (real loggers write them); time going backwards is not.
A UTF-8 byte-order mark is skipped.

:class:`RecordingReader` streams a file in blocks of about ``BLOCK_BYTES``:
numpy's C reader parses each block, and only a block it cannot take (or whose
numbers break a rule) goes through the line-by-line checker, which names the
bad line. Memory is that of one block, whatever the recording's length.
:func:`read_recording` gathers the blocks into one :class:`Recording`.

The data are also checked for the unit mistakes people make (time in ms or us,
acceleration in m/s^2, gyro in rad/s, columns in another order than the header,
a sensor that only sent zeros): each is one line naming the likely unit and
the fix. Every problem is a :class:`~heelraise.exceptions.RecordingError`
naming the file and, where there is one, the 1-based line.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from heelraise.exceptions import RecordingError
from heelraise.physics import G_MPS2

COLUMNS = ("t", "ax", "ay", "az", "gx", "gy", "gz")
HEADER = ",".join(COLUMNS)
MIN_RATE_HZ = 25.0
#: a measured rate this fraction under MIN_RATE_HZ still passes: a logger's clock runs a
#: hair slow or fast (the simulator's own ``--rate 25`` measures 24.9975 Hz)
RATE_TOLERANCE = 0.01
#: a step in time longer than this is a corrupt timestamp (t = 1e30), not a hole in the data
MAX_STEP_S = 86400.0
#: bytes of text parsed at a time: about 17,000 lines at 1 kHz; numpy's cost per call
#: is then negligible and memory does not grow with the recording
BLOCK_BYTES = 1 << 20
DEG_PER_RAD = 180.0 / math.pi

_BOM = b"\xef\xbb\xbf"
_COMMENT_LINE = re.compile(rb"^[ \t]*#([^\r\n]*)", re.M)


@dataclass
class Recording:
    """Samples of one recording, as arrays."""

    t_s: np.ndarray
    acc_g: np.ndarray
    gyr_dps: np.ndarray
    meta: dict = field(default_factory=dict)
    path: str | None = None

    def __len__(self) -> int:
        return len(self.t_s)

    @property
    def sample_rate_hz(self) -> float:
        return estimate_rate_hz(self.t_s)

    @property
    def duration_s(self) -> float:
        return float(self.t_s[-1] - self.t_s[0]) if len(self.t_s) else 0.0


@dataclass
class Block:
    """Consecutive samples of a recording."""

    t_s: np.ndarray
    acc_g: np.ndarray
    gyr_dps: np.ndarray

    def __len__(self) -> int:
        return len(self.t_s)


def estimate_rate_hz(t_s: np.ndarray) -> float:
    """Median sample rate, ignoring repeated timestamps."""
    dt = np.diff(np.asarray(t_s, dtype=float))
    dt = dt[dt > 0]
    if len(dt) == 0:
        return float("nan")
    return float(1.0 / np.median(dt))


class StepCounts:
    """The median time step of a stream, kept as counts of steps rounded to 1 ns (a file's
    timestamps have a few distinct steps, so this stays small however long the stream)."""

    def __init__(self):
        self.steps_ns = np.empty(0, dtype=np.int64)
        self.counts = np.empty(0, dtype=np.int64)

    def add(self, dt_s: np.ndarray) -> None:
        dt_s = dt_s[dt_s > 0]
        if len(dt_s) == 0:
            return
        steps_ns = np.rint(dt_s * 1e9).astype(np.int64)
        lo = int(steps_ns.min())
        if int(steps_ns.max()) - lo < 4 * len(steps_ns):
            # A logger's steps lie within a few us of each other: counted in bins of 1 ns
            # from the smallest, the same steps and counts as np.unique's sort gives (a
            # twentieth of its time on a 1 kHz block).
            binned = np.bincount(steps_ns - lo)
            steps = np.flatnonzero(binned)
            counts = binned[steps]
            steps += lo
        else:
            steps, counts = np.unique(steps_ns, return_counts=True)
        both = np.concatenate((self.steps_ns, steps))
        self.steps_ns, where = np.unique(both, return_inverse=True)
        self.counts = np.bincount(
            where, weights=np.concatenate((self.counts, counts)), minlength=len(self.steps_ns)
        ).astype(np.int64)

    def median_s(self) -> float:
        """As ``np.median`` of the steps (the two middle ones averaged for an even count)."""
        n = int(self.counts.sum())
        if n == 0:
            return float("nan")
        cum = np.cumsum(self.counts)
        lo = self.steps_ns[np.searchsorted(cum, (n - 1) // 2 + 1)]
        hi = self.steps_ns[np.searchsorted(cum, n // 2 + 1)]
        return 0.5 * (lo + hi) * 1e-9


class RecordingReader:
    """A recording file read block by block (iterate over it for :class:`Block` s).

    After the last block: ``n``, ``t_first_s``, ``t_last_s``, ``sample_rate_hz`` and
    ``duration_s`` describe the whole file. Checks on the first block (units, rate) raise
    before any sample is handed out; checks on the whole file (the rate, only zeros, gyro
    units) raise after the last one."""

    def __init__(self, path, block_bytes: int = BLOCK_BYTES, *, source=None):
        self.path = str(path)
        self.block_bytes = int(block_bytes)
        self._source = source  # an open binary file (parse_recording), else the path
        self._reset()

    def _reset(self) -> None:
        """What a pass over the file learns, from scratch."""
        self.meta: dict = {}
        self.header_line: int | None = None
        self.n = 0
        self.t_first_s: float | None = None
        self.t_last_s: float | None = None
        self._steps = StepCounts()
        self._nonzero_acc = False
        self._nonzero_gyr = False
        self._gyro_units = GyroUnitCheck()

    # -- what the whole file says ------------------------------------------------------------
    @property
    def sample_rate_hz(self) -> float:
        return float(1.0 / self._steps.median_s())

    @property
    def duration_s(self) -> float:
        return 0.0 if self.t_first_s is None else self.t_last_s - self.t_first_s

    def fail(self, line, message):
        return RecordingError(self.path, line, message)

    # -- reading -------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Block]:
        self._reset()  # each pass learns the file afresh
        f = self._open()
        try:
            yield from self._blocks(f)
        finally:
            if self._source is None:
                f.close()
        self._check_whole()

    def _open(self):
        if self._source is not None:
            return self._source
        try:
            return open(self.path, "rb")  # noqa: SIM115 - closed by __iter__
        except FileNotFoundError:
            raise self.fail(None, "no such file") from None
        except IsADirectoryError:
            raise self.fail(None, "is a directory, not a recording") from None
        except OSError as e:
            raise self.fail(None, f"cannot be read ({e.strerror})") from None

    def _blocks(self, f) -> Iterator[Block]:
        self._data_line = self._read_preamble(f)  # the file line at byte _data_offset
        self._data_offset = offset = f.tell()
        rest = b""
        first = True
        while True:
            try:
                chunk = f.read(self.block_bytes)
            except OSError as e:
                raise self.fail(None, f"cannot be read ({e.strerror})") from None
            text = rest + chunk
            if not chunk:
                rest = b""
            else:
                cut = text.rfind(b"\n") + 1
                if cut == 0:  # one very long line: read on
                    rest = text
                    continue
                text, rest = text[:cut], text[cut:]
            if text:
                block = self._parse(text, offset, first)
                offset += len(text)
                if len(block):
                    if first:
                        check_units(self, block)
                        first = False
                    self._take(block)
                    yield block
            if not chunk:
                break
        if self.n == 0:
            raise self.fail(self.header_line, "no samples after the header")

    def _read_preamble(self, f) -> int:
        """Comments and metadata up to the header; returns the line number after it."""
        number = 0
        while True:
            raw = f.readline()
            if not raw:
                raise self.fail(None, f"empty file: no {HEADER!r} header and no samples")
            number += 1
            if number == 1 and raw.startswith(_BOM):
                raw = raw[len(_BOM) :]
            try:
                line = raw.decode("utf-8").strip()
            except UnicodeDecodeError as e:
                raise self.fail(None, f"not a text file ({e.reason})") from None
            if not line:
                continue
            if line.startswith("#"):
                self._meta(line)
                continue
            cols = [c.strip() for c in line.split(",")]
            if tuple(cols) != COLUMNS:
                raise self.fail(
                    number, f"header is {line!r}; the recording format needs {HEADER!r}"
                )
            self.header_line = number
            return number + 1

    def _meta(self, line: str) -> None:
        body = line[1:].strip()
        if "=" in body:
            key, _, value = body.partition("=")
            key = key.strip()
            if key and " " not in key:
                self.meta[key] = _meta_value(value.strip())

    def _parse(self, text: bytes, offset: int, first: bool) -> Block:
        """numpy's reader on a block of lines; the checker names the line if it fails."""
        if b"#" in text:
            for m in _COMMENT_LINE.finditer(text):
                self._meta("#" + m.group(1).decode("utf-8", "replace"))
        data = None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
                data = np.loadtxt(
                    io.BytesIO(text), delimiter=",", comments="#", ndmin=2, dtype=float
                )
        except ValueError:
            pass
        if data is not None and data.size == 0:
            data = np.empty((0, 7))
        if data is None or data.shape[1] != 7 or not self._plausible(data):
            if first and data is not None and data.shape[1] == 7 and len(data):
                # a clock in ms or us breaks the rules on steps too: name the unit first
                check_units(self, Block(data[:, 0], data[:, 1:4], data[:, 4:7]))
            data = self._check_lines(text, self._line_at(offset))
        return Block(data[:, 0], data[:, 1:4], data[:, 4:7])

    def _line_at(self, offset: int) -> int:
        """The file line that starts at byte ``offset`` of the data. Counted again from the
        data's start, on demand: only a block the checker has to go through needs it."""
        if self._source is not None:
            head = self._source.getbuffer()[self._data_offset : offset]
            return self._data_line + bytes(head).count(b"\n")
        lines, left = self._data_line, offset - self._data_offset
        with open(self.path, "rb") as f:
            f.seek(self._data_offset)
            while left > 0:
                chunk = f.read(min(left, self.block_bytes))
                if not chunk:
                    break
                lines += chunk.count(b"\n")
                left -= len(chunk)
        return lines

    def _plausible(self, data: np.ndarray) -> bool:
        """The rules the checker would find broken: any, and the checker names the line."""
        if len(data) == 0:
            return True
        t = data[:, 0]
        last = self.t_last_s if self.t_last_s is not None else t[0]
        return bool(
            np.isfinite(data).all()
            and t[0] >= last
            and t[0] - last <= MAX_STEP_S
            and (len(t) < 2 or (np.diff(t).min() >= 0 and np.diff(t).max() <= MAX_STEP_S))
        )

    def _check_lines(self, text: bytes, first_line: int) -> np.ndarray:
        """The checking reader: every rule, line by line, the first broken one raised."""
        rows: list[list[float]] = []
        prev = self.t_last_s
        for number, raw in enumerate(text.split(b"\n"), start=first_line):
            try:
                line = raw.decode("utf-8").strip()
            except UnicodeDecodeError as e:
                raise self.fail(number, f"not a text line ({e.reason})") from None
            if not line or line.startswith("#"):
                continue
            cells = line.split("#", 1)[0].split(",")
            if len(cells) != 7:
                raise self.fail(number, f"expected 7 columns ({HEADER}), found {len(cells)}")
            row = []
            for col, cell in zip(COLUMNS, cells, strict=True):
                try:
                    x = float(cell)
                except ValueError:
                    raise self.fail(
                        number, f"{cell.strip()!r} in column {col} is not a number"
                    ) from None
                if not math.isfinite(x):
                    raise self.fail(number, f"{x} in column {col} is not a finite number")
                row.append(x)
            t = row[0]
            if prev is not None and t < prev:
                raise self.fail(
                    number,
                    f"time goes backwards: t={t:g} s after t={prev:g} s"
                    + _time_column_hint(rows + [row]),
                )
            if prev is not None and t - prev > MAX_STEP_S:
                raise self.fail(
                    number,
                    f"t={t:g} s jumps {t - prev:g} s after t={prev:g} s: a corrupt timestamp "
                    f"(steps over {MAX_STEP_S:g} s are refused)",
                )
            prev = t
            rows.append(row)
        return np.array(rows, dtype=float).reshape(-1, 7)

    def _take(self, block: Block) -> None:
        """Whole-file figures, block by block."""
        t = block.t_s
        if self.t_first_s is None:
            self.t_first_s = float(t[0])
            self._steps.add(np.diff(t))
        else:
            self._steps.add(np.diff(t, prepend=self.t_last_s))
        self.t_last_s = float(t[-1])
        self.n += len(t)
        self._nonzero_acc = self._nonzero_acc or bool(block.acc_g.any())
        self._nonzero_gyr = self._nonzero_gyr or bool(block.gyr_dps.any())
        self._gyro_units.add(block)

    def _check_whole(self) -> None:
        if not (self._nonzero_acc or self._nonzero_gyr):
            raise self.fail(
                None,
                "the sensor reported only zeros (every acceleration and rate is 0): "
                "check its wiring and power, and that the logger read its registers",
            )
        if not self._nonzero_acc:
            raise self.fail(None, "the accelerometer columns ax,ay,az are all zero")
        if self.n >= 2:
            if self._steps.counts.sum() == 0:
                raise self.fail(None, "all samples have the same time")
            check_rate(self, self.sample_rate_hz)
        message = self._gyro_units.verdict()
        if message:
            raise self.fail(None, message)


def read_recording(path) -> Recording:
    """Read a whole recording file (every check of :class:`RecordingReader`)."""
    return _gather(RecordingReader(path))


def parse_recording(text: str, name: str = "<recording>") -> Recording:
    """A recording from its text (as :func:`read_recording` reads a file)."""
    return _gather(RecordingReader(name, source=io.BytesIO(text.encode("utf-8"))))


def _gather(reader: RecordingReader) -> Recording:
    blocks = list(reader)
    data = [np.concatenate([getattr(b, k) for b in blocks]) for k in ("t_s", "acc_g", "gyr_dps")]
    return Recording(*data, meta=reader.meta, path=reader.path)


# ------------------------------------------------------------------------------ unit checks


def check_rate(reader: RecordingReader, rate_hz: float, line=None) -> None:
    """A rate under the minimum: the likely time unit if the steps look like ms or us."""
    if rate_hz >= MIN_RATE_HZ * (1 - RATE_TOLERANCE):
        return
    step = 1.0 / rate_hz
    for unit, scale in (("milliseconds", 1e3), ("microseconds", 1e6)):
        # the steps a 20 Hz to 2 kHz logger makes, in that unit
        if scale / 2000.0 <= step <= scale / 20.0:
            raise reader.fail(
                line,
                f"t looks like {unit} (median step {step:g}, {scale / step:.0f} Hz if so): "
                f"write t in seconds (divide it by {scale:g})",
            )
    raise reader.fail(line, f"sample rate {rate_hz:.1f} Hz is below the {MIN_RATE_HZ:g} Hz minimum")


def check_units(reader: RecordingReader, block: Block) -> None:
    """Unit mistakes the first block shows: time steps, m/s^2, gravity in gyro columns."""
    if len(block) >= 2:
        dt = np.diff(block.t_s)
        dt = dt[dt > 0]
        if len(dt):
            check_rate(reader, float(1.0 / np.median(dt)))
    if not (block.acc_g.any() or block.gyr_dps.any()):
        return  # zeros: judged on the whole file
    # |acc| and |gyr|: the middle half of the block (most of a recording is near rest)
    acc_lo, acc, acc_hi = np.percentile(np.linalg.norm(block.acc_g, axis=1), (25, 50, 75))
    gyr_lo, gyr, gyr_hi = np.percentile(np.linalg.norm(block.gyr_dps, axis=1), (25, 50, 75))
    if _near(acc_lo, acc_hi, G_MPS2):
        raise reader.fail(
            None,
            f"acceleration looks like m/s^2 (median |acc| {acc:.2f}; 1 at rest in g): write "
            f"ax,ay,az in g (divide them by {G_MPS2})",
        )
    if not 0.5 <= acc <= 2.0 and (_near(gyr_lo, gyr_hi, 1.0) or _near(gyr_lo, gyr_hi, G_MPS2)):
        raise reader.fail(
            None,
            f"gravity is in the gx,gy,gz columns (median |gyr| {gyr:.2f}, |acc| {acc:.2f}): "
            f"the columns are in another order than the header {HEADER!r}; reorder them",
        )


def _near(lo: float, hi: float, gravity: float) -> bool:
    """The middle half of a magnitude within 20% of gravity: the sensor mostly at rest."""
    return 0.8 * gravity <= lo and hi <= 1.2 * gravity


class GyroUnitCheck:
    """Gyro in rad/s, from the data: the accelerometer shows the sensor turning (gravity's
    direction, in quarter-second means) while the integrated gyro turns about 1/57 of that.

    In deg/s the gyro turns at least as far as the accelerometer shows (it also sees turns
    about gravity); a ratio under ``MAX_RATIO`` once ``EVIDENCE_DEG`` of tilt was seen is
    rad/s. Each block is judged on its own whole windows."""

    WINDOW_S = 0.25  # long enough to average out impacts, short against a 2 s raise
    MIN_TURN_DEG = 2.0  # a tilt step between windows above sway and noise
    EVIDENCE_DEG = 60.0  # a few reps' worth of tilt before judging
    MAX_RATIO = 0.2  # deg/s gives 1 or more, rad/s 0.017 ...
    MIN_RATIO = 0.005  # ... and a gyro that hardly turns at all is some other trouble

    def __init__(self):
        self.acc_deg = 0.0
        self.gyr_deg = 0.0
        self.done = False

    def add(self, block: Block) -> None:
        if self.done or len(block) < 4:
            return
        t = block.t_s
        win = np.floor((t - t[0]) / self.WINDOW_S).astype(np.int64)
        starts = np.flatnonzero(np.diff(win, prepend=-1))
        if len(starts) < 3:
            return
        counts = np.diff(np.append(starts, len(t)))
        mean_acc = np.add.reduceat(block.acc_g, starts, axis=0) / counts[:, None]
        dt = np.diff(t, append=t[-1])
        turn = np.add.reduceat(np.linalg.norm(block.gyr_dps, axis=1) * dt, starts)
        mean_acc, turn = mean_acc[:-1], turn[:-1]  # the last window may be cut by the block
        u = mean_acc / np.maximum(np.linalg.norm(mean_acc, axis=1, keepdims=True), 1e-12)
        cos = np.clip(np.einsum("ij,ij->i", u[1:], u[:-1]), -1.0, 1.0)
        tilt = np.degrees(np.arccos(cos))
        moving = tilt > self.MIN_TURN_DEG
        self.acc_deg += float(tilt[moving].sum())
        self.gyr_deg += float((0.5 * (turn[1:] + turn[:-1]))[moving].sum())
        if self.acc_deg >= self.EVIDENCE_DEG and self.gyr_deg >= self.MAX_RATIO * self.acc_deg:
            self.done = True  # plainly deg/s: nothing more to look at

    def verdict(self) -> str | None:
        if self.done or self.acc_deg < self.EVIDENCE_DEG:
            return None
        ratio = self.gyr_deg / self.acc_deg
        if ratio < self.MIN_RATIO:
            return None
        return (
            f"the gyro looks like rad/s (it turns {ratio:.3f} times as far as the accelerometer "
            f"tilts; 1/57 = 0.017 if so): write gx,gy,gz in deg/s (multiply them by 57.2958)"
        )


def _time_column_hint(rows: list[list[float]]) -> str:
    """When t goes backwards: name another column that rises steadily like a clock."""
    if len(rows) < 3:
        return ""
    data = np.array(rows)
    for c in range(1, 7):
        d = np.diff(data[:, c])
        if (d > 0).all():
            return f" (column {COLUMNS[c]} rises like a clock: are the columns in header order?)"
    return ""


# ------------------------------------------------------------------------------ writing


def write_recording(path, t_s, acc_g, gyr_dps, meta: dict | None = None, comments=()) -> None:
    """Write samples in the recording format (``meta`` as ``# key=value`` lines)."""
    t_s = np.asarray(t_s, dtype=float)
    acc_g = np.asarray(acc_g, dtype=float).reshape(-1, 3)
    gyr_dps = np.asarray(gyr_dps, dtype=float).reshape(-1, 3)
    if not (len(t_s) == len(acc_g) == len(gyr_dps)):
        raise ValueError(
            f"t_s, acc_g and gyr_dps differ in length: {len(t_s)}, {len(acc_g)}, {len(gyr_dps)}"
        )
    out = [f"# {c}" for c in comments]
    for key, value in (meta or {}).items():
        out.append(f"# {key}={value}")
    out.append(HEADER)
    data = np.column_stack([t_s, acc_g, gyr_dps])
    body = "\n".join(
        f"{r[0]:.6f},{r[1]:.6f},{r[2]:.6f},{r[3]:.6f},{r[4]:.4f},{r[5]:.4f},{r[6]:.4f}"
        for r in data
    )
    Path(path).write_text("\n".join(out) + "\n" + body + ("\n" if body else ""), encoding="utf-8")


def _meta_value(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
