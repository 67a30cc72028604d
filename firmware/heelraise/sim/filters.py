"""The sensor's digital low-pass, in plain numpy (no scipy on the Pi).

A second-order Butterworth low-pass by the bilinear transform with pre-warping (what
``scipy.signal.butter(2, fc, fs=fs)`` designs), run causally from rest. The recursion
is applied as a convolution with its impulse response, truncated where it has decayed
below 1e-16 of its start, by FFT: the same output as ``scipy.signal.sosfilt`` to
rounding (checked in ``tests/test_sim_numerics.py``) at numpy speed.
"""

from __future__ import annotations

import math

import numpy as np


def butter2_lowpass(cutoff_hz: float, fs_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """(b, a) of a 2nd-order Butterworth low-pass, a[0] = 1."""
    if not 0 < cutoff_hz < fs_hz / 2:
        raise ValueError(f"cutoff {cutoff_hz} Hz must be between 0 and fs/2 = {fs_hz / 2} Hz")
    k = math.tan(math.pi * cutoff_hz / fs_hz)  # pre-warped analogue cutoff
    norm = 1.0 / (1.0 + math.sqrt(2.0) * k + k * k)
    b0 = k * k * norm
    b = np.array([b0, 2 * b0, b0])
    a = np.array([1.0, 2.0 * (k * k - 1.0) * norm, (1.0 - math.sqrt(2.0) * k + k * k) * norm])
    return b, a


def impulse_response(b: np.ndarray, a: np.ndarray, tol: float = 1e-16) -> np.ndarray:
    """The recursion's response to a unit impulse, until it has decayed below ``tol``."""
    radius = float(np.max(np.abs(np.roots(a))))
    if radius >= 1:
        raise ValueError("the filter is unstable")
    n = int(math.ceil(math.log(tol) / math.log(radius))) + 8
    h = np.zeros(n)
    x = np.zeros(n)
    x[0] = 1.0
    for i in range(n):
        acc = b[0] * x[i]
        for j in (1, 2):
            if i >= j:
                acc += b[j] * x[i - j] - a[j] * h[i - j]
        h[i] = acc
    return h


def causal_filter(h: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Filter the columns of ``x`` (axis 0) from rest with impulse response ``h``."""
    x = np.asarray(x, dtype=float)
    n = x.shape[0]
    size = 1 << int(math.ceil(math.log2(n + len(h) - 1)))
    hf = np.fft.rfft(h, size)
    xf = np.fft.rfft(x, size, axis=0)
    shape = (-1,) + (1,) * (x.ndim - 1)
    return np.fft.irfft(xf * hf.reshape(shape), size, axis=0)[:n]


def lowpass(x: np.ndarray, cutoff_hz: float, fs_hz: float) -> np.ndarray:
    """2nd-order Butterworth low-pass of the columns of ``x``, causal, from rest."""
    return causal_filter(impulse_response(*butter2_lowpass(cutoff_hz, fs_hz)), x)
