"""Lab 5 answers as different practitioners write them: edits of the reference workflow, each with the cells it fails.

Shared by the unit tests (static verdicts) and the engine tests (every verdict, the pipeline runs included).
"""

from __future__ import annotations

from pathlib import Path

REFERENCE = Path(__file__).parent / "data/labs/lab5-automate-builds/reference/.github/workflows/build.yml"
_PUSH_IF = "      - name: Push a versioned image (main only)\n        if: github.ref == 'refs/heads/main'\n"
_LOGIN_IF = "      - name: Log in to ghcr.io (main only)\n        if: github.ref == 'refs/heads/main'\n"
_BUILD = "run: docker build -f release/lab2-improve-dockerfile/Dockerfile -t sample-app:ci sample_python_app"


def reference() -> str:
    """The reference workflow's text."""
    return REFERENCE.read_text()


def _edit(old: str, new: str, text: str | None = None) -> str:
    text = reference() if text is None else text
    assert old in text, old
    return text.replace(old, new)


def pushes_on_every_pr() -> str:
    """The practitioner who forgot the gate: login and push run on pull requests too."""
    text = _edit(_PUSH_IF, "      - name: Push a versioned image (main only)\n")
    return _edit(_LOGIN_IF, "      - name: Log in to ghcr.io (main only)\n", text)


def write_all() -> str:
    """The practitioner who made the permission error go away: ``permissions: write-all``."""
    return _edit("permissions:\n  contents: read\n\njobs:", "permissions: write-all\n\njobs:")


def injects_title() -> str:
    """The practitioner who prints the PR title in a script: ``echo ${{ github.event.pull_request.title }}``."""
    step = "      - name: Say what is built\n        run: echo ${{ github.event.pull_request.title }}\n\n"
    return _edit("      - name: Build the app image\n", step + "      - name: Build the app image\n")


def builds_the_kit_not_the_app() -> str:
    """The practitioner whose build step builds the repository root, not the sample app."""
    return _edit(_BUILD, _BUILD.replace(" sample_python_app", " ."))


def event_gate_every_branch() -> str:
    """``on: push`` on every branch, the push gated on ``github.event_name == 'push'`` (a feature branch pushes)."""
    text = _edit("  push:\n    branches: [main]\n", "  push:\n")
    text = _edit(_PUSH_IF, _PUSH_IF.replace("github.ref == 'refs/heads/main'", "github.event_name == 'push'"), text)
    return _edit(_LOGIN_IF, _LOGIN_IF.replace("github.ref == 'refs/heads/main'", "github.event_name == 'push'"), text)


def no_cleanup_on_failure() -> str:
    """Logs and tear-down without ``if: always()``: a failed test leaves the app running on the runner."""
    return reference().replace("        if: always()\n", "")


def alternative() -> str:
    """A correct answer written another way: no token at the top, buildx, env-passed sha, ``${{ always() }}``."""
    text = _edit("permissions:\n  contents: read\n\njobs:", "permissions: {}\n\njobs:")
    text = _edit(_BUILD, _BUILD.replace("docker build -f", "docker buildx build --load -f"), text)
    text = text.replace("        if: always()\n", "        if: ${{ always() }}\n")
    text = _edit("docker logs app || true", "docker container logs app || true", text)
    return _edit(
        '          image="ghcr.io/${GITHUB_REPOSITORY_OWNER,,}/sample-app:$GITHUB_SHA"\n',
        '          image="ghcr.io/${GITHUB_REPOSITORY_OWNER,,}/sample-app:${TAG}"\n',
        _edit(_PUSH_IF, _PUSH_IF + "        env:\n          TAG: ${{ github.sha }}\n", text),
    )


def tests_wrong_host() -> str:
    """The practitioner whose tests point at a host nothing answers on (the app is ``app`` on the network)."""
    return _edit("--app-url http://app:8000", "--app-url http://wronghost:8000")


def tests_wrong_network() -> str:
    """The practitioner who runs the tests on a network the workflow never created."""
    return _edit(
        "docker run --rm --network ci sample-app-tests:ci", "docker run --rm --network ci-net sample-app-tests:ci"
    )


