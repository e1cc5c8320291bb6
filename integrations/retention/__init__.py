"""Keeping tables bounded: the nightly prune (`tagscope.prune`, `manage.py prune`), the daily call rollups
that outlive it, table sizes, and online SQLite backups. docs/deploy.md, "Retention" and "Backups"."""
