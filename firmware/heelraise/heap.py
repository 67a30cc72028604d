"""Give the C heap's free memory back to the system: glibc's ``malloc_trim(0)``.

numpy's short-lived arrays and SQLite's pages come and go in malloc's heap; freed, they
stay in the process (its RSS) until malloc hands them back, which it does on its own only
from the top of the heap. Trimming returns every free page (about 1 to 1.5 MB each time in
the service, in 0.1 to 0.2 ms: ``bench/service_cpu.py``). A no-op where the C library has
no ``malloc_trim`` (musl, macOS).
"""

from __future__ import annotations

import functools


@functools.cache
def _malloc_trim():
    """glibc's ``malloc_trim`` among the symbols the process already has (``CDLL(None)``:
    Python is linked against the C library): no ``ctypes.util.find_library``, which runs
    ``ldconfig -p`` in a subprocess (a fork of the service on a Pi Zero) and imports
    ``subprocess`` to do it."""
    import ctypes

    try:
        libc = ctypes.CDLL(None)
    except OSError:  # pragma: no cover - a platform without dlopen(NULL)
        return None
    return getattr(libc, "malloc_trim", None)


def release_free_heap() -> bool:
    """Hand the heap's free pages back to the system; False where that cannot be done."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
