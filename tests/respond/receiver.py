"""A real HTTP receiver for Apprise ``json://`` posts, run in a thread of the test process.

Each path chooses an answer: ``/ok...`` 200, ``/bad...`` 500 while ``fail_first`` lasts, then
200, ``/hang...`` no answer until the receiver stops. Every post is recorded, in arrival order.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Receiver:
    port: int
    posts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    arrived: list[datetime] = field(default_factory=list)  # when each post came, in order
    fail_first: int = 0
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def paths(self) -> list[str]:
        with self.lock:
            return [p for p, _ in self.posts]


@contextmanager
def receiving() -> Iterator[Receiver]:
    """A receiver listening on a free local port until the block ends."""
    holder: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            receiver = holder[0]
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            if self.path.startswith("/hang"):
                receiver.release.wait(30)
                return
            with receiver.lock:
                failing = self.path.startswith("/bad") and receiver.fail_first > 0
                if failing:
                    receiver.fail_first -= 1
                else:
                    receiver.posts.append((self.path.strip("/"), body))
                    receiver.arrived.append(datetime.now(UTC))
            self.send_response(500 if failing else 200)
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    holder.append(Receiver(port=server.server_address[1]))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder[0]
    finally:
        holder[0].release.set()
        server.shutdown()
        server.server_close()
