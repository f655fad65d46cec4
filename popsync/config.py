"""Per-source column mapping (``popsync/config/sources.yaml``): header labels, required fields, record id."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from popsync.errors import UserError


@dataclass(frozen=True)
class SourceConfig:
    """How one source's file maps to canonical fields.

    ``columns`` maps each canonical field to the header labels accepted for it (matched folded);
    ``record_id_fields`` are joined with ``record_id_sep`` (raw values, as written) into ``record_id``.
    """

    name: str
    title: str
    columns: dict[str, list[str]]
    required: list[str]
    record_id_fields: list[str]
    record_id_sep: str = "|"


def load_sources(path: str | Path | None = None) -> dict[str, SourceConfig]:
    """Source id -> :class:`SourceConfig`, from ``path`` or the packaged ``sources.yaml``."""
    if path is None:
        text = resources.files("popsync").joinpath("config", "sources.yaml").read_text("utf-8")
        where = "popsync/config/sources.yaml"
    else:
        where = str(path)
        try:
            text = Path(path).read_text("utf-8")
        except OSError as exc:
            raise UserError(f"{where}: cannot read the source configuration ({exc})") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UserError(f"{where}: not valid YAML ({exc})") from exc
    if not isinstance(raw, dict):
        raise UserError(f"{where}: expected a mapping of source id -> settings")
    return {name: _parse(name, entry, where) for name, entry in raw.items()}


def _parse(name: str, entry: dict, where: str) -> SourceConfig:
    try:
        columns = {
            field: [str(label) for label in labels] for field, labels in entry["columns"].items()
        }
        record_id = entry.get("record_id") or {}
        config = SourceConfig(
            name=name,
            title=str(entry.get("title", name)),
            columns=columns,
            required=list(entry.get("required", [])),
            record_id_fields=list(record_id.get("fields", [])),
            record_id_sep=str(record_id.get("sep", "|")),
        )
    except (KeyError, AttributeError, TypeError) as exc:
        raise UserError(f"{where}: source {name!r} is malformed ({exc!r})") from exc
    unknown = [f for f in config.required + config.record_id_fields if f not in columns]
    if unknown:
        raise UserError(f"{where}: source {name!r} names fields without columns: {unknown}")
    return config
