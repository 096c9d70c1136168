from django.urls import path

from . import views_sync

urlpatterns = [
    path("", views_sync.sync_start, name="sync-start"),
    path("history/", views_sync.history, name="sync-history"),
]
