#!/usr/bin/env python3
"""A custom transport in Python: instead of mailing, each notification becomes a file in a
"tickets" folder (think: a ticketing system's drop box). Notifies one message and flushes.

A deliver function returns normally when delivered, raises en_notify.RetryLater(reason) to be
called again after the back-off, or en_notify.DeliveryFailed(reason) to fail the message.
"""
import argparse
import os
import sys
import uuid
from email import policy
from email.parser import BytesParser
from pathlib import Path

import en_notify


def ticket_writer(folder: Path):
    """A deliver function that stores each message as <folder>/<uuid>.eml."""

    def deliver(sender: str, recipients: list, message: bytes) -> None:
        subject = BytesParser(policy=policy.default).parsebytes(message, headersonly=True)["subject"]
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{uuid.uuid4().hex}.eml"
            path.write_bytes(message)
        except OSError as e:
            raise en_notify.RetryLater(f"cannot write the ticket: {e}")
        print(f"ticket {path.name} from {sender} for {', '.join(recipients)}: {subject}")

    return deliver


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", default=os.environ.get("EN_NOTIFY_DB", "en-notify.db"), help="queue database")
    p.add_argument("--tickets", type=Path, default=Path("tickets"), help="folder for the tickets")
    args = p.parse_args()
    with en_notify.Engine(args.db) as engine:
        engine.set_transport(ticket_writer(args.tickets))
        engine.notify({
            "from": "tracker@example.com",
            "to": ["support-queue@example.com"],
            "subject": "Neues Ticket: CR-42 — Drucker brennt ✓",
            "text": "CR-42 was opened.\n",
        })
        report = engine.flush()
    print(f"flush: sent {report.sent}, deferred {report.deferred}, failed {report.failed}")
    return 0 if report.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
