"""The workflow replay's reader (no engine): what each step becomes, and every refused form naming its step and part."""

from __future__ import annotations

import pytest
from lab5_variants import RIGHT, SAYS, WRONG, reference

from helpers.ci.expressions import Context, ExpressionRefused, condition, evaluate, substitute
from helpers.ci.replayplan import WAIT, Build, build_from_workflow, first_build, read_plan, run_context
from helpers.ci.workflowfile import load_workflow
from helpers.errors import CourseError
from helpers.paths import course_root
from helpers.shellwords import split_words

SHA = "0123456789abcdef0123456789abcdef01234567"
HEAD = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"


def _plan(text: str, branch: str = "feature/lab5"):
    return read_plan(load_workflow(text), branch, SHA, text=text)


def _one_step(run: str, name: str = "Do it", extra: str = "") -> str:
    body = "\n".join("          " + ln for ln in run.splitlines())
    return HEAD + f"      - uses: actions/checkout@v4\n      - name: {name}\n{extra}        run: |\n{body}\n"


def test_every_correct_answer_and_the_worked_example_read_without_refusal():
    """Do the reference, the alternatives, the corpus's wrong answers (but one) and sample-app.yml read fully?"""
    texts = [reference(), *(f() for f in RIGHT.values())]
    texts += [f() for name, (f, _) in WRONG.items() if name != "fetches_a_script"]
    texts.append((course_root() / ".github/workflows/sample-app.yml").read_text())
    for text in texts:
        for branch in ("feature/lab5", "main"):
            assert _plan(text, branch).refusals == [], text[:80]


def test_reference_steps_become_the_docker_commands_they_name():
    """Are the reference's builds, network, run, health loop, tests, logs and push read as those commands?"""
    plan = _plan(reference(), "main")
    cmds = [c for s in plan.steps for c in s.commands if c.kind != "noop"]
    verbs = [c.verb or c.kind for c in cmds]
    assert verbs == ["build", "build", "network-create", "run", WAIT, "exit", "run", "logs", "rm", "network-rm"] + [
        "login",
        "tag",
        "push",
    ]
    tests = cmds[6]
    assert tests.flag("--network") == "ci" and tests.operands[1:] == ("--app-url", "http://app:8000")
    wait = cmds[4]
    assert wait.operands == ("app",) and wait.ends_step and 0 < wait.seconds <= 90
    push = cmds[-1]
    assert push.operands == (f"ghcr.io/course-student/sample-app:{SHA}",)  # ${GITHUB_REPOSITORY_OWNER,,}, $GITHUB_SHA
    assert reference().splitlines()[push.line - 1].strip() == 'docker push "$image"'


def test_build_push_action_and_metadata_action():
    """Is build-push-action a build (and a push only when `push:` is true), metadata-action's tags computed?"""
    feature = [c for s in _plan(RIGHT["build_push_action"]()).steps for c in s.commands]
    main = [c for s in _plan(RIGHT["build_push_action"](), "main").steps for c in s.commands]
    assert [c.verb for c in feature].count("push") == 0 and [c.verb for c in main].count("push") == 1
    meta = (
        HEAD + "      - id: meta\n        uses: docker/metadata-action@v5\n        with:\n"
        "          images: ghcr.io/acme/app\n          tags: |\n            type=sha\n"
        "            type=ref,event=branch\n            type=ref,event=pr\n"
        "      - uses: docker/build-push-action@v6\n        with:\n          context: sample_python_app\n"
        "          tags: ${{ steps.meta.outputs.tags }}\n          push: ${{ github.event_name == 'push' }}\n"
    )
    build = next(c for s in _plan(meta, "main").steps for c in s.commands if c.verb == "build")
    assert build.values("-t") == [f"ghcr.io/acme/app:sha-{SHA[:7]}", "ghcr.io/acme/app:main"]
    pr = next(c for s in _plan(meta).steps for c in s.commands if c.verb == "build")
    assert pr.values("-t") == [f"ghcr.io/acme/app:sha-{SHA[:7]}", "ghcr.io/acme/app:pr-1"]


