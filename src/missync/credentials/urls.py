"""Logins' pages, under `/<school>/` (included once from missync.wizard.urls).

Pupils: `me/`, `me/sign-out/`, `qr/<token>/`. New staff: `activate/<uid>/<token>/`.
Manage Users: `manage/cards/`, `manage/cards/run/<run>/`, `manage/pupils/<id>/login/` (and its card,
reset and unlock actions), `manage/classes/<id>/passwords/`, `manage/credentials/history/`,
`manage/staff/activation/`.
"""

from django.urls import path

from . import signin, views_staff, views_teacher

urlpatterns = [
    path("me/", signin.pupil_home, name="pupil-home"),
    path("me/sign-out/", signin.pupil_sign_out, name="pupil-sign-out"),
    path("qr/<str:token>/", signin.qr_sign_in, name="pupil-qr"),
    path("activate/<str:uidb64>/<str:token>/", views_staff.activate_view, name="activate"),
    path("manage/cards/", views_teacher.cards_page, name="cards"),
    path("manage/cards/run/<int:run>/", views_teacher.cards_run, name="cards-run"),
    path("manage/pupils/<int:account>/login/", views_teacher.pupil_login, name="pupil-login"),
    path("manage/pupils/<int:account>/card/", views_teacher.pupil_card, name="pupil-card"),
    path("manage/pupils/<int:account>/reset/", views_teacher.pupil_reset, name="pupil-reset"),
    path("manage/pupils/<int:account>/unlock/", views_teacher.pupil_unlock, name="pupil-unlock"),
    path(
        "manage/classes/<int:school_class>/passwords/", views_teacher.class_passwords, name="class-passwords"
    ),
    path("manage/credentials/history/", views_teacher.history, name="credential-history"),
    path("manage/staff/activation/", views_staff.staff_activation, name="staff-activation"),
    path(
        "manage/staff/<int:account>/activation/",
        views_staff.send_activation_view,
        name="staff-activation-send",
    ),
]
