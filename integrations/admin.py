"""Django admin views of Tagscope's rows. Secrets (`*_enc` columns) are never shown or editable here."""

from __future__ import annotations

from django.contrib import admin

from integrations.models import AuditEntry, Connection, Event, Location, Tag


class ReadOnlyAdmin(admin.ModelAdmin):
    """Credentials change through /connections/ only, where every change is checked and audited."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Connection)
class ConnectionAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "status", "company_id", "location_id", "token_expires_at", "last_used_at")
    list_filter = ("kind", "status")
    search_fields = ("name", "company_id", "location_id")
    exclude = ("access_token_enc", "refresh_token_enc", "refresh_lease_owner")


@admin.register(Location)
class LocationAdmin(ReadOnlyAdmin):
    list_display = ("name", "location_id", "connection", "timezone", "is_installed")
    search_fields = ("name", "location_id")
    exclude = ("token_enc",)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor_label", "action", "connection", "ip_address", "detail")
    list_filter = ("action",)


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("id", "type", "occurred_at", "location", "subject_id")
    list_filter = ("type",)


@admin.register(Tag)
class TagAdmin(ReadOnlyAdmin):
    list_display = ("name", "tag_id", "location", "updated_at", "first_seen_at", "removed_at")
    list_filter = ("location",)
    search_fields = ("name",)
    list_select_related = ("location",)
    exclude = ("details_for",)
