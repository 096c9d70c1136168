from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    """The platform's front page: schools sign in at their own address, which it explains."""
    return render(request, "missync/home.html")
