from django.urls import path

from dashboard.api import views, views_performance, views_share, views_statistics

urlpatterns = [
    path("locations/", views.locations_list, name="api_locations"),
    path("locations/<str:location_id>/tags/", views.tags_list, name="api_tags"),
    path("locations/<str:location_id>/tags/performance/", views_performance.tag_performance,
         name="api_tag_performance"),
    path("locations/<str:location_id>/tags/<str:tag_id>/", views.tag_detail, name="api_tag"),
    path("locations/<str:location_id>/statistics/", views_statistics.location_statistics, name="api_statistics"),
    path("locations/<str:location_id>/refresh/", views.location_refresh, name="api_refresh"),
    path("statistics/", views_statistics.agency_statistics, name="api_agency_statistics"),
    path("locations/<str:location_id>/share-links/", views_share.share_link_create_view, name="api_share_links"),
    path("share-links/<int:link_id>/", views_share.share_link_delete_view, name="api_share_link"),
    path("campaigns/", views_performance.campaigns, name="api_campaigns"),
    path("campaigns/<str:slug>/", views_performance.campaign, name="api_campaign"),
    path("runs/<int:run_id>/", views.run_detail, name="api_run"),
]
