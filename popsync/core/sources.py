"""The one declaration of each source: ``popsync/sources/<id>.yaml``.

A source's declaration names its fields (the header labels a reader accepts for each, whether the
column must be present, and the field's kind), how its record id is formed, its event date, what
makes two rows one record written twice, and the warehouse table it lands in. Everything else
derives from it: the readers' column map, the standardizer's steps (one per kind), the
warehouse's table columns, the inputs of the quality rules and the Airflow Assets.

Adding a source is one more declaration (plus its quality suites and, if the defaults do not fit,
its linkage settings) in ``popsync/sources/`` or in a folder named by ``POPSYNC_SOURCES_DIR``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from popsync.core.contracts import (
    DATE,
    INT,
    LINK_COLUMNS,
    PERSON_ROW_COLUMNS,
    PROVENANCE,
    SMALLINT,
    TEXT,
    TIMESTAMP,
    VALIDATION_STAGES,
)
from popsync.core.errors import UserError

# Kinds that describe the person: every source's rows get the same standardized person columns
# (``PERSON_ROW_COLUMNS``), null where the file lacks the field.
PERSON_KINDS = ("name", "birth_date", "sex", "person_id", "cmnd", "phone", "address",
                "address_part")  # fmt: skip
# Kinds of a source's own (event) fields: the standardized columns each gives, by template
# (``{f}`` is the field's name), with their warehouse types.
EVENT_KINDS: dict[str, dict[str, str]] = {
    "date": {"{f}": DATE, "{f}_precision": TEXT},
    "timestamp": {"{f}": TIMESTAMP},
    "text": {"{f}": TEXT},
    "dose_number": {"{f}": SMALLINT},
    "vaccine": {"{f}": TEXT},
    "test_type": {"{f}": TEXT},
    "bhxh_number": {"{f}": TEXT},
}
FIELD_KINDS = ("record_id", *PERSON_KINDS, *EVENT_KINDS)
# The names an ``address_part`` field may have: unit names, or the register's GSO codes.
ADDRESS_PART_FIELDS = ("province", "district", "ward", "province_code", "district_code",
                       "ward_code")  # fmt: skip
# Kinds a source declares at most once (the person has one name, one birth date ...).
_ONCE = ("record_id", "name", "birth_date", "sex", "person_id", "cmnd", "phone", "address")
# Standardized register columns that are not person-row columns of extracts.
_REGISTER_ONLY = {"person_id": TEXT, "cmnd": TEXT}


# Names that become SQL identifiers (tables, columns): lower-case letters, digits, underscores.
_NAME = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Strict):
    """One canonical field: its kind, the header labels accepted for it (matched ignoring case,
    spaces, diacritics and punctuation) and whether its column must be in the file."""

    kind: Literal[FIELD_KINDS]  # type: ignore[valid-type]
    labels: tuple[str, ...] = Field(min_length=1)
    required: bool = False


class RecordIdSpec(_Strict):
    """The row id: these fields' raw values, as written, joined by ``sep``."""

    fields: tuple[str, ...] = Field(min_length=1)
    sep: str = "|"


class PullSpec(_Strict):
    """Where a pull finds this source's deliveries, by default (the locations themselves are
    configuration: ``popsync.pull.settings``). ``files``: the landing file names, ``{date}``
    standing for the extract's date (``YYYY-MM-DD``) and ``*`` for any text; ``formats``: the
    suffixes read; ``watermark``: the column a source table is pulled incrementally by."""

    files: str = Field(default="{id}_{date}", pattern=r"\{date\}")
    formats: tuple[str, ...] = ("csv", "xlsx", "parquet")
    watermark: str = "updated_at"


