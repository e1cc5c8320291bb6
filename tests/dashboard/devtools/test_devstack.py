"""`make run`'s stop (devstack): a real qcluster is asked to stop, and stops by itself, not killed."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django_q.models import Success
from django_q.tasks import async_task

from dashboard.devtools.management.commands.devstack import Command
from tests.support.polling import wait_for
from tests.support.subprocess_env import ROOT, child_env


@pytest.mark.django_db(transaction=True)
def test_stopping_make_run_stops_the_worker_cleanly():
    async_task("integrations.tasks.heartbeat", sync=False)
    worker = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=child_env(),
                              start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: Success.objects.filter(func="integrations.tasks.heartbeat").exists(), "the worker to run")
        Command()._stop({"worker": worker})
        # Killed after the grace period, it would end with -SIGKILL: a SIGTERM to the whole cluster does that.
        assert worker.returncode == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)
