"""Every app with an API keeps its schemas in schemas.py and its router in api.py (docs/ARCHITECTURE.md, "Each app's
files"): a request or response schema declared in api.py is a second place to look for the API's shapes."""

import ast
import json
from pathlib import Path
from typing import Any

import pytest

PRODUCT = Path(__file__).resolve().parent.parent / "prolotrack"
APIS = sorted(PRODUCT.glob("*/api.py"))


def test_the_walk_finds_the_apps_with_an_api() -> None:
    assert {p.parent.name for p in APIS} >= {"patients", "treatment", "outcomes", "messaging", "research", "consent"}


@pytest.mark.parametrize("api", APIS, ids=lambda p: p.parent.name)
def test_an_apps_api_declares_no_schema_and_its_schemas_live_beside_it(api: Path) -> None:
    tree = ast.parse(api.read_text())
    schemas = [
        node.name
        for node in tree.body
        if isinstance(node, ast.ClassDef)
        and any(getattr(base, "id", getattr(base, "attr", "")) == "Schema" for base in node.bases)
    ]
    assert schemas == [], f"{api.parent.name}/api.py declares {schemas}: move them to {api.parent.name}/schemas.py"
    assert (api.parent / "schemas.py").exists(), f"{api.parent.name} has an api.py but no schemas.py"


def test_the_openapi_document_names_each_answer_once() -> None:
    """A route's own `openapi_extra` answer under "200" beside the shared error table's 200 wrote the key twice, and
    Swagger UI refused the whole document ("duplicated mapping key")."""
    import orjson

    from prolotrack.api import api

    duplicated: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in items]
        duplicated.extend(key for key in set(keys) if keys.count(key) > 1)
        return dict(items)

    text = orjson.dumps(api.get_openapi_schema(), option=orjson.OPT_NON_STR_KEYS).decode()
    json.loads(text, object_pairs_hook=pairs)
    assert duplicated == []
