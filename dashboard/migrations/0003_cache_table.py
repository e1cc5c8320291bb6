"""Creates the database cache table (settings.CACHES without Redis), so no separate set-up step exists."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0002_roles")]
    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
