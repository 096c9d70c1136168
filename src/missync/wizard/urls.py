"""Every page lives under its school's slug: /<school>/ signs in, /<school>/manage/ is Manage Users."""

from django.urls import include, path

from . import auth_views, views_home

urlpatterns = [
    path("", views_home.home, name="home"),
    path("<slug:school>/", auth_views.sign_in, name="sign-in"),
    path("<slug:school>/sign-out/", auth_views.sign_out, name="sign-out"),
    path("<slug:school>/manage/", include("missync.wizard.urls_manage")),
    path("<slug:school>/manage/sync/", include("missync.wizard.urls_sync")),
    path("<slug:school>/", include("missync.credentials.urls")),
]
