"""Row shapes: the columns one write fills, defined once, so that a hand-written hot-path statement and the
ORM path write the same rows.

A Shape names a table's columns that a write sets (`columns`) and those it leaves to their defaults
(`defaulted`); together they are every column but the id, which tests/test_row_shapes.py checks for every
shape, so a column added to a table, or to one path only, fails there. Rows are dicts keyed by column
name, built by one function per kind of row; the ORM path writes `Table(**row)`, a statement takes
`shape.values(row)` for the placeholders that `shape.insert(...)` generated."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

# PostgreSQL casts of the placeholders (an INSERT ... SELECT gives its parameters no type of their own).
_CASTS = {Varchar: "varchar", Text: "text", Integer: "int", ForeignKey: "int", Serial: "int", Boolean: "boolean"}
_CASTS |= {Timestamptz: "timestamptz", JSON: "json"}


def _cast(column) -> str:
    for kind in type(column).__mro__:
        if kind in _CASTS:
            return _CASTS[kind]
    raise TypeError(f"no cast for column {column._meta.name} ({type(column).__name__})")


@dataclass(frozen=True, slots=True)
class Shape:
    table: type[Table]
    columns: tuple[str, ...]
    defaulted: tuple[str, ...] = ()
    _json: frozenset[str] = field(init=False, default=frozenset())
    _names: frozenset[str] = field(init=False, default=frozenset())

    def __post_init__(self) -> None:
        json_columns = {c for c in self.columns if isinstance(self.table._meta.get_column_by_name(c), JSON)}
        object.__setattr__(self, "_json", frozenset(json_columns))
        object.__setattr__(self, "_names", frozenset(self.columns))

    @property
    def tablename(self) -> str:
        return self.table._meta.tablename

    def values(
        self, row: Mapping[str, Any], linked: Sequence[str] = (), dumps: Callable[[Any], str] | None = None
    ) -> list[Any]:
        """The row's values in column order (without the `linked` columns a statement fills itself), JSON
        columns as text by `dumps` when given; the row must have exactly the shape's columns."""
        if row.keys() != self._names:
            raise ValueError(f"a {self.tablename} row has {sorted(row)}, its shape {sorted(self.columns)}")
        if dumps is None:
            return [row[c] for c in self.columns if c not in linked]
        return [
            (None if row[c] is None else dumps(row[c])) if c in self._json else row[c]
            for c in self.columns
            if c not in linked
        ]

    def cast(self, column: str) -> str:
        """The PostgreSQL type a placeholder for `column` is cast to."""
        return _cast(self.table._meta.get_column_by_name(column))

    def insert(
        self,
        *,
        source: str | None = None,
        linked: Mapping[str, str] | None = None,
        extra: Mapping[str, str] | None = None,
        where: str | None = None,
        cast: bool = False,
    ) -> str:
        """`INSERT INTO table (columns) VALUES ({}, ...)`, or `... SELECT ... FROM source` with `linked` columns
        taken from the source (e.g. {"order": "id"}) and `extra` columns before the shape's (e.g. a reserved
        id), only `where` a condition holds; `cast`: PostgreSQL casts on the placeholders."""
        linked = linked or {}
        extra = extra or {}
        exprs = [*extra.values()]
        exprs += [linked[c] if c in linked else f"{{}}::{self.cast(c)}" if cast else "{}" for c in self.columns]
        names = ", ".join([*extra, *(f'"{c}"' for c in self.columns)])
        if source is None and where is None:
            return f'INSERT INTO "{self.tablename}" ({names}) VALUES ({", ".join(exprs)})'
        select = f'INSERT INTO "{self.tablename}" ({names}) SELECT {", ".join(exprs)}'
        return select + (f" FROM {source}" if source else "") + (f" WHERE {where}" if where else "")


POSTGRES_PARAMETERS = 32767  # at most this many placeholders in one PostgreSQL statement


async def insert_many(table: type[Table], rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows (dicts with the same keys, e.g. built by a shape's row function) on the open write
    transaction's own connection, without building an ORM object per row (the bulk jobs' path): on PostgreSQL
    one multi-row INSERT per 32,767 values (an executemany runs one statement per row there: most of a bulk
    refund chunk's time), on SQLite one executemany (in-process, as fast). JSON columns are sent as text.
    Raises RuntimeError outside a transaction (it must roll back with it)."""
    if not rows:
        return
    import json

    transaction = table._meta.db.current_transaction.get()
    if transaction is None:
        raise RuntimeError("insert_many runs inside a write transaction")
    names = list(rows[0])
    json_columns = {n for n in names if isinstance(table._meta.get_column_by_name(n), JSON)}
    values = [
        tuple((None if r[n] is None else json.dumps(r[n])) if n in json_columns else r[n] for n in names) for r in rows
    ]
    columns = ", ".join(f'"{n}"' for n in names)
    into = f'INSERT INTO "{table._meta.tablename}" ({columns}) VALUES '
    from piccolo.engine.postgres import PostgresEngine

    if not isinstance(table._meta.db, PostgresEngine):
        await transaction.connection.executemany(into + f"({', '.join('?' for _ in names)})", values)
        return
    per_statement = POSTGRES_PARAMETERS // len(names)
    for start in range(0, len(values), per_statement):
        batch = values[start : start + per_statement]
        marks = ", ".join(
            "(" + ", ".join(f"${i * len(names) + j + 1}" for j in range(len(names))) + ")" for i in range(len(batch))
        )
        await transaction.connection.execute(into + marks, *(value for row in batch for value in row))
