from django.urls import path

from . import views_manage

urlpatterns = [
    path("", views_manage.manage_home, name="manage-home"),
]
