"""Adapting a Python delivery function to the C callback en_set_transport expects."""
from __future__ import annotations

import ctypes
import threading
from typing import Callable, List, Optional, Tuple

from ._library import TRANSPORT_FN
from .errors import DeliveryFailed, RetryLater

EN_DELIVERED, EN_RETRY_LATER, EN_FAILED = 1, 2, 3

# The NULL callback: en_set_transport goes back to the configured transport.
NO_TRANSPORT = ctypes.cast(None, TRANSPORT_FN)

Deliver = Callable[[str, List[str], bytes], Optional[bool]]


def _write_reason(buffer: Optional[int], capacity: int, reason: str) -> None:
    """Copies `reason` as NUL-terminated UTF-8 into the C buffer, cut at a character boundary."""
    if not buffer or capacity == 0:
        return
    data = reason.encode("utf-8", "replace")[: capacity - 1]
    data = data.decode("utf-8", "ignore").encode("utf-8")
    ctypes.memmove(buffer, data + b"\0", len(data) + 1)


class Interrupts(threading.local):
    """A KeyboardInterrupt, SystemExit or GeneratorExit raised by a delivery function.

    ctypes cannot propagate an exception through the C caller, so the callback answers "retry
    later" and keeps the exception here, per thread (the engine calls back on the thread of the
    en_ call), until the Engine method that made the call re-raises it.
    """

    def __init__(self) -> None:
        self.pending: Optional[BaseException] = None

    def raise_pending(self) -> None:
        pending, self.pending = self.pending, None
        if pending is not None:
            raise pending


def _answer(deliver: Deliver, interrupts: Interrupts, sender: bytes, recipients: bytes,
            message: Optional[int], length: int) -> Tuple[int, str]:
    """Calls the user function and turns its result or exception into (en_delivery, reason)."""
    if interrupts.pending is not None:
        # The rest of an interrupted flush: run no more user code until the interrupt is raised.
        return EN_RETRY_LATER, f"not tried: interrupted by {type(interrupts.pending).__name__}"
    try:
        names = recipients.decode("utf-8") if recipients else ""
        result = deliver(
            sender.decode("utf-8") if sender else "",
            names.split("\n") if names else [],
            ctypes.string_at(message, length) if length else b"",
        )
    except RetryLater as e:
        return EN_RETRY_LATER, e.reason
    except DeliveryFailed as e:
        return EN_FAILED, e.reason
    except Exception as e:  # noqa: BLE001 - nothing may unwind into the C caller
        return EN_RETRY_LATER, str(e) or type(e).__name__
    except BaseException as e:  # noqa: BLE001 - kept to be raised once the C call returns
        interrupts.pending = e
        return EN_RETRY_LATER, str(e) or type(e).__name__
    if result is None or result is True:
        return EN_DELIVERED, ""
    return EN_RETRY_LATER, f"the delivery function returned {result!r}, expected None or True"


def c_transport(deliver: Deliver, interrupts: Interrupts) -> TRANSPORT_FN:
    """The CFUNCTYPE object for `deliver`; the caller must keep it alive while the engine is."""

    def callback(_user_data, sender, recipients, message, length, reason, capacity):
        code, text = _answer(deliver, interrupts, sender, recipients, message, length)
        _write_reason(reason, capacity, text)
        return code

    return TRANSPORT_FN(callback)
