from django.db import migrations, models
from django.utils.text import slugify


def fill_slugs(apps, schema_editor):
    # Existing clinics get a slug from their name, unique among them (the model's own rule, written out here
    # because a migration must not import today's model code).
    Clinic = apps.get_model("clinics", "Clinic")
    taken = set()
    for clinic in Clinic.objects.order_by("id"):
        base = slugify(clinic.name)[:50].strip("-") or "clinic"
        slug, number = base, 1
        while slug in taken:
            number += 1
            slug = f"{base}-{number}"
        taken.add(slug)
        clinic.slug = slug
        clinic.save(update_fields=["slug"])


class Migration(migrations.Migration):
    dependencies = [
        ("clinics", "0004_membership_npi"),
    ]

    operations = [
        migrations.AddField(
            model_name="clinic",
            name="slug",
            field=models.SlugField(blank=True, max_length=60, default="", db_index=False),
            preserve_default=False,
        ),
        migrations.RunPython(fill_slugs, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="clinic",
            name="slug",
            field=models.SlugField(blank=True, max_length=60, unique=True),
        ),
    ]
