from django.urls import include, path

urlpatterns = [path("", include("missync.wizard.urls"))]
