"""Reading polls sent as a JSON array of ``{store_id, timestamp_utc, status}`` objects.

The rows come out as :class:`~ingestion.csvfile.Row` values like a CSV
file's, so the same rules and the same loader apply; a row's ``line`` is
its index in the array plus one. An element that is not an object, or
lacks a field, or holds a field that is not a string, is a rejected row;
a body that is not UTF-8 JSON, or not an array, is a bad file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ingestion.csvfile import FileKind, Row
from ingestion.errors import BadInputFile
from stores.rules import RejectedRow, echo


class JsonRows:
    """Iterate the elements of a JSON array file as rows of ``kind``'s columns."""

    def __init__(self, path: Path | str, kind: FileKind, *, progress: Any = None) -> None:
        self.path = str(path)
        self.kind = kind
        self.progress = progress

    def _load(self) -> list[Any]:
        try:
            with open(self.path, "rb") as handle:
                document = json.load(handle)
        except UnicodeDecodeError:
            raise BadInputFile(self.path, "not a UTF-8 JSON document") from None
        except json.JSONDecodeError as error:
            where = f"line {error.lineno} column {error.colno}"
            raise BadInputFile(self.path, f"not JSON ({error.msg} at {where})") from None
        except RecursionError:
            raise BadInputFile(self.path, "not JSON this service reads (nested too deeply)") from None
        if not isinstance(document, list):
            raise BadInputFile(self.path, f"not a JSON array of {self.kind.name} (the body is a {_type(document)})")
        return document

    def __iter__(self) -> Iterator[Row]:
        document = self._load()
        if self.progress is not None:
            self.progress(Path(self.path).stat().st_size)
        for index, element in enumerate(document):
            yield self._row(index + 1, element)

    def _row(self, line: int, element: Any) -> Row:
        if not isinstance(element, dict):
            return Row(
                line,
                ("",) * len(self.kind.columns),
                [echo(str(element))],
                RejectedRow(
                    f"not an object: an element is {{{', '.join(self.kind.columns)}}}, this one is a {_type(element)}"
                ),
            )
        fields: list[str] = []
        problem: RejectedRow | None = None
        for column in self.kind.columns:
            value = element.get(column)
            if value is None:
                problem = problem or RejectedRow(f"missing field: {column}")
                value = ""
            elif not isinstance(value, str):
                problem = problem or RejectedRow(f"{column} is a {_type(value)}, not a string")
                value = ""
            fields.append(value)
        return Row(line, fields, _cells(element, self.kind.columns), problem)


def _cells(element: dict[str, Any], columns: Sequence[str]) -> list[str]:
    return [str(element.get(column, "")) for column in columns]


def _type(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)