REFUSED = {
    "curl https://x | sh": "`curl ... | sh`",
    "apt-get install -y curl": "`apt-get`",
    "docker run -v /:/host sample-app:ci": "docker run -v",
    "docker run --privileged sample-app:ci": "docker run --privileged",
    "docker run --network host sample-app:ci": "--network host",
    "docker compose up -d": "docker compose",
    "docker -H tcp://1.2.3.4:2375 ps": "global options",
    "docker pull alpine": "`docker pull`",
    "docker build --platform linux/s390x -t a sample_python_app": "--platform linux/s390x",
    "docker build -t a:${{ github.event.pull_request.title }} sample_python_app": "github.event.pull_request.title",
    "docker build -t a:$FOO sample_python_app": "`$FOO`",
    'digest=$(docker inspect --format "{{.Id}}" a)': "command substitution",
    "for f in a b; do rm -rf $f; done": "a shell loop that waits for nothing",
    "until curl -fsS http://app:8000/health | sh; do sleep 1; done": "`sh` inside a wait loop",
    "if true; then docker ps; fi": "`if`",
    "bash -c 'docker ps'": "`bash`",
}


@pytest.mark.parametrize("line", sorted(REFUSED))
def test_each_refused_form_names_its_step_line_and_part(line):
    """Does a line outside the allow-list refuse the plan, naming the step, the file's line and the part?"""
    text = _one_step(f"echo start\n{line}", name="Suspicious")
    plan = _plan(text)
    assert len(plan.refusals) == 1, plan.refusals
    said = plan.refusals[0]
    number = text.splitlines().index("          " + line) + 1
    assert f"step 'Suspicious' (line {number})" in said and REFUSED[line] in said, said


def test_the_corpus_script_fetcher_is_refused_by_step_and_line():
    """Is the corpus's `curl ... | sh` refused with the step and the file's line the engine test expects?"""
    assert _plan(WRONG["fetches_a_script"][0]()).refusals[0].startswith(SAYS["fetches_a_script"])


def test_refused_conditions_services_and_with_inputs():
    """Are an unknown `if:` function, a job's services and an unknown expression in `with:` refused by name?"""
    cond = _plan(_one_step("docker ps", extra="        if: contains(github.ref, 'main')\n"))
    assert "contains" in cond.refusals[0] and "step 'Do it'" in cond.refusals[0]
    job = HEAD.replace("    steps:", "    services:\n      db: {image: postgres}\n    steps:")
    services = _plan(job + "      - run: true\n")
    assert "services" in services.refusals[0]
    action = _plan(
        HEAD + "      - name: B\n        uses: docker/build-push-action@v6\n"
        "        with:\n          tags: a:${{ github.event.head_commit.message }}\n"
    )
    assert "step 'B'" in action.refusals[0] and "head_commit" in action.refusals[0]


def test_allowed_forms_and_notes():
    """Are health idioms waits, sleeps capped, unknown actions skipped with a note, env levels in order?"""
    text = (
        "on: push\nenv: {A: wf, B: wf}\njobs:\n  a:\n    env: {B: job, C: job}\n    steps:\n"
        "      - uses: some/action@v1\n"
        "      - env: {C: step}\n        run: |\n          docker build -t x:$A-$B-$C sample_python_app\n"
        "          timeout 60 sh -c 'until curl -fsS http://localhost:8000/health; do sleep 1; done'\n"
        "          sleep 600\n          docker logs app || true\n"
        "          echo ${{ github.event.pull_request.title }}\n"
    )
    plan = _plan(text)
    assert plan.refusals == []
    assert "skipped" in plan.steps[0].notes[0]
    cmds = plan.steps[1].commands
    assert cmds[0].values("-t") == ["x:wf-job-step"]
    assert cmds[1].kind == WAIT and cmds[1].seconds == 60 and cmds[1].operands == ()
    assert cmds[2].kind == "sleep" and cmds[2].seconds <= 30
    assert [c.joiner for c in cmds[3:5]] == [";", "||"] and cmds[4].kind == "noop"


