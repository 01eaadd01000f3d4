#!/usr/bin/env python3
"""A simple delivery server: drains the queue whatever the mode, logs each outcome, sleeps,
and repeats. SIGTERM or Ctrl-C stops it cleanly: the current drain finishes, the engine closes,
and it exits 0. Extend it as you need (alerts, metrics, several databases, ...).

The relay comes from --smtp HOST:PORT (or EN_NOTIFY_SMTP), else from the properties stored in
the database (e.g. set with `en-deliver`).
"""
import argparse
import logging
import os
import signal
import sys
import threading

import en_notify

log = logging.getLogger("deliver")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", default=os.environ.get("EN_NOTIFY_DB", "en-notify.db"),
                   help="queue database (env EN_NOTIFY_DB)")
    p.add_argument("--smtp", default=os.environ.get("EN_NOTIFY_SMTP"),
                   help="relay HOST:PORT (env EN_NOTIFY_SMTP); default: the stored email_server")
    p.add_argument("--interval", type=float, default=30.0, help="seconds between drains")
    return p.parse_args()


def drain_once(engine: en_notify.Engine) -> None:
    try:
        report = engine.drain()
    except en_notify.ENError as e:
        # A database or configuration problem may be fixed while we run: log it and go on.
        log.error("drain failed: %s", e)
        return
    if report.delivery_disabled:
        log.warning("delivery is disabled (EN_DeliveryEnabled); nothing sent")
    log.info("drained: sent %d, deferred %d, failed %d", report.sent, report.deferred, report.failed)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    args = parse_args()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        # The handler runs between Python steps, so a drain in progress finishes first.
        signal.signal(signum, lambda *_: stop.set())
    options = {"email_server": args.smtp} if args.smtp else None
    with en_notify.Engine(args.db, options) as engine:
        log.info("delivering from %s every %gs (en_notify %s)", args.db, args.interval,
                 en_notify.version())
        while not stop.is_set():
            drain_once(engine)
            stop.wait(args.interval)
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
