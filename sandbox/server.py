"""Serving the sandbox: a threaded stdlib WSGI server, in the foreground or a background thread."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer, make_server

from .app import make_app
from .config import SandboxConfig
from .state import Sandbox


class _KeepAliveServerHandler(ServerHandler):
    http_version = "1.1"

    def cleanup_headers(self):
        super().cleanup_headers()
        if self.request_handler.close_connection:  # the client asked to close (or spoke HTTP/1.0): say so
            self.headers["Connection"] = "close"


class _Handler(WSGIRequestHandler):
    """HTTP/1.1 with persistent connections, as HighLevel's API answers: a client keeps its connection for
    the next request instead of opening one (and the server a thread) per request. wsgiref's own handler
    answers one request per connection."""

    protocol_version = "HTTP/1.1"
    timeout = 60  # an idle kept connection is closed, as a real server's would be
    # wsgiref writes the head and the body apart: with Nagle's algorithm the body then waits for the
    # client's delayed ACK (40 ms) on every kept connection.
    disable_nagle_algorithm = True

    def handle(self):
        self.close_connection = True
        self._handle_one()
        while not self.close_connection:
            self._handle_one()

    def _handle_one(self):
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline:  # the client closed its connection
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():  # an error was answered; parse_request closes on it
            return
        # Every API and control answer carries its Content-Length (app.py) and every request's body is read
        # whole (Request.from_environ), so the next request starts where this one ended.
        handler = _KeepAliveServerHandler(self.rfile, self.wfile, self.get_stderr(), self.get_environ(),
                                          multithread=False)
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request, client_address):
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_open_connections(self) -> None:
        """Hang up the kept connections too: a stopped sandbox answers nothing, as a stopped server."""
        with self._open_lock:
            sockets, self._open = list(self._open), set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

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
            self._httpd.close_open_connections()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd.close_open_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
