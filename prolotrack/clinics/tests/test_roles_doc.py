"""docs/ROLES.md and ROLE_PERMISSIONS must say the same thing."""

import re
from pathlib import Path

from prolotrack.clinics.roles import ROLE_PERMISSIONS, Role

DOC = Path(__file__).resolve().parents[3] / "docs" / "ROLES.md"
COLUMNS = [Role.CLINICIAN, Role.NURSE, Role.FRONT_DESK, Role.ADMIN, Role.RESEARCHER]


def parse_table() -> dict[str, frozenset[str]]:
    table: dict[str, frozenset[str]] = {}
    for line in DOC.read_text().splitlines():
        match = re.match(r"^\| `([a-z_.]+)`[^|]*\|(.*)\|$", line)
        if match:
            cells = [c.strip() for c in match.group(2).split("|")]
            assert len(cells) == len(COLUMNS), line
            table[match.group(1)] = frozenset(role for role, cell in zip(COLUMNS, cells, strict=True) if cell == "✓")
    return table


def test_the_roles_document_matches_the_code():
    in_code = {str(permission): roles for permission, roles in ROLE_PERMISSIONS.items()}
    assert parse_table() == in_code
