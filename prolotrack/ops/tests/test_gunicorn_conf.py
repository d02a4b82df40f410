"""The web server's settings (prolotrack/ops/gunicorn_conf.py): workers from the cores unless set."""

import pytest

from prolotrack.ops import gunicorn_conf


def test_gunicorn_workers_follow_the_cores_unless_set():
    assert gunicorn_conf.web_workers({}, cpus=2) == 5
    assert gunicorn_conf.web_workers({}, cpus=8) == 17
    assert gunicorn_conf.web_workers({"PROLOTRACK_WEB_WORKERS": "3"}, cpus=8) == 3
    assert gunicorn_conf.web_threads({}) == 2
    assert gunicorn_conf.web_threads({"PROLOTRACK_WEB_THREADS": "4"}) == 4
    for bad in ("0", "-1", "two", "1.5"):
        with pytest.raises(SystemExit, match="PROLOTRACK_WEB_WORKERS must be a whole number"):
            gunicorn_conf.web_workers({"PROLOTRACK_WEB_WORKERS": bad})
