"""Finding and loading the shared library, and the ctypes declaration of every C function."""
from __future__ import annotations

import ctypes
import os
import threading
from pathlib import Path
from typing import List, Optional

LIBRARY_NAMES = ("liben_notify.so", "en_notify.dll", "liben_notify.dylib")
PACKAGE_DIR = Path(__file__).resolve().parent


class LibraryNotFoundError(OSError):
    """The shared library is nowhere the lookup searched; the message lists every place."""


class CReport(ctypes.Structure):
    """en_report, as the C side lays it out (C bool is one byte)."""

    _fields_ = [
        ("sent", ctypes.c_uint64),
        ("deferred", ctypes.c_uint64),
        ("failed", ctypes.c_uint64),
        ("held_by_mode", ctypes.c_bool),
        ("delivery_disabled", ctypes.c_bool),
    ]


# int32_t (*)(void *user_data, const char *from, const char *recipients,
#             const uint8_t *message, size_t message_len, char *reason, size_t reason_capacity)
TRANSPORT_FN = ctypes.CFUNCTYPE(
    ctypes.c_int32,
    ctypes.c_void_p,
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_void_p,
    ctypes.c_size_t,
    ctypes.c_void_p,
    ctypes.c_size_t,
)

_engine = ctypes.c_void_p
_text = ctypes.c_char_p
_result = ctypes.c_int
_out_text = ctypes.POINTER(ctypes.c_void_p)  # char **: taken as void* so it can be freed

SIGNATURES = {
    "en_version": (ctypes.c_char_p, []),
    "en_last_error": (ctypes.c_char_p, []),
    "en_string_free": (None, [ctypes.c_void_p]),
    "en_open": (_result, [_text, _text, ctypes.POINTER(_engine)]),
    "en_close": (_result, [_engine]),
    "en_notify": (_result, [_engine, _text, ctypes.POINTER(ctypes.c_int64)]),
    "en_flush": (_result, [_engine, ctypes.POINTER(CReport)]),
    "en_drain": (_result, [_engine, ctypes.POINTER(CReport)]),
    "en_set_mode": (_result, [_engine, _text]),
    "en_resend": (_result, [_engine, ctypes.c_int64, ctypes.POINTER(CReport)]),
    "en_reset_attempts": (_result, [_engine, ctypes.c_int64]),
    "en_purge": (_result, [_engine, _text, ctypes.c_uint64, ctypes.POINTER(ctypes.c_uint64)]),
    "en_get_property": (_result, [_engine, _text, _out_text]),
    "en_set_property": (_result, [_engine, _text, _text]),
    "en_list": (_result, [_engine, _text, _out_text]),
    "en_show": (_result, [_engine, ctypes.c_int64, _out_text]),
    "en_status": (_result, [_engine, _out_text]),
    "en_set_transport": (_result, [_engine, TRANSPORT_FN, ctypes.c_void_p]),
}


def _target_folders(start: Path) -> List[Path]:
    """target/release and target/debug in `start` and in each folder above it."""
    folders = []
    for folder in (start, *start.parents):
        folders += [folder / "target" / "release", folder / "target" / "debug"]
    return folders


def candidates() -> List[Path]:
    """Every file the lookup tries, in order (without EN_NOTIFY_LIBRARY)."""
    folders = [PACKAGE_DIR] + _target_folders(PACKAGE_DIR) + _target_folders(Path.cwd().resolve())
    seen, paths = set(), []
    for folder in folders:
        for name in LIBRARY_NAMES:
            path = folder / name
            if path not in seen:
                seen.add(path)
                paths.append(path)
    return paths


def find_library() -> Path:
    """EN_NOTIFY_LIBRARY when set (and then only it), else the first of candidates() that exists."""
    chosen = os.environ.get("EN_NOTIFY_LIBRARY")
    if chosen:
        if os.path.isfile(chosen):
            return Path(chosen)
        raise LibraryNotFoundError(f"EN_NOTIFY_LIBRARY is {chosen!r}, which is not a file")
    tried = candidates()
    for path in tried:
        if path.is_file():
            return path
    listing = "\n  ".join(str(p) for p in tried)
    raise LibraryNotFoundError(
        "cannot find the en_notify library; set EN_NOTIFY_LIBRARY to its path. Looked in:\n  "
        + listing
    )


_loaded: Optional[ctypes.CDLL] = None
_lock = threading.Lock()


def library() -> ctypes.CDLL:
    """The loaded library with every function declared; loaded on first use."""
    global _loaded
    with _lock:
        if _loaded is None:
            lib = ctypes.CDLL(str(find_library()))
            for name, (restype, argtypes) in SIGNATURES.items():
                function = getattr(lib, name)
                function.restype = restype
                function.argtypes = argtypes
            _loaded = lib
        return _loaded
