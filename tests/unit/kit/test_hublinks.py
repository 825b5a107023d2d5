"""nbgitpuller links (``python -m helpers links``): every link decodes back to the repository, the branch, the
clone's folder and a notebook that is in the students' copy."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from helpers.cli import main
from helpers.errors import CourseError
from helpers.kit.hublinks import hub_links, nbgitpuller_url, notebook_paths, repo_folder
from helpers.kit.index import collect_entries
from helpers.kit.studentrepo import build_student_repo

HUB = "https://hub.example.org/jupyter/"
REPO = "https://git.example.org/teach/docker-course.git"


@pytest.fixture(scope="module")
def student_copy(tmp_path_factory):
    return build_student_repo(tmp_path_factory.mktemp("copy") / "students").dest


def _decode(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    query = parse_qs(parts.query, strict_parsing=True)
    assert all(len(v) == 1 for v in query.values()), query
    return f"{parts.scheme}://{parts.netloc}{parts.path}", {k: v[0] for k, v in query.items()}


def test_each_link_decodes_to_a_notebook_of_the_students_copy(student_copy):
    """Does every link name the repo, the branch and a notebook that exists in the copy, under the clone's folder?"""
    links = hub_links(HUB, REPO, "term-2027", root=student_copy)
    assert len({link.url for link in links}) == len(links)
    for link in links:
        endpoint, query = _decode(link.url)
        assert endpoint == "https://hub.example.org/jupyter/hub/user-redirect/git-pull"
        assert query["repo"] == REPO and query["branch"] == "term-2027"
        assert query["targetpath"] == "docker-course"
        urlpath = query["urlpath"]
        assert urlpath.startswith("lab/tree/docker-course/"), urlpath
        path = unquote(urlpath.removeprefix("lab/tree/docker-course/"))
        assert path == link.path and (student_copy / path).is_file(), path


def test_links_cover_the_index_lessons_and_released_labs(student_copy):
    """Is there one link per notebook the index lists (lessons and released labs), plus the index itself?"""
    paths = [p for p, _title, _kind in notebook_paths(student_copy)]
    entries = collect_entries(student_copy)
    assert paths[0] == "notebooks/00-index.ipynb" and len(paths) == len(entries) + 1
    assert sum(p.startswith("release/") for p in paths) == sum(e.kind == "lab" for e in entries) > 0
    assert sum(p.startswith("notebooks/") for p in paths[1:]) == sum(e.kind == "lesson" for e in entries) > 0


def test_a_path_with_spaces_and_odd_characters_round_trips():
    """Is the notebook path a URL path inside an encoded query value (encoded twice, decoded twice)?"""
    path = "notebooks/extra lab #2 & more?.ipynb"
    _endpoint, query = _decode(nbgitpuller_url("http://localhost:8000", "https://github.com/o/r/", path))
    assert "#" not in query["urlpath"] and " " not in query["urlpath"] and "?" not in query["urlpath"]
    assert unquote(query["urlpath"]) == f"lab/tree/r/{path}"
    assert query["repo"] == "https://github.com/o/r" and query["branch"] == "main"


@pytest.mark.parametrize(
    ("repo", "folder"),
    [
        ("https://github.com/o/course", "course"),
        ("https://github.com/o/course.git", "course"),
        ("https://gitlab.example.org/group/sub/course-2027/", "course-2027"),
    ],
)
def test_repo_folder_is_what_git_clone_names_it(repo, folder):
    assert repo_folder(repo) == folder


@pytest.mark.parametrize(
    ("hub", "repo", "branch", "said"),
    [
        ("hub.example.org", REPO, "main", "hub"),
        ("ftp://hub.example.org", REPO, "main", "hub"),
        ("https://hub.example.org/?next=x", REPO, "main", "hub"),
        (HUB, "git@github.com:o/r.git", "main", "repo"),
        (HUB, "https://github.com/", "main", "repo"),
        (HUB, REPO, "", "branch"),
        (HUB, REPO, "my branch", "branch"),
    ],
)
def test_bad_input_is_a_course_error_with_a_hint(hub, repo, branch, said):
    with pytest.raises(CourseError) as e:
        nbgitpuller_url(hub, repo, "notebooks/00-index.ipynb", branch)
    assert e.value.message.startswith(said) and e.value.hint


def test_the_command_prints_one_line_per_notebook(capsys):
    """Does ``python -m helpers links`` print one path and link per notebook, and refuse a bad hub with exit 2?"""
    assert main(["links", "--hub", HUB, "--repo", REPO]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split("\t")[0] for ln in lines] == [p for p, _t, _k in notebook_paths()]
    assert main(["links", "--hub", "hub.example.org", "--repo", REPO]) == 2
    err = capsys.readouterr().err
    assert "not an http(s) URL" in err and "->" in err
    assert main(["links", "--hub", HUB, "--repo", REPO, "--markdown"]) == 0
    assert all(ln.startswith("- [") and "git-pull?" in ln for ln in capsys.readouterr().out.splitlines())
