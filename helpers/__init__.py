"""Docker for CI/CD practitioners: the course kit's helpers (import from here in notebooks)."""

from . import labcheck, sampleapp
from .build import BuildResult, BuildStep, build
from .engine import engine_available, get_client
from .errors import (BuildError, ContainerError, CourseError, DockerfileError, EngineUnavailable, HealthTimeout,
                     ImageNotFound, PortInUse)
from .images import ImageFacts, compare_images, inspect_image, layers_frame, secret_like_env
from .plots import plot_build_steps, plot_build_times, plot_image_sizes, plot_layer_sizes
from .run import RunningContainer, run_container
from .sampleapp import build_sample_image
from .widgets import BuildProgress

__all__ = [
    # engine, build, errors
    "engine_available", "get_client", "build", "BuildResult", "BuildStep",
    "CourseError", "EngineUnavailable", "BuildError", "DockerfileError", "ImageNotFound",
    "ContainerError", "HealthTimeout", "PortInUse",
    # run, images, plots, widgets, sample app, lab checks (issue 3)
    "run_container", "RunningContainer", "inspect_image", "ImageFacts", "compare_images", "layers_frame",
    "secret_like_env", "plot_image_sizes", "plot_build_times", "plot_layer_sizes", "plot_build_steps",
    "BuildProgress", "build_sample_image", "sampleapp", "labcheck",
]
