"""Exceptions: ENError and one subclass per family of en_result codes, plus the two
exceptions a Python transport callback raises to answer something other than "delivered"."""
from __future__ import annotations

from typing import Dict, Type


class ENError(Exception):
    """A call into the library failed. ``code`` is the en_result, ``message`` its text."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.message} (en_notify error {self.code})"


class ArgumentError(ENError):
    """A NULL, non-UTF-8, unparsable or out-of-range argument (codes 1, 2, 3, 8)."""


class InvalidMessageError(ENError):
    """The message broke a rule or is too large (codes 4, 5); nothing was stored."""


class PropertyError(ENError):
    """An unknown property, a value it does not accept, or an unknown mode (codes 6, 7)."""


class NotFoundError(ENError):
    """No message with that id (code 9)."""


class StoreError(ENError):
    """The database failed (code 10)."""


class ConfigError(ENError):
    """The configuration does not allow delivery (code 11)."""


class BusyError(ENError):
    """Another process is delivering that message right now (code 12)."""


class InvalidHandleError(ENError):
    """The engine is closed (code 13)."""


class InternalError(ENError):
    """The library caught an internal panic (code 14)."""


ERROR_CLASSES: Dict[int, Type[ENError]] = {
    1: ArgumentError,
    2: ArgumentError,
    3: ArgumentError,
    4: InvalidMessageError,
    5: InvalidMessageError,
    6: PropertyError,
    7: PropertyError,
    8: ArgumentError,
    9: NotFoundError,
    10: StoreError,
    11: ConfigError,
    12: BusyError,
    13: InvalidHandleError,
    14: InternalError,
}


def error_for(code: int, message: str) -> ENError:
    """The exception for a result code; a code this binding does not know yet is a plain ENError."""
    return ERROR_CLASSES.get(code, ENError)(code, message)


class RetryLater(Exception):
    """Raised by a transport callback: not delivered now, retry after the back-off."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


class DeliveryFailed(Exception):
    """Raised by a transport callback: the message cannot be delivered; it fails at once."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
