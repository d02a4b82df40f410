"""The research release threshold: k of the k-anonymity check (docs/RESEARCH.md, "Release check")."""

from django.conf import settings

from prolotrack.domain.kanonymity import DEFAULT_K


def research_min_k() -> int:
    """`RESEARCH_MIN_K` in the settings (environment), default 5; never below 2."""
    return max(2, int(getattr(settings, "RESEARCH_MIN_K", DEFAULT_K)))
