"""Pure logic of helpers.images.inspect: facts from `docker inspect` / `docker history` JSON."""

from __future__ import annotations

from helpers.images.inspect import facts_from_attrs, layers_frame, secret_like_env

ATTRS = {
    "Id": "sha256:abc",
    "RepoTags": ["sample-api:optimized"],
    "Size": 289_300_000,
    "RootFS": {"Layers": ["l1", "l2", "l3"]},
    "Config": {
        "User": "app",
        "WorkingDir": "/app",
        "Entrypoint": None,
        "Cmd": ["python", "-m", "app"],
        "ExposedPorts": {"8000/tcp": {}},
        "Env": ["PATH=/opt/venv/bin:/usr/bin", "PORT=8000", "API_TOKEN=s3cret", "EMPTY_PASSWORD="],
        "Healthcheck": {"Test": ["CMD", "python", "-c", "ping"]},
        "Labels": {"a": "b"},
    },
}
HISTORY = [  # newest first, as the engine returns it
    {"CreatedBy": 'CMD ["python" "-m" "app"]', "Size": 0},
    {"CreatedBy": "RUN |2 BUILDER_IMAGE=x BASE_IMAGE=y /bin/sh -c apt-get install libpq5", "Size": 9_000_000},
    {"CreatedBy": "", "Size": 113_000_000},
]


def test_facts_from_attrs_reads_every_field():
    """Are user, workdir, command, ports, env, healthcheck and layers read from the engine's JSON?"""
    f = facts_from_attrs(ATTRS, HISTORY)
    assert f.ref == "sample-api:optimized"
    assert (f.user, f.workdir, f.command, f.exposed_ports) == ("app", "/app", ["python", "-m", "app"], ["8000/tcp"])
    assert f.env["PORT"] == "8000" and f.healthcheck[0] == "CMD"
    assert f.fs_layers == 3 and [layer.size for layer in f.layers] == [113_000_000, 9_000_000, 0]
    assert f.size_mb == 289.3
    assert not f.runs_as_root and f.exec_form


def test_shell_form_and_root_are_detected():
    """Is a shell-form CMD (/bin/sh -c) reported as not exec form, and a missing USER as root?"""
    attrs = {**ATTRS, "Config": {**ATTRS["Config"], "User": "", "Cmd": ["/bin/sh", "-c", "python -m app"]}}
    f = facts_from_attrs(attrs, HISTORY)
    assert f.runs_as_root and not f.exec_form
    assert facts_from_attrs({**attrs, "Config": {**attrs["Config"], "User": "0:0"}}, []).runs_as_root


def test_healthcheck_none_counts_as_absent():
    """Does `HEALTHCHECK NONE` count as no healthcheck?"""
    attrs = {**ATTRS, "Config": {**ATTRS["Config"], "Healthcheck": {"Test": ["NONE"]}}}
    assert facts_from_attrs(attrs, []).healthcheck == []


def test_secret_like_env_names_only_set_secrets():
    """Are set variables named like secrets reported, and empty or harmless ones not?"""
    assert secret_like_env(facts_from_attrs(ATTRS, HISTORY)) == ["API_TOKEN"]


def test_layers_frame_shortens_build_args_and_shell_prefix():
    """Does the layers table read like the Dockerfile (RUN ..., no `|2 ARG=...` or `/bin/sh -c`)?"""
    df = layers_frame(facts_from_attrs(ATTRS, HISTORY))
    assert df["created_by"].iloc[1] == "RUN apt-get install libpq5"
    assert df["empty"].tolist() == [False, False, True]


def test_plots_draw_measured_values_and_skip_missing_ones():
    """Do the plots return their Axes, one bar per value, and skip a NaN (not measured) build time?"""
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    from helpers.images.buildmodel import BuildResult, BuildStep
    from helpers.images.plots import plot_build_steps, plot_build_times, plot_image_sizes, plot_layer_sizes

    sizes = pd.DataFrame({"size_mb": [878.9, 289.3]}, index=["naive", "optimized"])
    ax = plot_image_sizes(sizes)
    assert [round(b.get_width(), 1) for b in ax.patches] == [878.9, 289.3]
    times = pd.DataFrame({"cold_s": [30.0, 20.0], "dependency_change_s": [float("nan"), 8.0]}, index=["a", "b"])
    ax = plot_build_times(times)
    assert len(ax.patches) == 4 and len(ax.texts) == 3
    assert plot_layer_sizes(facts_from_attrs(ATTRS, HISTORY)).get_title().startswith("Layers of sample-api")
    r = BuildResult(
        "i",
        [],
        3.0,
        "x",
        [BuildStep(1, "FROM x", False, 0), BuildStep(2, "RUN a", True, 0.0), BuildStep(3, "COPY b", False, 1.5)],
    )
    ax = plot_build_steps(r)
    assert len(ax.patches) == 2 and "1 cached" in ax.get_title()


def test_layers_frame_drops_only_well_formed_build_args():
    """Are `|N NAME=value ` build args dropped (values may hold `=`), and a malformed list kept as written?"""
    history = [
        {"CreatedBy": "RUN |2 A=x=y B= /bin/sh -c make", "Size": 1},
        {"CreatedBy": "RUN |1 =x /bin/sh -c make", "Size": 1},
    ]
    df = layers_frame(facts_from_attrs(ATTRS, history))
    assert df["created_by"].tolist() == ["RUN |1 =x /bin/sh -c make", "RUN make"]
