"""The register side of linkage, prepared once per snapshot and reused by every chunk.

``prepare_register`` turns the standardized register into the integer columns the linker
reads (``matching.prepare``): numbers as they are, strings dictionary-coded (a code per row and
one vocabulary per column). ``save`` writes it as Arrow IPC files (uncompressed), so ``load``
memory-maps them: the columns are not copied into this process, several workers on one machine
share the pages, and a chunk of 1,000 rows costs no more register memory than one of 1M.
``prepare(extract, prepared_register, ...)`` codes the extract's strings against the register's
vocabularies (values the register lacks get new codes after them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

_ROWS = "register.arrow"
_META = "prepared.json"
FORMAT_VERSION = 1


@dataclass
class PreparedRegister:
    """Register columns (``right``: int64, -1 for null; string columns as codes into
    ``vocab``), the person ids, and the prepared columns' names."""

    right: dict[str, np.ndarray]
    vocab: dict[str, pa.Array]
    person_ids: pa.Array
    columns: frozenset[str]
    # Columns compared with each other share one vocabulary (``matching.prepare``).
    groups: tuple[tuple[str, ...], ...] = ()
    _values: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    _lookups: dict[str, pd.Index] = field(default_factory=dict, repr=False)
    # Built from the register alone, once per process (``Prepared.register_cache``).
    derived: dict = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.person_ids)

    def values(self, column: str) -> np.ndarray:
        """The vocabulary of ``column`` as Python strings (made once per process)."""
        if column not in self._values:
            self._values[column] = np.asarray(self.vocab[column].to_pylist(), dtype=object)
        return self._values[column]

    def lookup(self, column: str) -> pd.Index:
        """The vocabulary of ``column`` as a hashed index (built once per process)."""
        if column not in self._lookups:
            self._lookups[column] = pd.Index(self.values(column), dtype=object)
        return self._lookups[column]

    def save(self, folder: str | Path) -> Path:
        """Write the Arrow IPC files into ``folder`` (written aside, then renamed: a reader
        never sees half a register)."""
        folder = Path(folder)
        partial = folder.with_name(folder.name + ".partial")
        partial.mkdir(parents=True, exist_ok=True)
        table = pa.table({"person_id": self.person_ids, **self.right})
        write_ipc(table, partial / _ROWS)
        for group in self.groups:
            write_ipc(
                pa.table({"value": self.vocab[group[0]]}), partial / f"vocab_{group[0]}.arrow"
            )
        meta = {"format": FORMAT_VERSION, "columns": sorted(self.columns),
                "groups": [list(g) for g in self.groups], "rows": len(self)}  # fmt: skip
        (partial / _META).write_text(json.dumps(meta), encoding="utf-8")
        if folder.exists():  # another process prepared the same snapshot meanwhile
            import shutil

            shutil.rmtree(partial)
        else:
            partial.rename(folder)
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> PreparedRegister:
        """Memory-map a saved register (no copy of its columns)."""
        folder = Path(folder)
        meta = json.loads((folder / _META).read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT_VERSION:
            raise ValueError(f"{folder}: prepared register format {meta.get('format')}")
        table = read_ipc(folder / _ROWS)
        right = {
            name: table.column(name).chunk(0).to_numpy(zero_copy_only=True)
            if table.column(name).num_chunks == 1
            else table.column(name).to_numpy()
            for name in table.column_names
            if name != "person_id"
        }
        groups = tuple(tuple(group) for group in meta["groups"])
        vocab = {}
        for group in groups:
            values = read_ipc(folder / f"vocab_{group[0]}.arrow").column("value").combine_chunks()
            vocab.update(dict.fromkeys(group, values))
        person_ids = table.column("person_id").combine_chunks()
        return cls(right, vocab, person_ids, frozenset(meta["columns"]), groups)


def write_ipc(table: pa.Table, path: Path) -> None:
    """``table`` as one uncompressed Arrow IPC record batch, so ``read_ipc`` maps it whole."""
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=max(table.num_rows, 1))


def read_ipc(path: Path) -> pa.Table:
    """An Arrow IPC file memory-mapped (its columns are not copied into this process)."""
    return pa.ipc.open_file(pa.memory_map(str(path), "r")).read_all()
