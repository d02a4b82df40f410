"""The one public address of the app (`PROLOTRACK_SITE_URL`), for every link that leaves the request it was made in.

Links in emails, calendar feeds and copied questionnaire links must work from elsewhere, so they are built from the
setting, not from the request's Host header (docs/OPERATIONS.md). `make run` sets the default from its HOST and PORT.
"""

from django.conf import settings


def site_url(path: str = "") -> str:
    """The absolute address of `path` (which starts with "/") on this site."""
    if path.startswith(("http://", "https://")):
        return path
    return f"{settings.PROLOTRACK_SITE_URL}{path}"


def default_site_url(host: str, port: int | str) -> str:
    """The address a browser on this machine opens for a server listening on host:port (a wildcard means local)."""
    if host in ("", "0.0.0.0", "::", "[::]"):  # noqa: S104 - naming the wildcard, not binding to it
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"
