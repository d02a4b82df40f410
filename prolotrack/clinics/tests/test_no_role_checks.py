"""Every access rule is a permission in clinics/roles.py: no code outside it compares roles (docs/ROLES.md).

Walks the syntax of every module of the product (not tests, not migrations) and fails on a comparison that names a
role (`x.role == ...`, `role in ...`, `... == Role.CLINICIAN`, `Role.ADMIN in ...`) or a query that filters on one
(`filter(role=...)`, `memberships__role__in=...` other than `roles_with(Permission.X)`). Ask the table instead: `membership.can(Permission.X)`,
`role_has(role, Permission.X)`, `can(request, Permission.X)`, `roles_with(Permission.X)`, `members_with(...)`.
Naming a role to *give* it (a seeded user, an Actor's identity) is not a check and passes.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2]
ROLES = PACKAGE / "clinics" / "roles.py"
QUERIES = {"filter", "exclude", "get", "get_or_create", "update_or_create"}


def product_modules() -> list[Path]:
    return sorted(
        p
        for p in PACKAGE.rglob("*.py")
        if p != ROLES and "tests" not in p.parts and "migrations" not in p.parts and p.name != "conftest.py"
    )


def _names_a_role(node: ast.AST) -> bool:
    """An expression that is a role: `something.role`, a variable `role`, or `Role.X`."""
    if isinstance(node, ast.Attribute):
        if node.attr == "role":
            return True
        return isinstance(node.value, ast.Name) and node.value.id == "Role"
    return isinstance(node, ast.Name) and node.id == "role"


def _from_the_table(node: ast.AST) -> bool:
    """`roles_with(Permission.X)`: the roles the table gives a permission, the one way to filter members by role."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "roles_with"


def role_checks(source: str) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            if any(_names_a_role(part) for part in [node.left, *node.comparators]):
                found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in QUERIES:
            for keyword in node.keywords:
                parts = (keyword.arg or "").split("__")
                if "role" in parts and not _from_the_table(keyword.value):
                    found.append((node.lineno, f"{node.func.attr}({keyword.arg}=...)"))
    return found


@pytest.mark.parametrize(
    ("code", "flagged"),
    [
        ("membership.role == Role.CLINICIAN", True),
        ("actor.role != Role.CLINICIAN", True),
        ("x = Role.ADMIN in roles", True),
        ("ok = role in allowed", True),
        ("qs.filter(clinic=c, role=Role.NURSE)", True),
        ("User.objects.filter(memberships__role__in=roles)", True),
        ("membership.can(Permission.SESSION_SIGN)", False),
        ("role_has(actor.role, Permission.IMAGING_DECIDE)", False),
        ("Actor(user=u, clinic=c, role=Role.CLINICIAN)", False),
        ("qs.filter(role__in=roles_with(Permission.SESSION_TREAT))", False),
    ],
)
def test_the_walk_knows_a_role_check(code, flagged):
    assert bool(role_checks(code)) is flagged


def test_the_walk_reads_the_product():
    modules = product_modules()
    assert len(modules) > 200
    assert PACKAGE / "core" / "access.py" in modules and ROLES not in modules


def test_no_role_is_compared_outside_the_roles_table():
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {text}"
        for path in product_modules()
        for line, text in role_checks(path.read_text())
    ]
    assert not found, "Role checks outside clinics/roles.py (make them permissions):\n" + "\n".join(found)
