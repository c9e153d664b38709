"""A small in-test HashInsight server: telemetry (deduplicated by Idempotency-Key), discovery,
commands and acks. It can be stopped and restarted on the same port, and told to hang."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from edge_collector.wire import decode_gzip_json

TOKEN = "test-device-token"


class Receiver:
    def __init__(self, port: int = 0):
        self.lock = threading.Lock()
        self.batches: list[dict] = []  # accepted, first delivery only
        self.keys: set[str] = set()
        self.duplicates: list[str] = []
        self.discovery: list[dict] = []
        self.commands: list[dict] = []
        self.acks: list[dict] = []
        self.posts = 0
        self.hang_on_post: int | None = None  # the Nth telemetry POST commits then hangs
        self.hanging = threading.Event()
        self.release = threading.Event()
        self.httpd: ThreadingHTTPServer | None = None
        self.port = port
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def records(self) -> list[dict]:
        with self.lock:
            return [r for batch in self.batches for r in batch["records"]]

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _stopped(self):
                # A kept-alive connection outlives shutdown(); a stopped server must not
                # answer on it either, or records would land while it is "down".
                if receiver.httpd is not self.server:
                    self.close_connection = True
                    return True
                return False

            def _reply(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorized(self):
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    self._reply(401, {"error": {"code": "unauthorized", "message": "token"}})
                    return False
                return True

            def do_GET(self):  # noqa: N802
                if self._stopped() or not self._authorized():
                    return
                if self.path.startswith("/api/v1/edge/commands"):
                    with receiver.lock:
                        commands, receiver.commands = receiver.commands, []
                    self._reply(200, {"commands": commands})
                else:
                    self._reply(404, {})

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                if self._stopped() or not self._authorized():
                    return
                if self.path == "/api/v1/edge/telemetry":
                    body = decode_gzip_json(raw)
                    key = self.headers.get("Idempotency-Key")
                    assert key == body["batch_id"]
                    with receiver.lock:
                        receiver.posts += 1
                        duplicate = key in receiver.keys
                        if duplicate:
                            receiver.duplicates.append(key)
                        else:
                            receiver.keys.add(key)
                            receiver.batches.append(body)
                        hang = receiver.hang_on_post == receiver.posts
                    if hang:
                        # The batch is committed; the answer never comes (collector killed).
                        receiver.hanging.set()
                        receiver.release.wait(30)
                        self.close_connection = True
                        return
                    self._reply(200, {"accepted": len(body["records"]), "duplicate": duplicate})
                elif self.path == "/api/v1/edge/discovery":
                    with receiver.lock:
                        receiver.discovery.append(decode_gzip_json(raw))
                    self._reply(200, {"ok": True})
                elif self.path.startswith("/api/v1/edge/commands/") and self.path.endswith("/ack"):
                    with receiver.lock:
                        receiver.acks.append(json.loads(raw))
                    self._reply(200, {"ok": True})
                else:
                    self._reply(404, {})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_port
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
