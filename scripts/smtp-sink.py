#!/usr/bin/env python3
"""A real SMTP server for the notification tests (aiosmtpd): accepts every
message on HOST:PORT and writes each one, as received, to DIR as its own
file (`<time>-<n>.eml`, written whole then renamed, so a reader never sees
half a message), with the envelope's recipients in an `X-Envelope-To` line
first. Tests find their messages by recipient (each test has its own)."""

import argparse
import itertools
import os
import time

from aiosmtpd.controller import Controller

counter = itertools.count()


class Sink:
    def __init__(self, directory):
        self.directory = directory

    async def handle_DATA(self, server, session, envelope):
        name = f"{time.time_ns()}-{os.getpid()}-{next(counter)}.eml"
        tmp = os.path.join(self.directory, "." + name)
        with open(tmp, "wb") as f:
            f.write(b"X-Envelope-To: " + ", ".join(envelope.rcpt_tos).encode() + b"\r\n")
            data = envelope.original_content or envelope.content
            f.write(data if isinstance(data, bytes) else data.encode())
        os.rename(tmp, os.path.join(self.directory, name))
        return "250 OK"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    controller = Controller(Sink(args.dir), hostname=args.host, port=args.port)
    controller.start()
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
