"""The HTTP API."""

from __future__ import annotations

import logging
import time
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel, Field

from . import __version__
from .config import Settings
from .db import Store
from .logs import log, setup_logging
from .stats import inventory_stats


class ItemIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    price: float = Field(ge=0)
    quantity: int = Field(default=0, ge=0)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    logger = setup_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.store = Store(settings)
        log(logger, logging.INFO, "started", backend=settings.backend, port=settings.port, version=__version__)
        yield
        # Runs on SIGTERM (docker stop): finish in-flight requests, then close the database.
        app.state.store.close()
        log(logger, logging.INFO, "stopped", reason="shutdown")

    app = FastAPI(title="sample-api", version=__version__, lifespan=lifespan)

    @app.middleware("http")
    async def access_log(request: Request, call_next):
        start = time.perf_counter()
        response = await call_next(request)
        log(
            logger,
            logging.INFO,
            "request",
            method=request.method,
            path=request.url.path,
            status=response.status_code,
            ms=round((time.perf_counter() - start) * 1000, 2),
        )
        return response

    @app.get("/")
    def root() -> dict:
        return {"message": settings.greeting, "version": __version__}

    @app.get("/health")
    def health() -> dict:
        try:
            app.state.store.ping()
        except Exception as e:  # any database failure makes us unhealthy
            raise HTTPException(status_code=503, detail=f"database unavailable: {e}") from e
        return {"status": "ok", "backend": settings.backend, "version": __version__}

    @app.get("/items")
    def list_items() -> list[dict]:
        return [i.__dict__ for i in app.state.store.list()]

    @app.post("/items", status_code=201)
    def add_item(item: ItemIn) -> dict:
        return app.state.store.add(item.name, item.price, item.quantity).__dict__

    @app.get("/items/{item_id}")
    def get_item(item_id: int) -> dict:
        item = app.state.store.get(item_id)
        if item is None:
            raise HTTPException(status_code=404, detail=f"item {item_id} not found")
        return item.__dict__

    @app.delete("/items/{item_id}", status_code=204)
    def delete_item(item_id: int) -> None:
        if not app.state.store.delete(item_id):
            raise HTTPException(status_code=404, detail=f"item {item_id} not found")

    @app.get("/stats")
    def stats() -> dict:
        return inventory_stats(app.state.store.list())

    return app


app = create_app()
