"""How a change from baseline is said in words, the same on every page, alert and document.

`improvement` is direction-aware (positive is better whichever end of the scale is worse: scoring.change_from_baseline
computes it), so a patient who got worse reads "worse by 1", never "improved by -1". See docs/clinical/scoring.md.
"""

from decimal import Decimal

from .quantities import fmt


def change_words(improvement: Decimal, percent: Decimal | None = None) -> str:
    """Say a change: 'improved by 4 (57.1%)', 'worse by 1 (25%)' or 'no change'; the percent only when given."""
    if improvement == 0:
        return "no change"
    text = f"{'improved' if improvement > 0 else 'worse'} by {fmt(abs(improvement))}"
    if percent is not None:
        text += f" ({fmt(abs(percent))}%)"
    return text
