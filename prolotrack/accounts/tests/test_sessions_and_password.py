"""One's own sessions (listed, ended one by one or all others) and password change, each audited."""

from django.test import Client

from prolotrack.accounts.models import StaffSession
from prolotrack.accounts.services import describe_user_agent
from prolotrack.accounts.testing import mark_verified
from prolotrack.audit.models import AuditEvent

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 "
    "Mobile/15E148 Safari/604.1"
)


def browser(user, agent=FIREFOX, address="10.0.0.7"):
    """A browser of `user` logged in through the log-in page, with its own session, past the second factor."""
    client = Client(HTTP_USER_AGENT=agent, REMOTE_ADDR=address)
    assert (
        client.post("/accounts/login/", {"username": user.username, "password": "correct horse battery"}).status_code
        == 302
    )
    mark_verified(client, user)
    return client


def test_the_sessions_page_lists_ones_own_active_sessions_with_browser_and_address(clinician, colleague):
    office = browser(clinician)
    browser(clinician, SAFARI, "10.0.0.8")
    browser(colleague)
    page = office.get("/accounts/sessions/").content.decode()
    assert "Firefox on Windows" in page and "Safari on iPhone" in page
    assert "10.0.0.7" in page and "10.0.0.8" in page
    assert page.count("this browser") == 1
    assert StaffSession.objects.filter(user=clinician, ended_at__isnull=True).count() == 2


def test_ending_another_session_logs_that_browser_out_and_is_audited(clinician):
    office = browser(clinician)
    phone = browser(clinician, SAFARI)
    assert phone.get("/patients/").status_code == 200
    other = StaffSession.objects.get(user=clinician, user_agent=SAFARI)
    response = office.post("/accounts/sessions/", {"session": other.pk})
    assert response.status_code == 302
    assert phone.get("/patients/")["Location"].startswith("/accounts/login/")
    assert office.get("/patients/").status_code == 200
    other.refresh_from_db()
    assert other.ended_at is not None and other.end_reason == "ended_by_user"
    assert AuditEvent.objects.get(action="auth.session.ended").user == clinician


def test_the_current_session_and_someone_elses_cannot_be_ended_here(clinician, colleague):
    office = browser(clinician)
    theirs = browser(colleague)
    mine = StaffSession.objects.get(user=clinician)
    page = office.post("/accounts/sessions/", {"session": mine.pk}, follow=True).content.decode()
    assert "use Log out" in page
    colleague_session = StaffSession.objects.get(user=colleague)
    page = office.post("/accounts/sessions/", {"session": colleague_session.pk}, follow=True).content.decode()
    assert "already ended" in page
    assert theirs.get("/patients/").status_code == 200
    assert not AuditEvent.objects.filter(action="auth.session.ended").exists()


def test_ending_all_other_sessions_keeps_this_one(clinician):
    office = browser(clinician)
    others = [browser(clinician, SAFARI), browser(clinician, FIREFOX, "10.0.0.9")]
    office.post("/accounts/sessions/", {"end": "others"})
    for client in others:
        assert client.get("/patients/")["Location"].startswith("/accounts/login/")
    assert office.get("/patients/").status_code == 200
    assert AuditEvent.objects.get(action="auth.session.ended_others").detail["count"] == 2


def test_logging_out_marks_the_session_ended(clinician):
    office = browser(clinician)
    office.post("/accounts/logout/")
    row = StaffSession.objects.get(user=clinician)
    assert row.ended_at is not None and row.end_reason == "logged_out"


def test_changing_the_password_needs_the_current_one_follows_the_validators_and_ends_other_sessions(clinician):
    office = browser(clinician)
    phone = browser(clinician, SAFARI)
    wrong = office.post(
        "/accounts/password/",
        {"old_password": "not it", "new_password1": "a much longer passphrase 2026", "new_password2": "a much "
         "longer passphrase 2026"},
    )  # fmt: skip
    assert wrong.status_code == 400 and "old password was entered incorrectly" in wrong.content.decode()
    weak = office.post(
        "/accounts/password/",
        {"old_password": "correct horse battery", "new_password1": "12345678", "new_password2": "12345678"},
    )
    assert weak.status_code == 400 and "too short" in weak.content.decode()
    clinician.refresh_from_db()
    assert clinician.check_password("correct horse battery")
    done = office.post(
        "/accounts/password/",
        {"old_password": "correct horse battery", "new_password1": "a much longer passphrase 2026",
         "new_password2": "a much longer passphrase 2026"},
    )  # fmt: skip
    assert done.status_code == 302
    clinician.refresh_from_db()
    assert clinician.check_password("a much longer passphrase 2026")
    assert office.get("/patients/").status_code == 200
    assert phone.get("/patients/")["Location"].startswith("/accounts/login/")
    assert AuditEvent.objects.get(action="auth.password.changed").detail["other_sessions_ended"] == 1


def test_user_agents_read_as_a_browser_on_a_system():
    assert describe_user_agent(FIREFOX) == "Firefox on Windows"
    assert describe_user_agent(SAFARI) == "Safari on iPhone"
    assert describe_user_agent("") == "Unknown browser"
