"""The research release thresholds: k of the k-anonymity check and l of the l-diversity check (docs/RESEARCH.md,
"Release check")."""

from decimal import Decimal
from typing import Any

from django.conf import settings

from prolotrack.domain.dpcounts import DEFAULT_EPSILON
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


def research_dp_epsilon(clinic: Any = None) -> Decimal:
    """The privacy budget (epsilon) of one quarter's differentially private breakdowns: the clinic's setting
    `research_dp_epsilon_tenths` / 10 (default 1); a deployment's `RESEARCH_MAX_DP_EPSILON` can only lower it."""
    chosen = Decimal(clinic.config.research_dp_epsilon_tenths) / 10 if clinic is not None else DEFAULT_EPSILON
    ceiling = Decimal(str(getattr(settings, "RESEARCH_MAX_DP_EPSILON", chosen)))
    return min(chosen, ceiling)
