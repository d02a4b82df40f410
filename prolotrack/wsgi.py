import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prolotrack.settings")
application = get_wsgi_application()

# Import the URL map and every view module now, not on the first request: gunicorn loads this module once in its
# master (--preload) and forks the workers, so each worker starts with them imported instead of spending seconds
# (4 s at load 11 on the 2-core machine) on its first request (docs/OPERATIONS.md, "Serving").
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018 - the import is the point
