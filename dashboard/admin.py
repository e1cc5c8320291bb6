"""The Django admin never shows MFA secrets: allauth's Authenticator admin is replaced by one without `data`.
A superuser may still delete a user's authenticator (a lost phone), never read or edit it."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.contrib import admin

if admin.site.is_registered(Authenticator):
    admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class AuthenticatorAdmin(admin.ModelAdmin):
    raw_id_fields = ("user",)
    list_display = ("user", "type", "created_at", "last_used_at")
    list_filter = ("type", "created_at", "last_used_at")
    exclude = ("data",)
    readonly_fields = ("user", "type", "created_at", "last_used_at")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
