"""`python -m app`: serve on 0.0.0.0:$PORT with uvicorn (stops gracefully on SIGTERM)."""

import uvicorn

from .config import Settings

settings = Settings.from_env()
uvicorn.run(
    "app.main:app", host="0.0.0.0", port=settings.port, log_config=None, access_log=False, timeout_graceful_shutdown=10
)
