"""Serving the sandbox: a threaded stdlib WSGI server, in the foreground or a background thread."""

from __future__ import annotations

import contextlib
import email.parser
import http.client
import re
import socket
import sys
import threading
import time
import traceback
from socketserver import ThreadingMixIn
from urllib.parse import unquote
from wsgiref.handlers import BaseHandler, format_date_time
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer, make_server
from wsgiref.util import guess_scheme

from .app import make_app
from .config import SandboxConfig
from .state import Sandbox


class _KeepAliveServerHandler(ServerHandler):
    http_version = "1.1"

    def cleanup_headers(self):
        super().cleanup_headers()
        if self.request_handler.close_connection:  # the client asked to close (or spoke HTTP/1.0): say so
            self.headers["Connection"] = "close"


# Header lines the email package would read as plain `Name: value` (no folding, no stray CR, a name of
# printable characters without a colon, the value after its leading blanks): such a block is split here, any
# other through the email package.
_FIELD = r"([\x21-\x39\x3b-\x7e]+):[ \t]*([^\r\n]*)\r?\n"
_PLAIN_BLOCK = re.compile(f"(?:{_FIELD})*")
_FIELDS = re.compile(_FIELD)
_SERVER_LINE = f"Server: {ServerHandler.server_software}\r\n"
# What wsgiref's environ takes from the process environment (BaseHandler.os_environ, read at import): HTTP_*
# variables reach the app as headers, and HTTPS decides the URL scheme.
_OS_HTTP = {k: v for k, v in BaseHandler.os_environ.items() if k.startswith("HTTP_")}
_SCHEME = guess_scheme(BaseHandler.os_environ)


