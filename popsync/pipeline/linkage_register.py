"""The register as the linker and the post-link rules read it, prepared once per snapshot in the
work area (``register/<sha256[:16]>.linkage-<settings fingerprint>/``) and memory-mapped by every chunk and worker:

- ``matching.PreparedRegister`` (Arrow IPC: integer columns, dictionary-coded strings);
- ``people.arrow``: the columns the post-link rules compare a row with (``reg_*``), looked up by
  so_dinh_danh for the people a chunk links to;
- ``snapshot.json``: the snapshot's newest ``updated_at`` (its age on a run date).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from popsync.pipeline.register_chunks import newest_update, register_parts
from popsync.resources import Resources

PEOPLE_COLUMNS = ("full_name", "birth_date", "birth_date_precision", "sex", "cmnd", "death_date")


def linkage_key(batch: dict, settings) -> str:
    return f"register/{batch['register_sha256'][:16]}.linkage-{settings.fingerprint()[:16]}"


def ensure_linkage_register(batch: dict, res: Resources) -> dict:
    """Prepare the batch's register for linkage with the batch's settings unless the work area
    has it already; adds the key ``linkage_register`` (from the standardized register)."""
    import matching
    from matching.prepared_register import write_ipc
    from popsync.pipeline.linkage import batch_settings

    settings = batch_settings(batch, res)
    key = linkage_key(batch, settings)
    folder = res.workarea.local_path(key)
    if not (folder / "snapshot.json").is_file():
        path = res.workarea.local_path(batch["register"])
        prepared = matching.prepare_snapshot(register_parts(path), settings)
        partial = folder.with_name(folder.name + ".tmp")
        prepared.save(partial / "linker")
        del prepared
        names = pq.ParquetFile(str(path)).schema_arrow.names
        table = pq.read_table(str(path), columns=[c for c in ("person_id", *PEOPLE_COLUMNS)
                                                  if c in names])  # fmt: skip
        write_ipc(table, partial / "people.arrow")
        snapshot = {"newest_update": newest_update(path) if "updated_at" in names else None}
        (partial / "snapshot.json").write_text(json.dumps(snapshot), encoding="utf-8")
        if not folder.exists():
            partial.rename(folder)
    return batch | {"linkage_register": key}


class LinkageRegister:
    """One process's view of a prepared register (memory-mapped; opened once per process)."""

    def __init__(self, folder: Path):
        import matching
        from matching.prepared_register import read_ipc

        self.linker = matching.PreparedRegister.load(folder / "linker")
        self._people = read_ipc(folder / "people.arrow")
        snapshot = json.loads((folder / "snapshot.json").read_text(encoding="utf-8"))
        self.newest_update = snapshot["newest_update"]
        self._index: pd.Index | None = None

    def age_days(self, run_date: dt.date) -> int | None:
        """Days from the snapshot's newest update to ``run_date`` (``register_snapshot_age``)."""
        if self.newest_update is None:
            return None
        return (run_date - dt.date.fromisoformat(self.newest_update)).days

    def people(self, person_ids: pd.Series) -> pd.DataFrame:
        """The register rows (``person_id`` and ``PEOPLE_COLUMNS``) of the given ids."""
        if self._index is None:
            ids = self._people.column("person_id").to_pandas().astype("string")
            self._index = pd.Index(ids.to_numpy(dtype=object, na_value=None))
        wanted = person_ids.dropna().astype("string").unique()
        at = self._index.get_indexer(np.asarray(wanted, dtype=object))
        return self._people.take(pa.array(at[at >= 0])).to_pandas()


@functools.lru_cache(maxsize=2)
def open_linkage_register(folder: str) -> LinkageRegister:
    return LinkageRegister(Path(folder))
