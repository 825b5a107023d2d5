"""Integration tests run against a running container: pass its URL.

pytest tests/integration --app-url http://127.0.0.1:8000
"""

import pytest


def pytest_addoption(parser):
    parser.addoption("--app-url", default=None, help="base URL of the running service (or APP_URL)")


@pytest.fixture(scope="session")
def app_url(request):
    import os

    url = request.config.getoption("--app-url") or os.environ.get("APP_URL")
    if not url:
        raise pytest.UsageError("Give the service URL: --app-url http://HOST:PORT (or set APP_URL).")
    return url.rstrip("/")
