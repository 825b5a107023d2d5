"""One error hierarchy for the course kit.

Every error a student or an instructor can see says what happened and what to do
next, in one or two lines. Library errors (docker-py, subprocess, OS) are wrapped
with ``raise ... from e`` so the cause stays available for debugging.
"""

from __future__ import annotations

__all__ = [
    "CourseError",
    "EngineUnavailable",
    "SetupError",
    "BuildError",
    "DockerfileError",
    "ImageNotFound",
    "NotAnImageArchive",
    "ContainerError",
    "HealthTimeout",
    "PortInUse",
    "RegistryError",
    "RegistryAuthError",
    "ToolMissing",
    "AdvisoryError",
    "ScanToolError",
    "SbomToolError",
    "SignatureError",
    "ConfigFileError",
]


class CourseError(Exception):
    """Base class of every error the kit raises on purpose.

    Attributes:
        message: What happened.
        hint: What to do next.
    """

    def __init__(self, message: str, hint: str = "") -> None:
        self.message = message
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"{self.message}\n-> {self.hint}" if self.hint else self.message


class EngineUnavailable(CourseError):
    """No Docker Engine answers."""

    def __init__(self, detail: str = "", hint: str = "") -> None:
        msg = "No Docker Engine answers" + (f" ({detail})." if detail else ".")
        super().__init__(
            msg,
            hint
            or "Run `make lab` (or `python -m helpers env up`) to start one; in Codespaces, "
            "rebuild the container; on a JupyterHub without Docker, use the offline parts of the lab.",
        )


class SetupError(CourseError):
    """Provisioning the lab environment failed."""


class ToolMissing(CourseError):
    """An external tool (hadolint, dive, qemu, ...) is not installed."""

    def __init__(self, tool: str, hint: str = "") -> None:
        self.tool = tool
        super().__init__(f"`{tool}` is not installed.", hint or "Run `make lab` to install the course tools.")


class BuildError(CourseError):
    """An image build failed.

    Attributes:
        step: The Dockerfile step that failed (e.g. ``RUN pip install ...``), if known.
        log_tail: The last lines of the build log.
    """

    def __init__(self, message: str, step: str = "", log_tail: str = "", hint: str = "") -> None:
        self.step = step
        self.log_tail = log_tail
        full = message
        if step:
            full += f"\nFailing step: {step}"
        if log_tail:
            full += "\nLast lines of the build log:\n" + _indent(log_tail)
        super().__init__(full, hint or "Fix the failing step in your Dockerfile and build again.")


class DockerfileError(CourseError):
    """A Dockerfile cannot be read or parsed.

    Attributes:
        line: 1-based line number of the problem, 0 when unknown.
    """

    def __init__(self, message: str, line: int = 0, hint: str = "") -> None:
        self.line = line
        prefix = f"Dockerfile line {line}: " if line else ""
        super().__init__(
            prefix + message, hint or "Check the Dockerfile syntax: https://docs.docker.com/reference/dockerfile/"
        )


class ImageNotFound(CourseError):
    """An image reference does not exist on the engine or in the registry."""

    def __init__(self, image: str, hint: str = "") -> None:
        self.image = image
        super().__init__(
            f"Image {image!r} not found.",
            hint or "Build it first, or check the name with `docker image ls`.",
        )


class NotAnImageArchive(CourseError):
    """A file is not a ``docker save`` / OCI image archive."""

    def __init__(self, path: str, detail: str = "") -> None:
        self.path = path
        super().__init__(
            f"{path} is not an image archive" + (f" ({detail})." if detail else "."),
            "Create one with `docker save IMAGE -o image.tar`, or ask your instructor for the prebuilt archives.",
        )


class ContainerError(CourseError):
    """A container exited or misbehaved.

    Attributes:
        container: Container name or id.
        exit_code: Exit status, or None while it still runs.
        log_tail: The last lines of its logs.
    """

    def __init__(
        self, message: str, container: str = "", exit_code: int | None = None, log_tail: str = "", hint: str = ""
    ) -> None:
        self.container = container
        self.exit_code = exit_code
        self.log_tail = log_tail
        full = message
        if exit_code is not None:
            full += f" (exit code {exit_code})"
        if log_tail:
            full += "\nLast lines of the container log:\n" + _indent(log_tail)
        super().__init__(full, hint or "Read the log above; fix the command or the app and run it again.")


class HealthTimeout(ContainerError):
    """A container did not become healthy (or answer HTTP) in time."""


class PortInUse(CourseError):
    """A host port the kit wants to publish is already taken."""

    def __init__(self, port: int, hint: str = "") -> None:
        self.port = port
        super().__init__(
            f"Port {port} on 127.0.0.1 is already in use.",
            hint or "Stop what uses it (`docker ps`), or pass another port.",
        )


class RegistryError(CourseError):
    """A registry cannot be reached or refused an operation."""


class RegistryAuthError(RegistryError):
    """The registry refused the credentials."""

    def __init__(self, registry: str, hint: str = "") -> None:
        self.registry = registry
        super().__init__(
            f"The registry {registry} refused the user name or password.",
            hint or "Use the credentials from `python -m helpers env status --show-credentials`.",
        )


class ConfigFileError(CourseError):
    """A configuration file (workflow, compose file, manifest) is invalid or unsupported.

    Attributes:
        path: The file (or what it is, when it has no path).
        line: 1-based line number of the problem, 0 when unknown.
    """

    def __init__(self, path: str, message: str, line: int = 0, hint: str = "") -> None:
        self.path = path
        self.line = line
        where = f"{path}, line {line}" if line else path
        super().__init__(f"{where}: {message}.".replace("..", "."), hint or "Fix the file and run again.")


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.rstrip().splitlines())


class AdvisoryError(CourseError):
    """An advisory file or a scanner's output cannot be read."""


class ScanToolError(CourseError):
    """A vulnerability scanner (trivy, grype) failed or printed something unreadable."""

    def __init__(self, tool: str, detail: str, hint: str = "") -> None:
        self.tool = tool
        super().__init__(
            f"The scanner `{tool}` failed: {detail}",
            hint or f"Run `{tool}` by hand to see why, or scan with source='snapshot' (the kit's offline advisories).",
        )


class SbomToolError(CourseError):
    """The SBOM tool (syft) failed, ran too long, or printed something unreadable."""

    def __init__(self, detail: str, hint: str = "") -> None:
        super().__init__(
            f"The SBOM tool `syft` failed: {detail}",
            hint or "Run the command shown by hand to see why, or use the kit's reader: image_sbom(..., tool='kit').",
        )


class SignatureError(CourseError):
    """An image signature is missing, invalid, made with another key, or for other content."""
