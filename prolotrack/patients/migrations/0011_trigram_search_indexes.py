"""Trigram indexes for the patient search, on PostgreSQL only (docs/PERFORMANCE.md, network size).

The search (`patients.queries.search_patients`) matches every word against the family name, the given name (anywhere
in them: Django's `icontains`, which PostgreSQL runs as `UPPER(col::text) LIKE UPPER('%word%')`) and the record
number (`istartswith`). A B-tree cannot serve a LIKE with a leading wildcard, so at 100,000 patients each search read
the whole table; a GIN index of pg_trgm's trigrams on the same `UPPER(col)` expressions serves all three.
pg_trgm ships with PostgreSQL and is a trusted extension (13+): the database owner may create it.

SQLite keeps its path (a scan of the clinic's patients, fast at clinic size): nothing is done there, and the models do
not declare these indexes (a GIN index does not exist on SQLite), so makemigrations never sees them.
"""

from django.db import migrations

COLUMNS = ("family_name", "given_name", "mrn")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS patient_{column}_trgm ON patients_patient "
            f"USING gin (UPPER({column}::text) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS patient_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("patients", "0010_preferred_language")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