class SourceSpec(_Strict):
    """A source, as declared. ``role`` is ``register`` for the population register (the
    reference every extract is linked to) and ``extract`` for the others."""

    id: str = Field(pattern=_NAME)
    title: str
    title_vi: str
    role: Literal["register", "extract"]
    # Where it comes in listings and in ``run all`` (then by id).
    order: int = 100
    table: str = Field(pattern=_NAME)
    # The Airflow DAG that pulls and syncs this source (default ``<id>_sync``).
    dag_id: str | None = Field(default=None, pattern=_NAME)
    record_id: RecordIdSpec
    fields: dict[Annotated[str, Field(pattern=_NAME)], FieldSpec]
    # The date the freshness, death and birth-order rules look at (extracts).
    event_date: str | None = None
    # With the person's name key, birth date, sex and ID: what makes two rows one record.
    duplicate_keys: tuple[str, ...] = ()
    # Where this source's quality suites (``<id>_pre_link.yaml``, ``<id>_post_link.yaml``) and
    # linkage settings are, when not packaged with popsync: relative to the declaration's folder.
    suites_dir: str | None = None
    linkage_settings: str | None = None
    # How a pull finds its deliveries (file names, watermark column).
    pull: PullSpec = PullSpec()
    # Register only: standardized column -> column of its table.
    store: dict[str, Annotated[str, Field(pattern=_NAME)]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> SourceSpec:
        named = set(self.fields)
        for kind in _ONCE:
            if len(self.fields_of(kind)) > 1:
                raise ValueError(f"more than one field of kind {kind}: {self.fields_of(kind)}")
        odd = [f for f in self.fields_of("address_part") if f not in ADDRESS_PART_FIELDS]
        if odd:
            raise ValueError(
                f"address_part fields must be named one of {ADDRESS_PART_FIELDS}: {odd}"
            )
        unknown = [f for f in self.record_id.fields if f not in named]
        if unknown:
            raise ValueError(f"record_id names fields that are not declared: {unknown}")
        if self.role == "extract":
            if self.event_date not in self.date_fields:
                raise ValueError(f"event_date {self.event_date!r} is not a date field")
            if self.store:
                raise ValueError("'store' is for the register only")
            derived = set(self.standardized_columns())
            missing = [k for k in self.duplicate_keys if k not in derived]
            if missing:
                raise ValueError(f"duplicate_keys are not standardized columns: {missing}")
        elif not self.store:
            raise ValueError("the register declares its table's columns under 'store'")
        return self

    # -------------------------------------------------------------- derived views

    @property
    def columns(self) -> dict[str, tuple[str, ...]]:
        """Field -> accepted header labels (the readers' column map)."""
        return {name: field.labels for name, field in self.fields.items()}

    @property
    def contract_header(self) -> list[str]:
        """The header line the contract (extracts.md) gives: each field's first label, in order."""
        return [field.labels[0] for field in self.fields.values()]

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(name for name, field in self.fields.items() if field.required)

    def fields_of(self, *kinds: str) -> tuple[str, ...]:
        return tuple(name for name, field in self.fields.items() if field.kind in kinds)

    @property
    def date_fields(self) -> tuple[str, ...]:
        """Every date field, ``birth_date`` first."""
        return self.fields_of("birth_date", "date")

    @property
    def event_fields(self) -> tuple[str, ...]:
        return self.fields_of(*EVENT_KINDS)

    def standardized_columns(self) -> dict[str, str]:
        """The source's own standardized columns (beyond the person columns), with types."""
        out: dict[str, str] = {}
        for name in self.event_fields:
            for template, kind in EVENT_KINDS[self.fields[name].kind].items():
                out[template.format(f=name)] = kind
        return out

    def table_columns(self) -> dict[str, str]:
        """The warehouse table's columns taken from a frame, in table order (``run_id`` last):
        for an extract, the delivery (a batch's, not the frame's), provenance, person columns,
        its own columns, then the link."""
        if self.role == "register":
            types = {**PERSON_ROW_COLUMNS, **_REGISTER_ONLY, **self.standardized_columns()}
            return {column: types[std] for std, column in self.store.items()} | {"run_id": TEXT}
        provenance = {name: INT if name == "src_row" else TEXT for name in PROVENANCE}
        return {
            "delivery": TEXT,
            **provenance,
            **PERSON_ROW_COLUMNS,
            **self.standardized_columns(),
            **LINK_COLUMNS,
            "run_id": TEXT,
        }

    @property
    def dag_name(self) -> str:
        """The Airflow DAG of this source (``popsync.scheduling``)."""
        return self.dag_id or f"{self.id}_sync"

    @property
    def asset_name(self) -> str:
        """The Airflow Asset its loads emit (the register's: ``popsync_register``, which the
        extracts' DAGs are scheduled on)."""
        return "popsync_register" if self.role == "register" else f"popsync_{self.table}"


class SourceCatalog(Mapping[str, SourceSpec]):
    """The declared sources by id: one register and the extracts."""

    def __init__(self, specs: Iterable[SourceSpec]):
        self._specs: dict[str, SourceSpec] = {}
        for spec in specs:
            if spec.id in self._specs:
                raise UserError(f"source {spec.id!r} is declared twice")
            self._specs[spec.id] = spec
        registers = [s.id for s in self._specs.values() if s.role == "register"]
        if len(registers) != 1:
            raise UserError(f"exactly one register source must be declared, found {registers}")
        tables = [s.table for s in self._specs.values()]
        clashes = sorted({t for t in tables if tables.count(t) > 1})
        if clashes:
            raise UserError(f"several sources declare the table(s) {clashes}")

    def __getitem__(self, source: str) -> SourceSpec:
        try:
            return self._specs[source]
        except KeyError:
            raise UserError(f"unknown source {source!r}: one of {', '.join(self._specs)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    @property
    def register(self) -> SourceSpec:
        return next(s for s in self._specs.values() if s.role == "register")

    @property
    def extracts(self) -> tuple[SourceSpec, ...]:
        return tuple(s for s in self._specs.values() if s.role == "extract")

    def extract(self, source: str) -> SourceSpec:
        """The extract ``source``; a ``UserError`` for the register or an unknown id."""
        spec = self[source]
        if spec.role != "extract":
            extracts = ", ".join(s.id for s in self.extracts)
            raise UserError(f"unknown source {source!r} (the register), one of {extracts}")
        return spec

    def by_table(self) -> dict[str, SourceSpec]:
        return {spec.table: spec for spec in self._specs.values()}


def parse_spec(text: str, where: str) -> SourceSpec:
    """One declaration from YAML text; a ``UserError`` naming ``where`` and the fault."""
    try:
        return SourceSpec.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as error:
        raise UserError(f"{where}: not valid YAML ({error})") from error
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'source'}: {e['msg']}" for e in error.errors()
        )
        raise UserError(f"{where}: {problems}") from error


