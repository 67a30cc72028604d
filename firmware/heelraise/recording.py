"""Read and write recordings: ``t,ax,ay,az,gx,gy,gz`` CSV, the project's format.

``t`` in seconds (any origin, non-decreasing), acceleration in g, angular rate
in deg/s, in the sensor's own axes. Lines starting with ``#`` are comments;
``# key=value`` comments are metadata (``# sample_rate_hz=100``). Repeated
timestamps are accepted (real loggers write them); time going backwards is not.

Every problem is a :class:`~heelraise.exceptions.RecordingError` naming the file
and the 1-based line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from heelraise.exceptions import RecordingError

COLUMNS = ("t", "ax", "ay", "az", "gx", "gy", "gz")
HEADER = ",".join(COLUMNS)
MIN_RATE_HZ = 25.0


@dataclass
class Recording:
    """Samples of one recording, as arrays; ``line_of_row`` maps rows to file lines."""

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


def estimate_rate_hz(t_s: np.ndarray) -> float:
    """Median sample rate, ignoring repeated timestamps."""
    dt = np.diff(np.asarray(t_s, dtype=float))
    dt = dt[dt > 0]
    if len(dt) == 0:
        return float("nan")
    return float(1.0 / np.median(dt))


def read_recording(path) -> Recording:
    """Read a recording file, validating it line by line."""
    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecordingError(name, None, "no such file") from None
    except IsADirectoryError:
        raise RecordingError(name, None, "is a directory, not a recording") from None
    except UnicodeDecodeError as e:
        raise RecordingError(name, None, f"not a text file ({e.reason})") from None
    except OSError as e:
        raise RecordingError(name, None, f"cannot be read ({e.strerror})") from None
    return parse_recording(text, name)


def parse_recording(text: str, name: str = "<recording>") -> Recording:
    lines = text.splitlines()
    meta: dict = {}
    header_line = None
    data_lines: list[str] = []
    line_numbers: list[int] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            body = line[1:].strip()
            if "=" in body:
                key, _, value = body.partition("=")
                key = key.strip()
                if key and " " not in key:
                    meta[key] = _meta_value(value.strip())
            continue
        if header_line is None:
            header_line = number
            cols = [c.strip() for c in line.split(",")]
            if tuple(cols) != COLUMNS:
                raise RecordingError(
                    name, number, f"header is {line!r}; the recording format needs {HEADER!r}"
                )
            continue
        data_lines.append(line)
        line_numbers.append(number)
    if header_line is None:
        raise RecordingError(name, None, f"empty file: no {HEADER!r} header and no samples")
    if not data_lines:
        raise RecordingError(name, header_line, "no samples after the header")

    rows = [ln.split(",") for ln in data_lines]
    for row, number in zip(rows, line_numbers, strict=True):
        if len(row) != 7:
            raise RecordingError(name, number, f"expected 7 columns ({HEADER}), found {len(row)}")
    try:
        data = np.array(rows, dtype=float)
    except ValueError:
        data = None
        for row, number in zip(rows, line_numbers, strict=True):
            for col, cell in zip(COLUMNS, row, strict=True):
                try:
                    float(cell)
                except ValueError:
                    raise RecordingError(
                        name, number, f"{cell.strip()!r} in column {col} is not a number"
                    ) from None
        raise  # pragma: no cover - numpy and float() disagree

    finite = np.isfinite(data)
    if not finite.all():
        r, c = np.argwhere(~finite)[0]
        raise RecordingError(
            name, line_numbers[r], f"{data[r, c]} in column {COLUMNS[c]} is not a finite number"
        )
    t = data[:, 0]
    back = np.flatnonzero(np.diff(t) < 0)
    if len(back):
        r = back[0] + 1
        raise RecordingError(
            name,
            line_numbers[r],
            f"time goes backwards: t={t[r]:g} s after t={t[r - 1]:g} s",
        )
    rec = Recording(t_s=t, acc_g=data[:, 1:4], gyr_dps=data[:, 4:7], meta=meta, path=name)
    if len(t) >= 2:
        rate = rec.sample_rate_hz
        if not math.isfinite(rate):
            raise RecordingError(name, line_numbers[-1], "all samples have the same time")
        if rate < MIN_RATE_HZ * (1 - 1e-9):
            raise RecordingError(
                name, None, f"sample rate {rate:.1f} Hz is below the {MIN_RATE_HZ:g} Hz minimum"
            )
    return rec


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
