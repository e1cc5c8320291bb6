"""Settings for the worker processes the scale-out and fault tests start: the real settings, with the client's
rate limit taken from the environment so it can match a sandbox started with a small burst limit."""

import os

from dashboard.settings import *  # noqa: F403

HIGHLEVEL_BURST_LIMIT = int(os.environ.get("TAGSCOPE_TEST_BURST_LIMIT", "100"))
HIGHLEVEL_BURST_WINDOW_SECONDS = float(os.environ.get("TAGSCOPE_TEST_BURST_WINDOW_SECONDS", "10"))
SYNC_STATISTICS_HORIZON_DAYS = int(os.environ.get("TAGSCOPE_TEST_STATISTICS_DAYS", "90"))
# As in the suite's own settings: one-day requests for reach and shares only for the last week.
SYNC_STATISTICS_BREAKDOWN_HORIZON_DAYS = int(os.environ.get("TAGSCOPE_TEST_BREAKDOWN_DAYS", "7"))
# A test that drives every step itself (the end-to-end flow) turns the cluster's scheduler off.
Q_CLUSTER = {**Q_CLUSTER, "scheduler": os.environ.get("TAGSCOPE_TEST_SCHEDULER", "true") != "false"}  # noqa: F405
