"""Configuration from environment variables (twelve-factor style)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment.

    PORT          port to listen on (default 8000)
    LOG_LEVEL     DEBUG, INFO, WARNING, ERROR (default INFO)
    DATA_DIR      where the SQLite database lives (default ./data; mount a volume here)
    DATABASE_URL  postgresql://user:password@host:5432/db to use PostgreSQL instead of SQLite
    APP_GREETING  text returned by GET / (default "hello from sample-api")
    """

    port: int = 8000
    log_level: str = "INFO"
    data_dir: Path = Path("data")
    database_url: str = ""
    greeting: str = "hello from sample-api"

    @property
    def backend(self) -> str:
        return "postgresql" if self.database_url.startswith(("postgres://", "postgresql://")) else "sqlite"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        port = env.get("PORT", "8000")
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"PORT must be a number between 1 and 65535, got {port!r}")
        level = env.get("LOG_LEVEL", "INFO").upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {level!r}")
        return cls(
            port=int(port),
            log_level=level,
            data_dir=Path(env.get("DATA_DIR", "data")),
            database_url=env.get("DATABASE_URL", ""),
            greeting=env.get("APP_GREETING", cls.greeting),
        )
