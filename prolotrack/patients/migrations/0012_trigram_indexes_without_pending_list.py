"""The trigram indexes of the patient search (0011) without GIN's pending list, on PostgreSQL only
(docs/PERFORMANCE.md, "Patient search on PostgreSQL: the pending list").

A GIN index with `fastupdate` on (PostgreSQL's default) puts new entries in an unsorted pending list, merged into the
index only by VACUUM (autovacuum) or when the list passes `gin_pending_list_limit` (4 MB): every search reads the
whole list. After the bench loaded 25,000 patients the list held all of them (420 pages), each trigram index scan
took 15-17 ms, and the planner, rightly, read the whole table instead (22-54 ms); after a VACUUM the same search took
0.6 ms through the indexes. With `fastupdate` off each registration updates the indexes at once (a few more index
writes per new patient, a rare write); the list there now is merged first.
"""

from django.db import migrations

INDEXES = ("patient_family_name_trgm", "patient_given_name_trgm", "patient_mrn_trgm")


def fastupdate_off(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in INDEXES:
        schema_editor.execute(f"ALTER INDEX {index} SET (fastupdate = off)")
        schema_editor.execute(f"SELECT gin_clean_pending_list('{index}'::regclass)")


def fastupdate_on(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in INDEXES:
        schema_editor.execute(f"ALTER INDEX {index} RESET (fastupdate)")


class Migration(migrations.Migration):
    dependencies = [("patients", "0011_trigram_search_indexes")]

    operations = [migrations.RunPython(fastupdate_off, fastupdate_on, elidable=False)]
