"""What a request wrote: the rows each side inserted, updated and deleted, made comparable.

Rows are read from SQLAlchemy's ``after_execute`` event, for every INSERT, UPDATE and DELETE
run while a write set is ``recording()`` (in the request's context, which the legacy mount
copies into its WSGI thread). A session's flush events would see only what its flushes
write, and apps write in more ways than that: Conduit's favourites are a Core ``INSERT ... ON
CONFLICT DO NOTHING``, its deletions ORM-enabled ``DELETE`` statements, its articles a flush.
Every one of them passes here, as the statement the database ran.

Made comparable (``comparable``): a new row's own key, and a key pointing at a row the same
request inserted, are the same on both sides whatever their values (sequences are not rolled
back, so v2's rows took other numbers); timestamps are noise; columns named in the module's
``write_ignore`` (``table.column``: a salted password hash) are left out. What remains is
compared as a multiset of rows, so the order of the statements does not matter.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.sql.schema import Table

from gateway.shadow.compare import Verdict

WRITTEN = ("insert", "update", "delete")
TIMESTAMP = "<timestamp>"
IGNORED = "<ignored>"
# Bind names SQLAlchemy derives from a column: ``id_1`` (a comparison), ``users_id`` (the
# ORM's key of an updated row); both name the column ``id``.
_ANONYMOUS = re.compile(r"_\d+$")

_recording: ContextVar[WriteSet | None] = ContextVar("gateway_write_set", default=None)
_listening = False


@dataclass(frozen=True, slots=True)
class Row:
    table: str
    op: str
    values: dict[str, Any]  # the columns an INSERT or UPDATE set
    where: dict[str, Any]  # the values an UPDATE or DELETE chose its rows by
    keys: tuple[str, ...]  # the table's primary-key columns
    references: dict[str, str]  # column -> the table its foreign key points at


@dataclass(slots=True)
class WriteSet:
    rows: list[Row] = field(default_factory=list)
    new: set[tuple[str, Any]] = field(default_factory=set)  # (table, key) of inserted rows

    def add(self, table: Table, op: str, params: Mapping[str, Any], key: Sequence[Any]) -> None:
        keys = tuple(column.key for column in table.primary_key.columns)
        if op == "insert" and len(keys) == 1 and key and key[0] is not None:
            self.new.add((table.name, key[0]))
        columns = table.columns
        values: dict[str, Any] = {}
        where: dict[str, Any] = {}
        for name, value in params.items():
            # A column's own key is a value set (the ORM deletes by it too); a derived bind
            # name is a criterion.
            if name in columns and op != "delete":
                values[name] = value
            elif (column := _column_named(table, name)) is not None:
                where[column] = value
        references = {
            column.key: next(iter(column.foreign_keys)).column.table.name
            for column in columns
            if column.foreign_keys
        }
        self.rows.append(Row(table.name, op, values, where, keys, references))

    def comparable(self, ignore: Sequence[str] = ()) -> list[str]:
        """Each row as one JSON line, the noise of ids and timestamps taken out, sorted."""
        ignored = set(ignore)
        lines = [
            json.dumps(
                [
                    row.table,
                    row.op,
                    self._settled(row, row.values, ignored),
                    self._settled(row, row.where, ignored),
                ],
                default=str,
            )
            for row in self.rows
        ]
        return sorted(lines)

    def _settled(self, row: Row, given: dict[str, Any], ignore: set[str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for column, value in given.items():
            if f"{row.table}.{column}" in ignore:
                values[column] = IGNORED
            elif (column,) == row.keys and (row.op == "insert" or (row.table, value) in self.new):
                values[column] = f"<new {row.table}>"
            elif column in row.references and (row.references[column], value) in self.new:
                values[column] = f"<new {row.references[column]}>"
            elif isinstance(value, datetime | date | time):
                values[column] = TIMESTAMP
            else:
                values[column] = value
        return dict(sorted(values.items()))


def _column_named(table: Table, bind: str) -> str | None:
    if bind in table.columns:
        return bind
    name = _ANONYMOUS.sub("", bind)
    if name in table.columns:
        return name
    name = name.removeprefix(f"{table.name}_")
    return name if name in table.columns else None


def differences(legacy: Sequence[str], v2: Sequence[str]) -> dict[str, list[Any]] | None:
    """The rows only one side wrote (as multisets); None when both wrote the same."""
    legacy_rows, v2_rows = Counter(legacy), Counter(v2)
    if legacy_rows == v2_rows:
        return None
    return {
        "legacy only": [json.loads(row) for row in (legacy_rows - v2_rows).elements()],
        "v2 only": [json.loads(row) for row in (v2_rows - legacy_rows).elements()],
    }


def with_writes(verdict: Verdict, legacy: Sequence[str], v2: Sequence[str]) -> Verdict:
    """``verdict`` on the answers, and the write sets compared too."""
    found = differences(legacy, v2)
    if found is None:
        return verdict
    signatures = [verdict.signature] if verdict.signature else []
    signatures.append(signature(found))
    diff = {**(verdict.diff or {}), "writes": found}
    return Verdict(False, diff, ", ".join(signatures)[:255])


def signature(found: dict[str, list[Any]]) -> str:
    """``writes: articles insert, tags insert``: the tables and operations that differ."""
    touched = sorted({f"{row[0]} {row[1]}" for rows in found.values() for row in rows})
    return "writes: " + ", ".join(touched)


@contextmanager
def recording() -> Iterator[WriteSet]:
    """Record the writes of the code run in this block (and the threads it hands its
    context to)."""
    _listen()
    writes = WriteSet()
    token = _recording.set(writes)
    try:
        yield writes
    finally:
        _recording.reset(token)


def _listen() -> None:
    global _listening
    if not _listening:
        _listening = True
        # Every engine's connections, once any write set is recorded: a connection with no
        # listener pays nothing, so this waits until a module shadows its writes.
        event.listen(Engine, "after_execute", _executed)


def _executed(
    connection: Connection,
    statement: Any,
    multiparams: Any,
    params: Any,
    options: Any,
    result: Any,
) -> None:
    writes = _recording.get()
    if writes is None or not isinstance(result, CursorResult):
        return
    context = result.context
    compiled = context.compiled
    if compiled is None or not context.is_crud:
        return
    table = getattr(compiled.statement, "table", None)
    if not isinstance(table, Table):
        return
    op = "insert" if context.isinsert else "update" if context.isupdate else "delete"
    keys: list[Sequence[Any]] = []
    if op == "insert":
        try:
            keys = list(context.inserted_primary_key_rows)
        except Exception:  # a dialect that cannot tell: the rows' keys stay unknown
            keys = []
    for index, row_params in enumerate(context.compiled_parameters):
        writes.add(table, op, row_params, keys[index] if index < len(keys) else ())
