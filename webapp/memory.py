"""Keeping worker memory flat (issue 14): large buffers go back to the system when freed.

scrypt allocates 128 * r * N bytes per hash (16 MiB at N=2^14, 128 MiB at N=2^17). glibc's malloc
raises its mmap threshold after the first such buffer is freed (up to 32 MiB), so later buffers come
from the heap and stay resident after the hash: a worker grew from 75 to 90 MiB after one login.
A fixed threshold (which also switches the dynamic raise off) keeps every buffer of 128 KiB or more
in its own mapping, returned to the system on free. This is `MALLOC_MMAP_THRESHOLD_=131072`,
set from inside the process, so no start-up script has to remember it.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3  # glibc <malloc.h>
MMAP_THRESHOLD_BYTES = 128 * 1024

_done = False


def keep_large_buffers_out_of_the_heap() -> bool:
    """Set glibc's mmap threshold once per process; False where there is no glibc (e.g. musl, macOS)."""
    global _done
    if _done:
        return True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    _done = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
    return _done


def release_free_memory() -> None:
    """glibc's malloc_trim(0): hand freed heap pages back (used by the bench to read settled RSS)."""
    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
