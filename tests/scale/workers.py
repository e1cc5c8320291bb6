"""Real `manage.py qcluster` processes for a test: started in their own process groups with the test
database (child_env) and a cluster name of their own, always stopped (SIGTERM to the main process, then
SIGKILL) on the way out."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from tests.support.subprocess_env import ROOT, child_env


def stop(process: subprocess.Popen, *, grace: float = 3) -> None:
    """Stop a qcluster started with start_new_session=True: SIGTERM to its main process (a SIGTERM to all of
    its processes deadlocks django-q2, issue #346), then SIGKILL to the group after `grace` s."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10)):
        try:
            os.kill(process.pid, sig) if sig == signal.SIGTERM else os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def stop_all(processes: list[subprocess.Popen], *, grace: float = 3) -> None:
    """Stop several at once: SIGTERM to every cluster first, so their graceful stops overlap."""
    for process in processes:
        if process.poll() is None:
            with suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
    for process in processes:
        stop(process, grace=grace)


@contextmanager
def own_cluster(*, workers: int = 2, **env: str) -> Iterator[dict[str, str]]:
    """A fresh cluster name for this test: the test process enqueues to it (asynchronously: Q_SYNC is on
    under test settings); yields the environment for worker processes of that cluster."""
    from django_q.conf import Conf

    name = f"tagscope-test-{uuid.uuid4().hex[:8]}"
    saved = (Conf.CLUSTER_NAME, Conf.PREFIX, Conf.SYNC)
    Conf.CLUSTER_NAME, Conf.PREFIX, Conf.SYNC = name, name, False
    try:
        yield child_env(Q_CLUSTER_NAME=name, Q_SYNC="false", Q_WORKERS=str(workers),
                        DJANGO_SETTINGS_MODULE="tests.scale.worker_settings", **env)
    finally:
        Conf.CLUSTER_NAME, Conf.PREFIX, Conf.SYNC = saved


@contextmanager
def worker_processes(count: int, env: dict[str, str]) -> Iterator[list[subprocess.Popen]]:
    """`count` qcluster processes with `env`, each in its own process group; all stopped on the way out."""
    processes: list[subprocess.Popen] = []
    try:
        for _ in range(count):
            processes.append(subprocess.Popen(
                [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
                start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))
        yield processes
    finally:
        stop_all(processes)


@contextmanager
def qclusters(count: int, *, workers: int = 2, **env: str) -> Iterator[list[subprocess.Popen]]:
    """`count` qcluster processes of one fresh cluster name, the test process enqueueing to it."""
    with own_cluster(workers=workers, **env) as cluster_env, worker_processes(count, cluster_env) as processes:
        yield processes