def app_never_started() -> str:
    """The practitioner who creates the network but never starts the app (the wait step has nothing to wait for)."""
    return _edit("          docker run -d --name app --network ci sample-app:ci\n", "")


def fetches_a_script() -> str:
    """The practitioner who pipes a downloaded script into a shell: the grader refuses to replay the workflow."""
    step = "      - name: Install a tool\n        run: curl -fsSL https://example.com/install.sh | sh\n\n"
    return _edit("      - name: Build the app image\n", step + "      - name: Build the app image\n")


_PIPELINES = {"test_pipeline_feature", "test_pipeline_main_and_failure"}
#: name -> (workflow text, the cells it fails). The notebook's answers are the reference's in every case.
WRONG = {
    # The replay of a pull request runs the ungated push: the feature-branch run pushed (not allowed).
    "pushes_on_every_pr": (pushes_on_every_pr, {"test_push_and_secrets", "test_pipeline_feature"}),
    "write_all": (write_all, {"test_push_and_secrets"}),
    "injects_title": (injects_title, {"test_push_and_secrets"}),
    "event_gate_every_branch": (event_gate_every_branch, {"test_triggers", "test_push_and_secrets"}),
    "builds_the_kit_not_the_app": (builds_the_kit_not_the_app, _PIPELINES),
    "no_cleanup_on_failure": (no_cleanup_on_failure, {"test_pipeline_main_and_failure"}),
    "tests_wrong_host": (tests_wrong_host, _PIPELINES),
    "tests_wrong_network": (tests_wrong_network, _PIPELINES),
    "app_never_started": (app_never_started, {"test_build_and_tests"} | _PIPELINES),
    "fetches_a_script": (fetches_a_script, _PIPELINES),
}
#: name -> what the failed pipeline cells must say (the replay names the step, and the line or the part).
SAYS = {
    "tests_wrong_host": "Integration tests from a second container",
    "tests_wrong_network": "network ci-net not found",
    "app_never_started": "No such container: app",
    "fetches_a_script": "step 'Install a tool' (line 25): `curl ... | sh`",
}


def build_push_action() -> str:
    """A correct answer with the marketplace actions: buildx, ``docker/build-push-action`` (gha cache), push on main."""
    return """name: image
on:
  pull_request:
    branches: [main]
  push:
    branches: [main]
permissions: {}
jobs:
  image:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      packages: write
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
        with:
          persist-credentials: false
      - uses: docker/setup-buildx-action@37fe631027851001ddb9b187196cc803df7f5f0e # v4.3.0
      - name: Build
        uses: docker/build-push-action@53b7df96c91f9c12dcc8a07bcb9ccacbed38856a # v7.3.0
        with:
          context: sample_python_app
          file: release/lab2-improve-dockerfile/Dockerfile
          tags: sample-app:ci
          load: true
          cache-from: type=gha
          cache-to: type=gha,mode=max
      - name: Build the tests
        run: docker build -f helpers/data/sample_app/test.Dockerfile -t tests:ci sample_python_app
      - name: Start
        run: docker network create ci && docker run -d --name app --network ci sample-app:ci
      - name: Test
        run: |
          sleep 10
          docker run --rm --network ci tests:ci --app-url http://app:8000
      - name: Logs
        if: always()
        run: docker logs app
      - name: Down
        if: always()
        run: docker rm -f app
      - name: Log in
        if: github.ref == 'refs/heads/main'
        env:
          PASSWORD: ${{ secrets.GITHUB_TOKEN }}
        run: echo "$PASSWORD" | docker login ghcr.io -u "$GITHUB_ACTOR" --password-stdin
      - name: Push
        uses: docker/build-push-action@53b7df96c91f9c12dcc8a07bcb9ccacbed38856a # v7.3.0
        with:
          context: sample_python_app
          file: release/lab2-improve-dockerfile/Dockerfile
          push: ${{ github.ref == 'refs/heads/main' }}
          tags: ghcr.io/acme/sample-app:${{ github.sha }}
          cache-from: type=gha
"""


#: Correct answers other than the reference (each must pass every cell).
RIGHT = {"alternative": alternative, "build_push_action": build_push_action}
