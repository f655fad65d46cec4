"""The re-check: rows linked to a person whose identity changed in the register (flagged
``needs_recheck`` by a register load) are linked again by the next run of their source.

Runs after the batch load, so the batch just loaded (linked against this register, never
flagged) is not linked twice."""

from __future__ import annotations

import logging
from typing import Any

from popsync.pipeline.stages import _timed
from popsync.resources import Resources

log = logging.getLogger("popsync")


@_timed("recheck")
def stage_recheck(batch: dict[str, Any], res: Resources) -> dict[str, Any]:
    """Link again the rows of the batch's source (all its batches) flagged ``needs_recheck``,
    against the batch's standardized register with the model its link stage used, and write the outcome
    (``Warehouse.apply_recheck``). ``batch["recheck"]``: ``rechecked`` (rows whose flag was
    cleared) and ``changed`` (of those, rows whose decision or person changed; each has a
    ``link_rechecked`` finding), plus ``deferred`` when another register snapshot was loaded
    meanwhile (the rows stay flagged for the next run)."""
    source = batch["source"]
    with res.warehouse() as store:
        rows = store.rows_to_recheck(source)
        if rows.empty:
            return batch | {"recheck": {"rechecked": 0, "changed": 0}}
        import matching
        from popsync.pipeline.linkage import batch_model, batch_settings
        from popsync.warehouse.batch import row_keys

        register = res.workarea.read_parquet(batch["register"])
        # Record ids are scoped to their delivery: the linker gets the rows' full keys.
        keyed = rows.assign(record_id=row_keys(rows)).drop(columns="delivery")
        extract = recheck_extract(keyed, source)
        settings = batch_settings(batch, res)
        model, _ = batch_model(batch, res, settings, register, extract)
        result = matching.link(register, extract, settings, model=model)
        outcome = store.apply_recheck(
            source, result.decisions, result.candidates, batch["run_id"], batch["register_run_id"]
        )
    log.info("%s: %s rows re-checked, %s changed", source, outcome["rechecked"], outcome["changed"])
    return batch | {"recheck": {k: v for k, v in outcome.items() if k != "deferred" or v}}


def recheck_extract(rows, source: str):
    """A standardized extract frame rebuilt from stored rows (``Warehouse.rows_to_recheck``):
    name parts and keys from ``full_name``, ID facts from ``id_number``; birth date, sex,
    phone, admin codes and flags as stored."""
    from transforms.ids import standardize_id
    from transforms.names import standardize_names

    names = standardize_names(rows["full_name"])
    precision = rows["birth_date_precision"]
    birth_year = rows["birth_date"].dt.year.astype("Int32").where(precision.notna())
    ids = standardize_id(rows["id_number"], rows["sex"], birth_year, precision)
    frame = rows.drop(columns=["so_dinh_danh", "decision", "score", "run_id"]).assign(
        source=source, birth_year=birth_year, flags=rows["flags"].fillna("")
    )
    for column in names.columns.drop(["flags", "repairs"]):
        frame[column] = names[column]
    for column in ("id_number", "id_kind", "id_province_code", "id_sex", "id_birth_year"):
        frame[column] = ids[column]
    return frame
