"""The shape of every page and endpoint (docs/ARCHITECTURE.md, "Each app's files"; issue 14).

A view or endpoint is thin: check access, call a query or a service, render. So, read from the source:
- no function in a view or API module is longer than MAX_LINES;
- no view or API module reads the ORM itself (`.objects.`): reads live in the app's queries.py, with their prefetches;
- no view or API module opens a transaction: writes go through the app's services.py, which opens it with the audit row.
A few places are listed below with the reason they stay; the lists must shrink, never grow (a listed count that is now
lower fails too, so the list stays true).
"""

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "prolotrack"
MAX_LINES = 40

# The API's own machinery, not endpoints: bearer-token authentication and idempotency keys.
NOT_ENDPOINTS = {"clinics/api_auth.py", "clinics/api_edge.py"}

# Module -> (ORM reads, transactions opened) still there, with why.
ALLOWED: dict[str, tuple[int, int, str]] = {
    "accounts/views.py": (
        2,
        0,
        "the session key carried over at sign-in and verification: a write for accounts/services.py",
    ),
    "fhir/write_views.py": (1, 0, "the representation re-read after a write, while FHIR PATCH is being added"),
}

# Functions still longer than MAX_LINES, with why.
LONG: dict[str, str] = {}


def view_modules() -> list[Path]:
    """Every module that holds pages or endpoints: views.py, a views/ package, *_views.py, api.py and api_*.py."""
    found = {p for p in PACKAGE.glob("*/*.py") if re.match(r"(views|api)(_\w+)?\.py$|\w+_views\.py$", p.name)}
    found |= {p for p in PACKAGE.glob("*/views/*.py") if p.name != "__init__.py"}
    return sorted(found)


def _name(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def _functions(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """The module's functions and the methods of its classes (a view helper counts as much as the view)."""
    out: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out.append(node)
        elif isinstance(node, ast.ClassDef):
            out += [n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    return out


def _length(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines from the `def` to the end of the body (decorators not counted)."""
    return (node.end_lineno or node.lineno) - node.lineno + 1


def _orm_reads(tree: ast.Module) -> int:
    """Attribute reads of a model manager: `X.objects.…` (and `type(x).objects`)."""
    return sum(
        1
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) and node.value.attr == "objects"
    )


def _transactions(tree: ast.Module) -> int:
    """`transaction.atomic` used as a context manager or decorator."""
    return sum(
        1
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr == "atomic"
        and isinstance(node.value, ast.Name)
        and node.value.id == "transaction"
    )


def test_the_view_modules_are_found() -> None:
    names = {_name(p) for p in view_modules()}
    assert {"treatment/views/session.py", "outcomes/api.py", "fhir/views.py", "patients/views.py"} <= names
    assert len(names) > 30


def test_no_view_or_endpoint_is_longer_than_forty_lines() -> None:
    long = [
        f"{_name(path)}:{node.lineno} {node.name} is {_length(node)} lines"
        for path in view_modules()
        for node in _functions(ast.parse(path.read_text()))
        if _length(node) > MAX_LINES and f"{_name(path)}:{node.name}" not in LONG
    ]
    assert not long, "Split these into named steps (a query, a service, a shaping function in present.py):\n" + (
        "\n".join(long)
    )


def test_every_listed_module_is_a_view_module() -> None:
    names = {_name(p) for p in view_modules()}
    assert set(ALLOWED) <= names and {key.partition(":")[0] for key in LONG} <= names


def test_the_long_list_only_lists_long_functions() -> None:
    lengths = {
        f"{_name(path)}:{node.name}": _length(node)
        for path in view_modules()
        for node in _functions(ast.parse(path.read_text()))
    }
    assert {name: lengths.get(name, 0) > MAX_LINES for name in LONG} == dict.fromkeys(LONG, True)


@pytest.mark.parametrize("path", [p for p in view_modules() if _name(p) not in NOT_ENDPOINTS], ids=_name)
def test_views_read_through_queries_and_write_through_services(path: Path) -> None:
    name = _name(path)
    tree = ast.parse(path.read_text())
    reads, transactions, why = ALLOWED.get(name, (0, 0, ""))
    assert (_orm_reads(tree), _transactions(tree)) == (reads, transactions), (
        f"{name}: move ORM reads into the app's queries.py and transactions into its services.py"
        + (f" (listed: {why})" if why else "")
    )


def test_the_measures_see_what_they_count() -> None:
    sample = ast.parse(
        "from django.db import transaction\n"
        "@require(X)\n"
        "def view(request):\n"
        "    with transaction.atomic():\n"
        "        return Patient.objects.filter(pk=1).first()\n"
    )
    (view,) = _functions(sample)
    assert (_length(view), _orm_reads(sample), _transactions(sample)) == (3, 1, 1)
