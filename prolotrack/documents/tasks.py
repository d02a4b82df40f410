"""Background work of the documents app (django-tasks): render a queued document.

`make run` starts a `db_worker` that runs these; the tests run them inline (ImmediateBackend).
"""

from django_tasks import task

from prolotrack.audit.services import StaleEditError
from prolotrack.documents.models import Document


@task()
def generate_document(document_uuid: str) -> str:
    """Render one queued document and store its PDF; return its status."""
    from prolotrack.documents import services

    document = Document.objects.select_related("clinic", "patient").filter(uuid=document_uuid).first()
    if document is None:
        return "missing"
    try:
        return services.generate(document).status
    except StaleEditError:
        # Someone else (a download) claimed it first and is rendering it.
        return "claimed elsewhere"
