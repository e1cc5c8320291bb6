"""Substring search over 1,000,000 tags: FTS5 trigram table (SQLite) or pg_trgm GIN index (PostgreSQL),
built here for existing rows and kept in step by the database (integrations/tag_search.py)."""

from django.db import migrations

from integrations import tag_search


class Migration(migrations.Migration):
    dependencies = [("integrations", "0016_tag_performance_copies")]

    operations = [migrations.RunPython(tag_search.install, tag_search.remove, elidable=False)]
