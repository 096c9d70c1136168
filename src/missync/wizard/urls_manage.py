"""Manage Users, under /<school>/manage/ (the MIS Sync Wizard lives under /<school>/manage/sync/)."""

from django.urls import path

from . import views_manage

urlpatterns = [
    path("", views_manage.manage_home, name="manage-home"),  # the Pupils tab
    path("staff/", views_manage.staff, name="manage-staff"),
    path("classes/", views_manage.classes, name="manage-classes"),
    path("groups/", views_manage.groups, name="manage-groups"),
    path("archived/", views_manage.archived, name="manage-archived"),
    path("archived/<int:account_id>/restore/", views_manage.restore, name="manage-restore"),
    path("add/", views_manage.add_user, name="manage-add-user"),
    path("classes/<int:class_id>/", views_manage.class_detail, name="manage-class"),
    path("classes/<int:class_id>/rename/", views_manage.class_rename, name="manage-class-rename"),
    path("classes/<int:class_id>/name/", views_manage.class_name, name="manage-class-name"),
]
