"""en_notify: the Python binding (ctypes) of en-notify, the e-mail delivery engine for
issue-tracker hooks. See :class:`Engine`."""
from ._library import LibraryNotFoundError, library
from .engine import Engine, Report
from .errors import (ArgumentError, BusyError, ConfigError, DeliveryFailed, ENError,
                     InternalError, InvalidHandleError, InvalidMessageError, NotFoundError,
                     PropertyError, RetryLater, StoreError)


def version() -> str:
    """The library's version (from its Cargo.toml)."""
    return library().en_version().decode("utf-8")


__all__ = [
    "Engine", "Report", "version", "LibraryNotFoundError",
    "ENError", "ArgumentError", "InvalidMessageError", "PropertyError", "NotFoundError",
    "StoreError", "ConfigError", "BusyError", "InvalidHandleError", "InternalError",
    "RetryLater", "DeliveryFailed",
]
