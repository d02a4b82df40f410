"""Money is exact: no FloatField on any billing model, no float in any billing schema or module (docs/BILLING.md)."""

import ast
import importlib
from pathlib import Path

from django.apps import apps
from django.db import models

APP = Path(__file__).resolve().parents[1]


def test_no_float_field_on_billing_models() -> None:
    fields = [f"{m.__name__}.{f.name}" for m in apps.get_app_config("billing").get_models() for f in m._meta.fields]
    floats = [
        f"{m.__name__}.{f.name}"
        for m in apps.get_app_config("billing").get_models()
        for f in m._meta.fields
        if isinstance(f, models.FloatField)
    ]
    assert len(fields) > 40 and floats == []
    decimals = {
        f.name
        for m in apps.get_app_config("billing").get_models()
        for f in m._meta.fields
        if isinstance(f, models.DecimalField)
    }
    assert {"price", "amount", "total", "net", "tax", "unit_price", "tax_rate"} <= decimals


def test_no_float_in_billing_schemas() -> None:
    try:
        schemas = importlib.import_module("prolotrack.billing.schemas")
    except ModuleNotFoundError:
        return
    from ninja import Schema

    found = []
    for name, value in vars(schemas).items():
        if isinstance(value, type) and issubclass(value, Schema) and value is not Schema:
            for field_name, info in value.model_fields.items():
                if "float" in repr(info.annotation):
                    found.append(f"{name}.{field_name}")
    assert found == []


def test_no_float_anywhere_in_the_billing_code() -> None:
    found = []
    for path in APP.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Name) and node.id == "float":
                found.append(f"{path.name}:{node.lineno}")
            if isinstance(node, ast.Constant) and isinstance(node.value, float):
                found.append(f"{path.name}:{node.lineno}")
    assert found == []
