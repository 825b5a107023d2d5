"""The sample app's Compose stack: its images, and a smoke test of the running app.

Kept apart from :mod:`helpers.ci.compose` (which runs any stack) because this is about one stack:
sample_python_app on PostgreSQL. It builds the app image, uses the official PostgreSQL image when it
can (else builds one from Debian packages, for offline classrooms), and checks the app over HTTP.
"""

from __future__ import annotations

from typing import Any

from helpers.engine.baseimages import base_image
from helpers.engine.client import ROLE_LABEL, SESSION_LABEL, get_client
from helpers.images.build import build
from helpers.kit.sampleapp import reference_path, sample_image
from helpers.paths import DATA_DIR, course_root

__all__ = ["prepare_sample_images", "smoke_test"]


def prepare_sample_images(client: Any = None) -> dict[str, str]:
    """Build the app image; use the official PostgreSQL image, or build one from Debian packages.

    Args:
        client: Docker client (connects lazily when None).

    The app image is built from Lab 2's reference Dockerfile; in the students' copy it is the student's own
    ``sample-api:optimized`` (:func:`helpers.kit.sampleapp.sample_image`).

    Returns:
        The variables to pass to :class:`helpers.ci.compose.ComposeStack` (APP_IMAGE, DB_IMAGE).

    Raises:
        SampleImageMissing: The students' copy, and the student has not built ``sample-api:optimized`` yet.
    """
    c = get_client(client)
    data = DATA_DIR
    shared = {SESSION_LABEL: "shared", ROLE_LABEL: "compose"}  # reused across sessions; `cleanup()` removes them
    app, db = "course-kit/sample-app:compose", "course-kit/postgres:15-bookworm"
    reference = reference_path("optimized")
    if reference is None:  # the students' copy: the image they built from their Lab 2 Dockerfile
        app = sample_image("optimized", client=c)
    else:
        build(course_root() / "sample_python_app", dockerfile=reference, tags=[app], labels=shared, client=c)
    official = _official_postgres(c)
    if official:
        return {"APP_IMAGE": app, "DB_IMAGE": official}
    build(data / "postgres", tags=[db], build_args={"BASE_IMAGE": base_image("debian", c)}, labels=shared, client=c)
    return {"APP_IMAGE": app, "DB_IMAGE": db}


def _official_postgres(client: Any, ref: str = "postgres:15") -> str:
    """The official image when the engine has it or a registry serves it, else ""."""
    from docker.errors import APIError, ImageNotFound

    try:
        client.images.get(ref)
        return ref
    except ImageNotFound:
        pass
    try:
        client.images.pull(ref)
        return ref
    except APIError:
        return ""


def smoke_test(base_url: str, item_name: str = "compose-check") -> list[tuple[str, bool, str]]:
    """Check the running sample app: healthy on PostgreSQL, can write and read an item.

    Args:
        base_url: Where the app answers (``http://127.0.0.1:8080``).
        item_name: Name of the item written and read back.

    Returns:
        (check, passed, detail) for each check.
    """
    import requests

    out: list[tuple[str, bool, str]] = []
    try:
        health = requests.get(f"{base_url}/health", timeout=5)
        body = health.json()
        out.append(("health", health.status_code == 200, f"HTTP {health.status_code}, backend {body.get('backend')}"))
        out.append(("postgresql backend", body.get("backend") == "postgresql", f"backend {body.get('backend')!r}"))
        created = requests.post(f"{base_url}/items", json={"name": item_name, "price": 1.0, "quantity": 1}, timeout=5)
        out.append(("write an item", created.status_code == 201, f"HTTP {created.status_code}"))
        names = [i["name"] for i in requests.get(f"{base_url}/items", timeout=5).json()]
        out.append(("read it back", item_name in names, f"{len(names)} item(s) stored"))
    except (requests.RequestException, ValueError) as e:
        out.append(("reach the app", False, f"{type(e).__name__}: {e}"[:120]))
    return out
