"""Background work of the research export (django-tasks; `manage.py db_worker` runs it, tests run it inline)."""

from django_tasks import task


@task()
def build_research_export(job_uuid: str) -> dict:
    from prolotrack.research.services import run_export

    job = run_export(job_uuid)
    return {"job": str(job.uuid), "status": job.status, "patients": job.patient_count}
