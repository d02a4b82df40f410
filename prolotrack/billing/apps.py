from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "prolotrack.billing"
    label = "billing"

    def ready(self) -> None:
        from prolotrack.billing import queries, services
        from prolotrack.treatment import hooks as treatment_hooks

        # The signing gate (treatment, a layer below) asks whether the course's Medicare ABN allows signing.
        treatment_hooks.abn_blockers.provide(queries.abn_blockers)
        # A signed session (treatment, a layer below) gets its draft invoice once the signature is committed.
        treatment_hooks.session_signed.listen(services.draft_invoice_for_session)
