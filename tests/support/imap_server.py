"""A small IMAP4rev1 server over a real socket, holding messages in memory: enough of the protocol for what
Tagscope's bounce reader sends (CAPABILITY, LOGIN, SELECT, UID SEARCH UNSEEN, UID FETCH BODY.PEEK[],
UID STORE +FLAGS, LOGOUT), so the reader is tested through the stdlib's imaplib as it talks to a mail server."""

from __future__ import annotations

import re
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Mailbox:
    user: str
    password: str
    messages: dict[int, bytes] = field(default_factory=dict)
    seen: set[int] = field(default_factory=set)
    logins: list[tuple[str, str]] = field(default_factory=list)
    selected: list[str] = field(default_factory=list)

    def add(self, raw: bytes) -> int:
        uid = max(self.messages, default=0) + 1
        self.messages[uid] = raw
        return uid


def _unquote(word: str) -> str:
    return word[1:-1].replace('\\"', '"').replace("\\\\", "\\") if word.startswith('"') else word


class _Handler(socketserver.StreamRequestHandler):
    box: Mailbox

    def say(self, line: str | bytes) -> None:
        self.wfile.write((line.encode() if isinstance(line, str) else line) + b"\r\n")

    def handle(self) -> None:
        box = self.server.box  # type: ignore[attr-defined]
        self.say("* OK test IMAP ready")
        for raw in self.rfile:
            tag, _, rest = raw.decode().rstrip("\r\n").partition(" ")
            command, _, args = rest.partition(" ")
            command = command.upper()
            if command == "CAPABILITY":
                self.say("* CAPABILITY IMAP4rev1")
            elif command == "LOGIN":
                user, password = (_unquote(w) for w in re.findall(r'"(?:[^"\\]|\\.)*"|\S+', args))
                box.logins.append((user, password))
                if (user, password) != (box.user, box.password):
                    self.say(f"{tag} NO [AUTHENTICATIONFAILED] wrong user or password")
                    continue
            elif command == "SELECT":
                box.selected.append(_unquote(args))
                self.say(f"* {len(box.messages)} EXISTS")
            elif command == "UID":
                if not self.uid(box, args):
                    self.say(f"{tag} BAD unknown UID command")
                    continue
            elif command == "LOGOUT":
                self.say("* BYE")
                self.say(f"{tag} OK bye")
                return
            else:
                self.say(f"{tag} BAD not known here")
                continue
            self.say(f"{tag} OK done")

    def uid(self, box: Mailbox, args: str) -> bool:
        sub, _, rest = args.partition(" ")
        sub = sub.upper()
        if sub == "SEARCH" and rest.upper() == "UNSEEN":
            self.say("* SEARCH " + " ".join(str(u) for u in sorted(box.messages) if u not in box.seen))
        elif sub == "FETCH" and "BODY.PEEK[]" in rest.upper():
            uid = int(rest.split()[0])
            body = box.messages[uid]
            self.wfile.write(f"* {uid} FETCH (UID {uid} BODY[] {{{len(body)}}}\r\n".encode() + body + b")\r\n")
        elif sub == "STORE" and "\\SEEN" in rest.upper():
            uid = int(rest.split()[0])
            box.seen.add(uid)
            self.say(f"* {uid} FETCH (UID {uid} FLAGS (\\Seen))")
        else:
            return False
        return True


@contextmanager
def imap_server(user: str = "bounces", password: str = "s3cret p@ss") -> Iterator[tuple[Mailbox, int]]:
    """(the mailbox, its port) on 127.0.0.1 for the block's length."""
    box = Mailbox(user=user, password=password)
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.box = box  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
