"""The research release thresholds: k of the k-anonymity check and l of the l-diversity check (docs/RESEARCH.md,
"Release check")."""

from typing import Any

from django.conf import settings

from prolotrack.domain.kanonymity import DEFAULT_K, DEFAULT_L


def research_min_k(clinic: Any = None) -> int:
    """The clinic's setting `research_min_k` (default 5, at least 5); a deployment's `RESEARCH_MIN_K` can only raise
    it for every clinic."""
    floor = max(2, int(getattr(settings, "RESEARCH_MIN_K", DEFAULT_K)))
    return max(floor, clinic.config.research_min_k) if clinic is not None else floor


def research_min_l(clinic: Any = None) -> int:
    """The clinic's setting `research_min_l` (distinct l-diversity of the outcome, default 2, at least 2); a
    deployment's `RESEARCH_MIN_L` can only raise it for every clinic."""
    floor = max(DEFAULT_L, int(getattr(settings, "RESEARCH_MIN_L", DEFAULT_L)))
    return max(floor, clinic.config.research_min_l) if clinic is not None else floor
