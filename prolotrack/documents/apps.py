from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "prolotrack.documents"
    label = "documents"

    def ready(self) -> None:
        from prolotrack.documents import services
        from prolotrack.treatment import hooks as treatment_hooks

        # A signed session (treatment, a layer below) gets its visit summary once the signature is committed.
        treatment_hooks.session_signed.listen(services.queue_visit_summary)
