from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from dashboard.views import connections, destinations, health, home, profile, schedules, webhooks

admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = "Tagscope administration"

urlpatterns = [
    path("", home.locations_overview, name="home"),
    path("connections/", connections.connection_list, name="connections"),
    path("connections/oauth/start/", connections.oauth_start, name="oauth_start"),
    path("connections/oauth/callback/", connections.oauth_callback, name="oauth_callback"),
    path("connections/private-token/", connections.private_token_add, name="private_token_add"),
    path("connections/<int:pk>/", connections.connection_show, name="connection_detail"),
    path("connections/<int:pk>/test/", connections.connection_test, name="connection_test"),
    path("connections/<int:pk>/rename/", connections.connection_rename, name="connection_rename"),
    path("connections/<int:pk>/rotate/", connections.connection_rotate, name="connection_rotate"),
    path("connections/<int:pk>/disconnect/", connections.connection_disconnect, name="connection_disconnect"),
    path("connections/<int:pk>/schedule/", schedules.connection_schedule, name="connection_schedule"),
    path("destinations/", destinations.destination_list, name="destinations"),
    path("destinations/new/", destinations.destination_add, name="destination_add"),
    path("destinations/demo-receiver/", destinations.destination_add_demo, name="destination_add_demo"),
    path("destinations/<int:pk>/", destinations.destination_show, name="destination_detail"),
    path("destinations/<int:pk>/edit/", destinations.destination_edit, name="destination_edit"),
    path("destinations/<int:pk>/rotate/", destinations.destination_rotate, name="destination_rotate"),
    path("destinations/<int:pk>/pause/", destinations.destination_pause, name="destination_pause"),
    path("destinations/<int:pk>/resume/", destinations.destination_resume, name="destination_resume"),
    path("destinations/<int:pk>/delete/", destinations.destination_delete, name="destination_delete"),
    path("destinations/<int:pk>/test/", destinations.destination_test, name="destination_test"),
    path("destinations/<int:pk>/mappings/<str:event_type>/", destinations.mapping_edit, name="mapping_edit"),
    path("destinations/<int:pk>/mappings/<str:event_type>/preview/", destinations.mapping_preview,
         name="mapping_preview"),
    path("destinations/<int:pk>/deliveries/<int:delivery_id>/redeliver/", destinations.delivery_redeliver,
         name="delivery_redeliver"),
    path("destinations/<int:pk>/deliveries/redeliver-failed/", destinations.deliveries_redeliver_failed,
         name="deliveries_redeliver_failed"),
    path("profile/", profile.profile, name="profile"),
    path("profile/tokens/<int:token_id>/revoke/", profile.api_token_revoke_view, name="api_token_revoke"),
    path("webhooks/highlevel/", webhooks.highlevel_webhook, name="highlevel_webhook"),
    path("healthz", health.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]
