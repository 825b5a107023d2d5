"""Sample items service for the Docker course."""

__version__ = "1.0.0"
