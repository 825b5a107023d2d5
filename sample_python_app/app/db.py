"""Item storage: SQLite in DATA_DIR by default, PostgreSQL when DATABASE_URL is set."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from typing import Any

from .config import Settings


@dataclass
class Item:
    id: int
    name: str
    price: float
    quantity: int


class Store:
    """A tiny repository over DB-API connections (sqlite3 or psycopg2)."""

    def __init__(self, settings: Settings) -> None:
        self.backend = settings.backend
        self._lock = threading.Lock()
        if self.backend == "postgresql":
            import psycopg2  # compiled dependency; imported only when PostgreSQL is used

            self._conn: Any = psycopg2.connect(settings.database_url)
            self._conn.autocommit = True
            self._param = "%s"
            ddl = (
                "CREATE TABLE IF NOT EXISTS items (id SERIAL PRIMARY KEY, name TEXT NOT NULL,"
                " price DOUBLE PRECISION NOT NULL, quantity INTEGER NOT NULL)"
            )
        else:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(settings.data_dir / "items.db", check_same_thread=False, isolation_level=None)
            self._param = "?"
            ddl = (
                "CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,"
                " price REAL NOT NULL, quantity INTEGER NOT NULL)"
            )
        self._execute(ddl)

    def _execute(self, sql: str, params: tuple = ()) -> Any:
        with self._lock:
            cur = self._conn.cursor()
            cur.execute(sql.replace("?", self._param), params)
            return cur

    def ping(self) -> bool:
        self._execute("SELECT 1").fetchone()
        return True

    def add(self, name: str, price: float, quantity: int) -> Item:
        if self.backend == "postgresql":
            row = self._execute(
                "INSERT INTO items (name, price, quantity) VALUES (?, ?, ?) RETURNING id", (name, price, quantity)
            ).fetchone()
            new_id = row[0]
        else:
            new_id = self._execute(
                "INSERT INTO items (name, price, quantity) VALUES (?, ?, ?)", (name, price, quantity)
            ).lastrowid
        return Item(int(new_id), name, price, quantity)

    def get(self, item_id: int) -> Item | None:
        row = self._execute("SELECT id, name, price, quantity FROM items WHERE id = ?", (item_id,)).fetchone()
        return Item(*row) if row else None

    def list(self) -> list[Item]:
        return [Item(*r) for r in self._execute("SELECT id, name, price, quantity FROM items ORDER BY id").fetchall()]

    def delete(self, item_id: int) -> bool:
        return self._execute("DELETE FROM items WHERE id = ?", (item_id,)).rowcount > 0

    def close(self) -> None:
        self._conn.close()
