#!/usr/bin/env python3
"""An issue-tracker action hook: builds one notification, hands it to en-notify, flushes.

Run it against a relay with --smtp HOST:PORT (or EN_NOTIFY_SMTP); without one, each message
becomes an .eml file in --pickup-dir. Needs the en_notify package (pip install bindings/python)
and finds the library through EN_NOTIFY_LIBRARY or the cargo target folder.
"""
import argparse
import os
import sys

import en_notify


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", default=os.environ.get("EN_NOTIFY_DB", "en-notify.db"),
                   help="queue database (env EN_NOTIFY_DB)")
    p.add_argument("--smtp", default=os.environ.get("EN_NOTIFY_SMTP"),
                   help="relay HOST:PORT (env EN_NOTIFY_SMTP); without it, the pickup folder")
    p.add_argument("--pickup-dir", default=os.environ.get("EN_NOTIFY_PICKUP_DIR", "outbox"),
                   help="folder for .eml files when there is no relay (env EN_NOTIFY_PICKUP_DIR)")
    p.add_argument("--to", action="append", help="recipient (repeatable); default dev@example.com")
    p.add_argument("--record", default="CR-42", help="the record the action changed")
    return p.parse_args()


def notification(record: str, recipients: list) -> dict:
    """What a notification rule would produce for a state change of `record`."""
    return {
        "from": "tracker@example.com",
        "to": recipients,
        "subject": f"Änderung: {record} — ready ✓",
        "text": f"{record} moved to Ready.\n",
        "html": f"<p><b>{record}</b> moved to <i>Ready</i>.</p>",
        "source": record,
    }


def main() -> int:
    args = parse_args()
    if args.smtp:
        options = {"email_server": args.smtp}
    else:
        options = {"email_transport": "pickup", "email_pickup_dir": args.pickup_dir}
    with en_notify.Engine(args.db, options) as engine:
        try:
            message_id = engine.notify(notification(args.record, args.to or ["dev@example.com"]))
            report = engine.flush()
        except en_notify.ENError as e:
            print(f"notification failed: {e}", file=sys.stderr)
            return 1
    where = "delivered at once (Light mode)" if message_id == 0 else f"message {message_id}"
    print(f"{where}; flush: sent {report.sent}, deferred {report.deferred}, failed {report.failed}"
          + ("; held for the delivery server (Queue mode)" if report.held_by_mode else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
