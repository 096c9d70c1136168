"""The WSGI application, served by waitress (`missync serve`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "missync.settings")
application = get_wsgi_application()
