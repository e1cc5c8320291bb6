"""The sync engine: keeps every connected location's Social Planner mirror fresh (docs/architecture.md).

- services.py: what the UI, commands and tasks call (enqueue, execute a unit, retry).
- runs.py: a SyncRun's lifecycle and progress; locks.py: the per location-and-kind lease.
- tags.py, posts.py, accounts.py, statistics.py: one kind of data each, fetched then upserted.
- upsert.py: compare-before-write batched upserts; scheduling.py: django-q2 schedules and delayed tasks.
"""
