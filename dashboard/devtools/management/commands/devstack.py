"""Serve the dashboard, a django-q2 worker and the HighLevel sandbox as one foreground command.

Ctrl-C (or any one process dying) stops all of them. Used by `make run`; not for production.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import get_commands
from django.core.management.base import BaseCommand

STOP_GRACE_SECONDS = 10
SANDBOX_WAIT_SECONDS = 20


def _die_with_parent() -> None:
    """Linux: a child gets SIGTERM if devstack itself is killed, so nothing is left serving."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def _processes(port: int, receiver_port: int = 8766) -> list[tuple[str, list[str]]]:
    manage = [sys.executable, "manage.py"]
    wanted = [
        ("web", [*manage, "runserver", f"127.0.0.1:{port}"]),
        ("worker", [*manage, "qcluster"]),
    ]
    commands = get_commands()
    sandbox_port = settings.HIGHLEVEL_SANDBOX_URL.rsplit(":", 1)[-1].rstrip("/")
    if settings.HIGHLEVEL_SANDBOX and "runsandbox" in commands:
        # Half a year of history: a 90-day chart and the 90 days it is compared with.
        wanted.append(("sandbox", [*manage, "runsandbox", "--port", sandbox_port, "--days", "200",
                               "--seed", str(settings.HIGHLEVEL_SANDBOX_SEED)]))
    if "runreceiver" in commands:
        wanted.append(("receiver", [*manage, "runreceiver", "--port", str(receiver_port)]))
    return wanted


def _environment() -> dict[str, str]:
    """The children's environment: under the sandbox, the key its app webhooks are signed with (derived from
    its seed) unless one is set, so the dashboard verifies the sandbox's install and uninstall webhooks."""
    env = os.environ.copy()
    if settings.HIGHLEVEL_SANDBOX and not env.get("HIGHLEVEL_WEBHOOK_PUBLIC_KEY"):
        from sandbox.keys import webhook_public_key_pem

        env["HIGHLEVEL_WEBHOOK_PUBLIC_KEY"] = webhook_public_key_pem(settings.HIGHLEVEL_SANDBOX_SEED)
    return env


def _connect_sandbox(port: int) -> str:
    """Once the sandbox answers: connect its agency through the real OAuth flow (consent page, code
    exchange, location discovery), again if it was connected before (the new sandbox process has forgotten
    its tokens), then enqueue a refresh of everything."""
    import requests

    from dashboard.devtools.demo import sandbox_agency_ensure
    from integrations.sync.services import refresh_all_enqueue
    from sandbox.client import SandboxControl

    control = SandboxControl(settings.HIGHLEVEL_SANDBOX_URL, timeout=5)
    deadline = time.monotonic() + SANDBOX_WAIT_SECONDS
    while True:
        try:
            control.state()
            break
        except requests.RequestException:
            if time.monotonic() > deadline:
                return "the sandbox did not answer; connect it from /connections/"
            time.sleep(0.3)
    redirect_uri = settings.HIGHLEVEL_REDIRECT_URI or f"http://127.0.0.1:{port}/connections/oauth/callback/"
    done = sandbox_agency_ensure(control, redirect_uri=redirect_uri)
    runs = refresh_all_enqueue(trigger="devstack")
    return f"{done + ' the sandbox agency; ' if done else ''}refresh of {len(runs)} location(s) enqueued"


class Command(BaseCommand):
    help = "Run web server, worker and sandbox together (make run)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--receiver-port", type=int, default=8766,
                            help="the demo webhook receiver's port (several stacks on one machine differ here)")

    def handle(self, *args, port: int, receiver_port: int, **options):
        children: dict[str, subprocess.Popen] = {}
        signal.signal(signal.SIGTERM, _raise_interrupt)
        signal.signal(signal.SIGHUP, _raise_interrupt)
        env = _environment()
        for name, argv in _processes(port, receiver_port):
            # Each child leads its own process group so runserver's autoreloader child stops too.
            children[name] = subprocess.Popen(
                argv, start_new_session=True, env=env, preexec_fn=_die_with_parent
            )
            self.stdout.write(f"started {name:<8} pid {children[name].pid}: {' '.join(argv[1:])}")
        self.stdout.write(self.style.SUCCESS(
            f"\nTagscope is at http://127.0.0.1:{port}/ "
            + (f"(HighLevel sandbox at {settings.HIGHLEVEL_SANDBOX_URL}) " if "sandbox" in children else "")
            + "- press Ctrl-C to stop everything.\n"
        ))
        exit_code = 0
        try:
            if "sandbox" in children:
                try:
                    outcome = _connect_sandbox(port)
                except Exception as exc:  # the demo still runs; the admin can connect by hand
                    outcome = f"could not connect the sandbox ({type(exc).__name__}: {exc})"
                self.stdout.write(f"sync: {outcome}")
            while True:
                for name, proc in children.items():
                    if proc.poll() is not None:
                        self.stderr.write(f"{name} exited with status {proc.returncode}; stopping the rest.")
                        exit_code = 1
                        raise KeyboardInterrupt
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self._stop(children)
        if exit_code:
            sys.exit(exit_code)

    def _stop(self, children: dict[str, subprocess.Popen]) -> None:
        # A second Ctrl-C must not cut this short: exiting now would leave the children to their death
        # signal (PR_SET_PDEATHSIG), a second SIGTERM on top of ours, and django-q2's cluster can deadlock in
        # its signal handler on that (django-q2 issue #346), left running with no parent.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        self.stdout.write(f"Stopping (up to {STOP_GRACE_SECONDS} s while the worker finishes its tasks)...")
        for name, proc in children.items():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    if name == "worker":  # a SIGTERM to every process of the cluster hangs it (#346 again)
                        os.kill(proc.pid, signal.SIGTERM)  # its main process stops the others, in 1 s
                    else:  # the group: runserver's autoreloader child stops too
                        os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for name, proc in children.items():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                self.stderr.write(f"{name} did not stop in {STOP_GRACE_SECONDS} s; killed.")
        self.stdout.write("All Tagscope processes stopped.")
