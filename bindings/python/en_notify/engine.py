"""The Engine class: one open queue database, with every en_ function as a method."""
from __future__ import annotations

import ctypes
import json
import os
import threading
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Union

from ._library import CReport, library
from .errors import InvalidHandleError, error_for
from .transport import NO_TRANSPORT, Deliver, Interrupts, c_transport

Message = Union[Dict[str, Any], str]


@dataclass(frozen=True)
class Report:
    """What a flush, drain or resend did."""

    sent: int
    deferred: int
    failed: int
    held_by_mode: bool
    delivery_disabled: bool


def _c_text(text: str, what: str) -> bytes:
    """UTF-8 bytes for a C string argument; refuses what C would silently cut at a NUL."""
    if not isinstance(text, str):
        raise TypeError(f"{what} must be a str, not {type(text).__name__}")
    if "\0" in text:
        raise ValueError(f"{what} contains a NUL character")
    return text.encode("utf-8")


class Engine:
    """A delivery engine over one queue database (SQLite file, created if needed).

    ``options`` are property overrides for this process only, e.g.
    ``{"email_server": "127.0.0.1:2525"}``; they are passed to en_open as JSON. The engine may be
    used from several threads at once. Use it as a context manager, or call :meth:`close`.
    """

    def __init__(self, db_path: Union[str, "os.PathLike[str]"],
                 options: Optional[Dict[str, Any]] = None) -> None:
        self._lib = library()
        self._handle: Optional[int] = None
        self._close_lock = threading.Lock()
        # Every callback ever registered stays referenced: a flush on another thread may still
        # be calling an older one, and the C side holds only a bare function pointer.
        self._callbacks: List[Any] = []
        self._interrupts = Interrupts()
        handle = ctypes.c_void_p()
        options_json = None if options is None else json.dumps(options, ensure_ascii=False)
        self._check(self._lib.en_open(
            _c_text(os.fspath(db_path), "db_path"),
            None if options_json is None else options_json.encode("utf-8"),
            ctypes.byref(handle),
        ))
        self._handle = handle.value

    # -- plumbing -------------------------------------------------------------------------

    def _check(self, code: int) -> None:
        """Raises the ENError for a failed call; must run right after it (en_last_error)."""
        if code != 0:
            raise error_for(code, self._lib.en_last_error().decode("utf-8", "replace"))

    def _live(self) -> int:
        handle = self._handle
        if handle is None:
            raise InvalidHandleError(13, "the engine is closed")
        return handle

    def _take_string(self, pointer: ctypes.c_void_p) -> Optional[str]:
        """Copies a string the library returned, then frees it."""
        if not pointer.value:
            return None
        try:
            return ctypes.string_at(pointer.value).decode("utf-8")
        finally:
            self._lib.en_string_free(pointer.value)

    def _string_call(self, function, *args) -> Optional[str]:
        out = ctypes.c_void_p()
        self._check(function(self._live(), *args, ctypes.byref(out)))
        return self._take_string(out)

    def _json_call(self, function, *args) -> Any:
        return json.loads(self._string_call(function, *args))

    def _delivering_call(self, function, *args) -> None:
        """A call that may run the delivery function; re-raises a KeyboardInterrupt it caught."""
        code = function(self._live(), *args)
        self._interrupts.raise_pending()
        self._check(code)

    def _report_call(self, function, *args) -> Report:
        out = CReport()
        self._delivering_call(function, *args, ctypes.byref(out))
        return Report(out.sent, out.deferred, out.failed, out.held_by_mode, out.delivery_disabled)

    # -- messages and delivery ------------------------------------------------------------

    def notify(self, message: Message) -> int:
        """Validates and hands over one message (a dict, or its JSON text).

        Returns the message id, or 0 when Light mode delivered it at once and stored nothing.
        Raises InvalidMessageError (nothing stored) when the message breaks a rule.
        """
        text = message if isinstance(message, str) else json.dumps(message, ensure_ascii=False)
        out = ctypes.c_int64()
        self._delivering_call(self._lib.en_notify, _c_text(text, "message"), ctypes.byref(out))
        return out.value

    def flush(self) -> Report:
        """Delivers every eligible message; in Queue mode nothing, with ``held_by_mode`` set."""
        return self._report_call(self._lib.en_flush)

    def drain(self) -> Report:
        """Delivers every eligible message whatever the mode (for delivery servers)."""
        return self._report_call(self._lib.en_drain)

    def resend(self, id: int) -> Report:
        """Delivers one message now, whatever its attempts, back-off or status."""
        return self._report_call(self._lib.en_resend, id)

    def reset_attempts(self, id: int) -> None:
        """Sets a message's attempts to 0 and makes it eligible now."""
        self._check(self._lib.en_reset_attempts(self._live(), id))

    def purge(self, status: str, older_than_seconds: int) -> int:
        """Removes "sent", "failed" or "all" finished messages older than that; returns how many."""
        if older_than_seconds < 0:
            raise ValueError("older_than_seconds must not be negative")
        out = ctypes.c_uint64()
        self._check(self._lib.en_purge(self._live(), _c_text(status, "status"),
                                       older_than_seconds, ctypes.byref(out)))
        return out.value

    def set_mode(self, mode: str) -> None:
        """Stores the delivery mode ("Deferred", "Light" or "Queue") for every client."""
        self._check(self._lib.en_set_mode(self._live(), _c_text(mode, "mode")))

    # -- properties -----------------------------------------------------------------------

    def get_property(self, name: str) -> Optional[str]:
        """The value in force, or None when unset with no default (the password reads masked)."""
        return self._string_call(self._lib.en_get_property, _c_text(name, "name"))

    def set_property(self, name: str, value: Optional[str]) -> None:
        """Stores a property for every client; None removes it so its default applies."""
        self._check(self._lib.en_set_property(
            self._live(), _c_text(name, "name"), None if value is None else _c_text(value, "value")))

    # -- inspection -----------------------------------------------------------------------

    def list(self, status: Optional[str] = None) -> List[Dict[str, Any]]:
        """The queue's messages, optionally only "queued", "sending", "sent" or "failed"."""
        return self._json_call(self._lib.en_list, None if status is None else _c_text(status, "status"))

    def show(self, id: int) -> Dict[str, Any]:
        """One message with its ``attempt_log`` and ``raw`` MIME text."""
        return self._json_call(self._lib.en_show, id)

    def status(self) -> Dict[str, Any]:
        """Counts by status and the oldest waiting message."""
        return self._json_call(self._lib.en_status)

    # -- custom delivery ------------------------------------------------------------------

    def set_transport(self, deliver: Optional[Deliver]) -> None:
        """Delivers through ``deliver(sender, recipients, message_bytes)`` instead of SMTP/pickup.

        ``deliver`` returns None or True when delivered, raises RetryLater(reason) or
        DeliveryFailed(reason) otherwise; any other exception means "retry later" with its text.
        A KeyboardInterrupt, SystemExit or GeneratorExit also means "retry later", and the rest of
        that call tries nothing more; notify, flush, drain or resend then raises it.
        It may be called from any thread that flushes. None goes back to the configured transport.
        """
        callback = NO_TRANSPORT if deliver is None else c_transport(deliver, self._interrupts)
        self._check(self._lib.en_set_transport(self._live(), callback, None))
        self._callbacks.append(callback)

    # -- lifetime -------------------------------------------------------------------------

    def close(self) -> None:
        """Closes the engine; closing again does nothing. Any later call raises InvalidHandleError."""
        with self._close_lock:
            handle, self._handle = self._handle, None
            if handle is not None:
                self._check(self._lib.en_close(handle))

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._handle is None

    def __enter__(self) -> "Engine":
        self._live()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __del__(self) -> None:
        # An engine dropped without close() must not leak its handle; no method can be running.
        if getattr(self, "_handle", None) is not None:
            try:
                self.close()
            except Exception:  # noqa: BLE001 - never raise from a finalizer
                pass
