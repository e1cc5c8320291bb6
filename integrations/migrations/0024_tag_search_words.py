"""PostgreSQL's trigram index of tag names holds each name with its separators joined (integrations/tag_search.py:
`spring-sale` is one word there, not "spring" and "sale"); it replaces the index on the bare name. SQLite's
FTS5 trigram table already reads separators as characters: nothing changes there."""

from django.db import migrations

from integrations import tag_search


def words_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        tag_search.install(apps, schema_editor)


def bare_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {tag_search.POSTGRES_INDEX}")
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {tag_search.POSTGRES_OLD_INDEX} ON integrations_tag "
                              "USING gin (sort_name gin_trgm_ops)")


class Migration(migrations.Migration):
    dependencies = [("integrations", "0023_location_month")]

    operations = [migrations.RunPython(words_index, bare_index, elidable=False)]
