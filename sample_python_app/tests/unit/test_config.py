"""Configuration is read from the environment and checked."""

import pytest
from app.config import Settings


def test_defaults():
    s = Settings.from_env({})
    assert (s.port, s.log_level, s.backend) == (8000, "INFO", "sqlite")


def test_values_from_env():
    s = Settings.from_env({"PORT": "9000", "LOG_LEVEL": "debug", "DATABASE_URL": "postgresql://u:p@db/x"})
    assert (s.port, s.log_level, s.backend) == (9000, "DEBUG", "postgresql")


@pytest.mark.parametrize("env", [{"PORT": "http"}, {"PORT": "70000"}, {"LOG_LEVEL": "LOUD"}])
def test_bad_values_are_refused(env):
    with pytest.raises(ValueError):
        Settings.from_env(env)
