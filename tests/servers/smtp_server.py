#!/usr/bin/env python3
"""A real SMTP server for the tests: aiosmtpd, configured to record what it accepts.

Each accepted message becomes two files in --dir: N.eml (the bytes received after DATA) and
N.json (the envelope). Flags make it refuse chosen recipients, require AUTH, or offer STARTTLS
or implicit TLS with a given certificate. It prints "READY <port>" once it listens on 127.0.0.1.
"""
import argparse
import json
import os
import signal
import socket
import ssl
import threading
import time
import uuid

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, SMTP


class Recorder:
    def __init__(self, folder, reject, tempfail):
        self.folder = folder
        self.reject = {a.lower() for a in reject}
        self.tempfail = {a.lower() for a in tempfail}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        if address.lower() in self.tempfail:
            return "450 4.2.1 <%s>: Mailbox busy, try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        name = "%d-%s" % (time.time_ns(), uuid.uuid4().hex[:8])
        login = getattr(session.auth_data, "login", None)
        meta = {"from": envelope.mail_from, "to": envelope.rcpt_tos,
                "login": login.decode() if isinstance(login, bytes) else None,
                # session.ssl is set by STARTTLS only; implicit TLS shows on the transport.
                "tls": session.ssl is not None or server.transport.get_extra_info("sslcontext") is not None}
        for suffix, data in ((".eml", envelope.original_content or envelope.content),
                             (".json", json.dumps(meta).encode())):
            tmp = os.path.join(self.folder, "." + name + suffix)
            with open(tmp, "wb") as f:
                f.write(data)
            os.rename(tmp, os.path.join(self.folder, name + suffix))
        return "250 2.0.0 Ok: queued as " + name


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--dir", required=True, help="folder for received messages")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--reject", action="append", default=[], help="refuse this recipient with 550")
    p.add_argument("--tempfail", action="append", default=[], help="refuse this recipient with 450")
    p.add_argument("--auth", help="user:password that AUTH requires")
    p.add_argument("--cert", help="PEM certificate, to offer TLS")
    p.add_argument("--key", help="PEM key for --cert")
    p.add_argument("--implicit-tls", action="store_true", help="TLS from the first byte instead of STARTTLS")
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)

    kwargs = {}
    if a.cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.cert, a.key)
        if a.implicit_tls:
            kwargs["ssl_context"] = ctx
        else:
            kwargs["tls_context"] = ctx
            kwargs["require_starttls"] = True
    if a.auth:
        user, password = a.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login.decode() == user and auth_data.password.decode() == password
            # handled=False makes aiosmtpd send the 535 itself; auth_data keeps the login.
            return AuthResult(success=ok, handled=False, auth_data=auth_data)

        kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=False)

    port = a.port or free_port()
    controller = Controller(Recorder(a.dir, a.reject, a.tempfail), hostname="127.0.0.1", port=port,
                            ready_timeout=10, **kwargs)
    controller.start()
    print("READY %d" % port, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
