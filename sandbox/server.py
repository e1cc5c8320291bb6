"""Serving the sandbox: a threaded stdlib WSGI server, in the foreground or a background thread."""

from __future__ import annotations

import sys
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer, make_server

from .app import make_app
from .config import SandboxConfig
from .state import Sandbox

# A kept-alive connection left idle this long is closed (the client opens another when it next asks).
IDLE_SECONDS = 30


class _ServerHandler(ServerHandler):
    """Answers in HTTP/1.1, so a client's connection stays open for its next request, as HighLevel's API keeps
    it (a new TCP connection per request cost the client, whose CPU the benchmarks measure, more than its
    request). An answer without a length is the last of its connection."""

    http_version = "1.1"

    def cleanup_headers(self):
        super().cleanup_headers()
        if "Content-Length" not in self.headers:
            self.headers["Connection"] = "close"
            self.request_handler.close_connection = True


class _Handler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS

    def handle(self):
        """Every request of the connection until the client closes it, asks to, or leaves it idle (wsgiref's
        own handler answers one request per connection)."""
        self.close_connection = True
        self._handle_one()
        while not self.close_connection:
            self._handle_one()

    def _handle_one(self):
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except OSError:  # idle past IDLE_SECONDS, or the client went away
            self.close_connection = True
            return
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.requestline, self.request_version, self.command = "", "", ""
            self.send_error(414)
            return
        if not self.parse_request():  # an error was answered; parse_request decided whether to close
            return
        handler = _ServerHandler(self.rfile, self.wfile, self.get_stderr(), self.get_environ(), multithread=False)
        handler.request_handler = self
        handler.run(self.server.get_app())

    def get_environ(self):
        environ = super().get_environ()
        environ["sandbox.connection"] = self.connection  # lets the timeout fault hang up without answering
        return environ

    def log_message(self, format, *args):
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    verbose = False

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], OSError):  # a client went away, or a fault hung up on purpose
            return
        super().handle_error(request, client_address)


class SandboxServer:
    """The sandbox on host:port (port 0: a free one). `start()` serves in a daemon thread; `.url` is set
    as soon as the object exists."""

    def __init__(self, config: SandboxConfig | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 verbose: bool = False):
        self.sandbox = Sandbox(config)
        self._httpd = make_server(host, port, make_app(self.sandbox), server_class=_ThreadingServer,
                                  handler_class=_Handler)
        self._httpd.verbose = verbose
        self.host, self.port = self._httpd.server_address[:2]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="highlevel-sandbox", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        try:
            self._httpd.serve_forever(poll_interval=0.2)
        finally:
            self._httpd.server_close()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
