"""A front-desk channel: each record is typed at the desk (``<name> add``) or read from the desk's
book as a sheet (``satupintu import <name> FILE``), and stored as one JSON raw message.

A channel names its sheet's fields (``synonyms``, ``required``), turns a sheet's row into the
record ``add`` would build (``sheet_row``) and the stored record into a message (``message``).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import orjson
from pydantic import Field

from connectors._sheets.sheet import Record, column_map, read_records
from connectors.base import (
    AnomalousPayload,
    Connector,
    ConnectorConfig,
    ConnectorSpec,
    ImportInbound,
    ImportRow,
    NormalizedMessage,
    RawMessage,
    RejectedRow,
)


class DeskConfig(ConnectorConfig):
    columns: Mapping[str, str] = Field(default_factory=dict)
    """A header of the book's sheet → the field it holds (each channel narrows the fields)."""


DeskConfigT = TypeVar("DeskConfigT", bound=DeskConfig)


def desk_spec(name: str, display_name: str, event: str) -> ConnectorSpec:
    """What every desk channel declares: records imported (or typed at the desk, stored the same
    way), of one event type, with scans attached and a receipt printed."""
    return ConnectorSpec(
        name=name,
        display_name=display_name,
        roles=frozenset({"import"}),
        event_types=frozenset({event}),
        capabilities=frozenset({"attachments", "printed_receipt"}),
        recorded_by_officer=True,
    )


class DeskConnector(Connector[DeskConfigT], ImportInbound):
    event: ClassVar[str]
    """The event type of every record (its ``spec.event_types``)."""
    synonyms: ClassVar[Mapping[str, tuple[str, ...]]]
    """Field → the headers it goes by in the book's sheets (Indonesian, as officers write them)."""
    required: ClassVar[tuple[str, ...]]
    """Fields without which a sheet's row is no record."""

    def read_import(self, source: Path) -> Iterator[ImportRow | RejectedRow]:
        columns = column_map(self.synonyms, self.config.columns)
        for record in read_records(source, columns, required=self.required):
            yield record if isinstance(record, RejectedRow) else self.sheet_row(record)

    def parse(self, raw_id: int, raw: RawMessage) -> NormalizedMessage:
        try:
            return self.message(raw_id, raw, orjson.loads(raw.payload))
        except (KeyError, TypeError, ValueError) as exc:
            raise AnomalousPayload(f"{self.event}: {exc}") from None

    @abstractmethod
    def sheet_row(self, record: Record) -> ImportRow | RejectedRow:
        """A row of the book: the raw message ``add`` would store for it, or every problem."""

    @abstractmethod
    def message(self, raw_id: int, raw: RawMessage, record: dict[str, Any]) -> NormalizedMessage:
        """The stored record as a message; a missing key or a bad value is an anomalous payload."""
