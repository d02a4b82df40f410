"""API tokens get scopes (read, write, export), an expiry and who revoked them.

Tokens made before this could do everything their role allows, for ever. They keep every scope, so no running
integration breaks on upgrade, and expire 90 days after the upgrade (the default lifetime of a new token), so each is
replaced by a token with the scopes it needs before then (docs/SECURITY.md, "API tokens")."""

from datetime import timedelta

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

UPGRADE_LIFETIME = timedelta(days=90)


def give_existing_tokens_scopes_and_expiry(apps, schema_editor):  # type: ignore[no-untyped-def]
    ApiToken = apps.get_model("clinics", "ApiToken")
    ApiToken.objects.filter(expires_at__isnull=True).update(
        scopes="read write export", expires_at=timezone.now() + UPGRADE_LIFETIME
    )


class Migration(migrations.Migration):
    dependencies = [
        ("clinics", "0002_idempotency_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="scopes",
            field=models.CharField(default="read", max_length=40),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="revoked_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(give_existing_tokens_scopes_and_expiry, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(),
        ),
    ]