def _declarations(folder: Path) -> list[SourceSpec]:
    """The declarations of a folder, their relative paths resolved against it. Quality suites
    (``<name>_<stage>.yaml``) may sit beside them (``suites_dir: .``): they are not read here."""
    if not folder.is_dir():
        raise UserError(f"sources folder {folder} does not exist")
    specs = []
    for path in sorted(folder.glob("*.yaml")):
        if path.stem.endswith(tuple(f"_{stage}" for stage in VALIDATION_STAGES)):
            continue
        spec = parse_spec(path.read_text("utf-8"), str(path))
        paths = {
            name: str((folder / value).resolve())
            for name in ("suites_dir", "linkage_settings")
            if (value := getattr(spec, name)) is not None
        }
        specs.append(spec.model_copy(update=paths))
    return specs


@cache
def load_catalog(extra_dirs: tuple[str, ...] = ()) -> SourceCatalog:
    """The packaged declarations, plus those in ``extra_dirs`` (a source declared there
    replaces the packaged one of the same id)."""
    packaged = resources.files("popsync").joinpath("sources")
    specs = {
        entry.name: parse_spec(entry.read_text("utf-8"), f"popsync/sources/{entry.name}")
        for entry in sorted(packaged.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yaml")
    }
    found = {spec.id: spec for spec in specs.values()}
    for folder in extra_dirs:
        found |= {spec.id: spec for spec in _declarations(Path(folder))}
    return SourceCatalog(sorted(found.values(), key=lambda spec: (spec.order, spec.id)))


def spec_of(source: str | SourceSpec) -> SourceSpec:
    """A declaration given itself or by id (an id is looked up among the packaged sources)."""
    return source if isinstance(source, SourceSpec) else load_catalog()[source]