class _Handler(WSGIRequestHandler):
    """HTTP/1.1 with persistent connections, as HighLevel's API answers: a client keeps its connection for
    the next request instead of opening one (and the server a thread) per request. wsgiref's own handler
    answers one request per connection.

    The bytes on the wire are wsgiref's (ServerHandler behind WSGIRequestHandler) to the byte, but a request
    in HTTP/1.0 or 1.1 with plain header lines is read and answered here, at a fraction of the CPU: its
    headers are split without the email package, and the answer (status line, Date, Server, the app's
    headers, the body) leaves in one write instead of five. Anything else (HTTP/0.9, a malformed request line,
    folded or odd header lines) takes the standard library's path (tests/sandbox/test_server_bytes.py)."""

    protocol_version = "HTTP/1.1"
    timeout = 60  # an idle kept connection is closed, as a real server's would be
    # Answers are written in one piece, but a 100 Continue or an error page still goes out in parts.
    disable_nagle_algorithm = True
    _date = (0, "")

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
        # Every API and control answer carries its Content-Length (app.py) and every request's body is read
        # whole (Request.from_environ), so the next request starts where this one ended.
        environ = self._read_request()
        if environ is False:  # an error was answered
            return
        if environ is None:  # the standard library's path, as wsgiref serves it
            if not self.parse_request():
                return
            handler = _KeepAliveServerHandler(self.rfile, self.wfile, self.get_stderr(), self.get_environ(),
                                              multithread=False)
            handler.request_handler = self
            handler.run(self.server.get_app())
            return
        self._answer(environ)

    def _read_request(self) -> dict | bool | None:
        """parse_request and get_environ for an HTTP/1.0 or 1.1 request line: its environ, False when an
        error was answered, None (nothing read past the request line) for any other request line."""
        requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = requestline.split()
        if len(words) != 3 or words[2] not in ("HTTP/1.1", "HTTP/1.0"):
            return None
        self.command, path, self.request_version = words
        self.requestline = requestline
        self.close_connection = words[2] == "HTTP/1.0"
        if path.startswith("//"):  # gh-87389, as parse_request
            path = "/" + path.lstrip("/")
        self.path = path
        try:
            lines = http.client._read_headers(self.rfile)
        except http.client.LineTooLong as err:
            self.send_error(431, "Line too long", str(err))
            return False
        except http.client.HTTPException as err:
            self.send_error(431, "Too many headers", str(err))
            return False
        block = b"".join(lines[:-1]).decode("iso-8859-1")
        if _PLAIN_BLOCK.fullmatch(block):
            pairs = _FIELDS.findall(block)
            self.headers = None
        else:
            self.headers = email.parser.Parser(_class=self.MessageClass).parsestr(
                b"".join(lines).decode("iso-8859-1"))
            pairs = self.headers.items()
        first = {}
        for name, value in pairs:
            first.setdefault(name.lower(), value)
        conntype = first.get("connection", "").lower()
        if conntype == "close":
            self.close_connection = True
        elif conntype == "keep-alive":
            self.close_connection = False
        if (first.get("expect", "").lower() == "100-continue" and self.request_version >= "HTTP/1.1"
                and not self.handle_expect_100()):
            return False
        return self._environ(path, pairs, first)

    def _environ(self, path: str, pairs, first: dict[str, str]) -> dict:
        """WSGIRequestHandler.get_environ and ServerHandler.setup_environ, for the keys a WSGI app reads."""
        env = self.server.base_environ.copy()
        env["SERVER_PROTOCOL"] = self.request_version
        env["SERVER_SOFTWARE"] = self.server_version
        env["REQUEST_METHOD"] = self.command
        path, _, query = path.partition("?")
        env["PATH_INFO"] = unquote(path, "iso-8859-1")
        env["QUERY_STRING"] = query
        env["REMOTE_ADDR"] = self.client_address[0]
        env["CONTENT_TYPE"] = first.get("content-type", "text/plain")
        if first.get("content-length"):
            env["CONTENT_LENGTH"] = first["content-length"]
        for name, value in pairs:
            key = name.replace("-", "_").upper()
            if key in env:  # skip content length, type, etc. (and a header named HTTP-X after an X)
                continue
            key, value = "HTTP_" + key, value.strip()
            if key in env:
                env[key] += "," + value  # comma-separate multiple headers
            else:
                env[key] = value
        if _OS_HTTP:
            env = {**_OS_HTTP, **env}
        env["wsgi.input"] = self.rfile
        env["wsgi.errors"] = sys.stderr
        env["wsgi.version"] = (1, 0)
        env["wsgi.run_once"] = False
        env["wsgi.url_scheme"] = _SCHEME
        env["wsgi.multithread"] = False
        env["wsgi.multiprocess"] = True
        env["sandbox.connection"] = self.connection
        return env

    def _answer(self, environ: dict) -> None:
        """ServerHandler.run's bytes in one write: the app's answer, or wsgiref's 500 page if it raised."""
        started = {}

        def start_response(status, headers, exc_info=None):
            started["status"], started["headers"] = status, headers

        try:
            try:
                chunks = list(self.server.get_app()(environ, start_response))
            except (ConnectionAbortedError, BrokenPipeError, ConnectionResetError):
                return  # the timeout fault hung up on purpose, or the client went away
            except Exception:
                traceback.print_exception(*sys.exc_info(), file=sys.stderr)  # as wsgiref's log_exception
                sys.stderr.flush()
                started["status"], started["headers"] = ServerHandler.error_status, ServerHandler.error_headers
                chunks = [ServerHandler.error_body]
            self._send(started["status"], list(started["headers"]), chunks)
        except (ConnectionAbortedError, BrokenPipeError, ConnectionResetError):
            return

    def _send(self, status: str, headers: list[tuple[str, str]], chunks: list[bytes]) -> None:
        names = {name.lower() for name, _ in headers}
        if "content-length" not in names and len(chunks) <= 1:
            headers.append(("Content-Length", str(len(chunks[0])) if chunks else "0"))
        if self.close_connection:
            headers = [(k, v) for k, v in headers if k.lower() != "connection"] + [("Connection", "close")]
        preamble = f"HTTP/1.1 {status}\r\n"
        if "date" not in names:
            preamble += self._date_line()
        if "server" not in names:
            preamble += _SERVER_LINE
        body = b"".join(chunks)
        try:
            head = (preamble + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n").encode("iso-8859-1")
        except UnicodeEncodeError:  # wsgiref sent its preamble, then failed on the headers and logged it
            self.wfile.write(preamble.encode("iso-8859-1"))
            traceback.print_exc(file=sys.stderr)
            return
        self.wfile.write(head + body)
        if getattr(self.server, "verbose", False):
            self.log_request(status.split(" ", 1)[0], len(body))

    @classmethod
    def _date_line(cls) -> str:
        """format_date_time(time.time()), made once a second."""
        now = int(time.time())
        if cls._date[0] != now:
            cls._date = (now, f"Date: {format_date_time(now)}\r\n")
        return cls._date[1]

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
