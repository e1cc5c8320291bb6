"""Creates the Admin and Marketer groups with their permissions (idempotent)."""

from django.db import migrations

PERMISSIONS = {
    "browse": "Browse locations, tags, tag details and statistics",
    "export": "Export tags and statistics as CSV",
    "refresh": "Start a refresh of HighLevel data",
    "manage_connections": "Connect, test, rotate and disconnect HighLevel credentials",
    "manage_destinations": "Manage webhook destinations and field mappings",
    "view_operations": "See sync runs, health and alerts",
    "manage_operations": "Retry and cancel runs, acknowledge alerts, edit schedules",
    "manage_users": "Create and invite users",
}
ROLES = {"Admin": list(PERMISSIONS), "Marketer": ["browse", "export"]}


def create_roles(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    content_type, _ = ContentType.objects.get_or_create(app_label="dashboard", model="access")
    perms = {}
    for codename, name in PERMISSIONS.items():
        perms[codename], _ = Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
    for role, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*(perms[c] for c in codenames))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [migrations.RunPython(create_roles, remove_roles)]
