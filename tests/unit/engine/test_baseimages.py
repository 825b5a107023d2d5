"""Unit tests for helpers.engine.baseimages' Dockerfile reading: right answers, in linear time on hostile text."""

from __future__ import annotations

import time

import pytest

from helpers.engine.baseimages import official_arg_defaults

N = 64 * 1024


def test_arg_defaults_naming_official_images():
    """Are ARGs defaulting to an official Python image found (indented, quoted, -bookworm), and others not?"""
    text = (
        "ARG BASE_IMAGE=python:3.12-slim\n"
        '  arg BUILDER="python:3.12"\n'
        "ARG OTHER=python:3.12-slim-bookworm\n"
        "ARG NOPE=debian:bookworm\n"
        "RUN echo ARG X=python:3.12\n"
        "ARG\n"
        "ARG EMPTY=\n"
    )
    assert official_arg_defaults(text) == {"BASE_IMAGE": "slim", "BUILDER": "full", "OTHER": "slim"}


@pytest.mark.parametrize(
    "text",
    [
        "\n" * N,
        " \n" * (N // 2),
        " " * N,
        "\t\n\r" * (N // 3),
        "ARG " * (N // 4),
        "ARG " + "A" * N,
        "\nARG " * (N // 5),
    ],
    ids=["newlines", "blank-lines", "spaces", "mixed", "arg-words", "long-name", "arg-lines"],
)
def test_arg_parsing_is_linear(text: str):
    """Does reading 64 KB of hostile whitespace or ARG lines take well under a second (was ~40 s)?"""
    start = time.perf_counter()
    official_arg_defaults(text + "ARG B=python:3.12\n")
    assert time.perf_counter() - start < 0.5