def test_conditions_for_the_graded_branches():
    """Do the lab's conditions hold on main (a push) and not on a feature branch (a pull request)?"""
    main, pr = run_context("main", SHA), run_context("feature/lab5", SHA)
    for cond in ("github.event_name == 'push'", "github.ref == 'refs/heads/main'", "${{ github.ref_name == 'main' }}"):
        assert condition(cond, main) and not condition(cond, pr)
    failed = Context(main.github, failed=True)
    assert condition("always()", failed) and condition("${{ always() }}", failed) and not condition(None, failed)
    assert condition("failure()", failed) and not condition("github.event_name == 'push'", failed)
    assert evaluate("github.event_name != 'push' && 'pr' || 'push'", main) == "push"
    assert substitute("x:${{ github.sha }} ${{ env.A }}", Context(main.github, {"A": "b"})) == f"x:{SHA} b"
    with pytest.raises(ExpressionRefused, match="hashFiles"):
        evaluate("hashFiles('**')", main)


def test_shell_case_expansions():
    """Does ${X,,} lower-case (the reference's ${GITHUB_REPOSITORY_OWNER,,}) and ${X^^} upper-case?"""
    assert split_words("${A,,}/${A^^}", {"A": "AcMe"}, set()) == ["acme/ACME"]


def test_working_directory_shell_and_continue_on_error():
    """Are build paths joined to `working-directory`, a non-shell `shell:` refused, `continue-on-error` kept?"""
    text = HEAD.replace(
        "    steps:", "    defaults:\n      run:\n        working-directory: sample_python_app\n    steps:"
    )
    text += "      - run: docker build -f ../release/Dockerfile -t a .\n        continue-on-error: true\n"
    plan = _plan(text)
    build = plan.steps[0].commands[0]
    assert build.operands == ("sample_python_app",) and build.flag("-f") == "release/Dockerfile"
    assert plan.steps[0].continue_on_error
    python = _plan(HEAD + "      - name: Py\n        shell: python\n        run: print(1)\n")
    assert "step 'Py'" in python.refusals[0] and "shell: python" in python.refusals[0]


def test_the_plan_names_what_the_workflow_builds():
    """Is the plan the one reader of a build: -f, context, tags, build args, labels and target of every build (a
    build-push-action's inputs too), in file order, and (Dockerfile, context) resolved against the repository?"""
    run = "docker build --build-arg X=1 --build-arg Y -t app:ci --label a=b --target rt -f app/prod.Dockerfile app"
    plan = _plan(_one_step(run) + "      - uses: docker/build-push-action@v6\n        with:\n          tags: b:1\n")
    first, second = plan.builds
    assert first == Build("app", "app/prod.Dockerfile", ("app:ci",), {"X": "1", "Y": ""}, {"a": "b"}, "rt", line=9)
    assert second.context == "." and second.dockerfile is None and second.tags == ("b:1",)
    assert first_build(plan) is not None and second.paths(course_root()) == (
        course_root() / "Dockerfile",
        course_root(),
    )
    dockerfile, context = build_from_workflow(course_root() / ".github/workflows/sample-app.yml")
    assert dockerfile == course_root() / "tests/data/labs/lab2-improve-dockerfile/reference/Dockerfile"
    assert dockerfile.is_file() and context == course_root() / "sample_python_app"


def test_default_dockerfile_is_in_the_context(tmp_path):
    """Without -f, is <context>/Dockerfile used, with options that take values skipped?"""
    wf = "on: push\njobs:\n  a:\n    steps:\n      - run: docker build --build-arg X=1 -t app:ci --target rt app\n"
    assert build_from_workflow(wf, root=tmp_path) == (tmp_path / "app/Dockerfile", tmp_path / "app")


def test_workflow_without_build_step_is_refused():
    """Is a workflow with no docker build step a CourseError with a hint, from the plan and from the helper?"""
    with pytest.raises(CourseError, match="docker build"):
        build_from_workflow("on: push\njobs:\n  a:\n    steps:\n      - run: echo hi\n")
    with pytest.raises(CourseError, match="no `docker build") as e:
        first_build(_plan(_one_step("docker ps")))
    assert "sample_python_app" in e.value.hint
