from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from dashboard.views import health, home

admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = "Tagscope administration"

urlpatterns = [
    path("", home.locations_overview, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]
