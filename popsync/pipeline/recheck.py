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
# At most this many stored rows train a model for a snapshot no batch was linked against.
TRAINING_ROWS = 500_000


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
        from popsync.pipeline.linkage import batch_model, batch_settings, model_key
        from popsync.warehouse.batch import row_keys

        register = res.workarea.read_parquet(batch["register"])
        # Record ids are scoped to their delivery: the linker gets the rows' full keys.
        keyed = rows.assign(record_id=row_keys(rows)).drop(columns="delivery")
        extract = recheck_extract(keyed, source)
        settings = batch_settings(batch, res)
        training = extract
        if not res.workarea.exists(model_key(batch, settings)):
            # No batch was linked against this snapshot yet (a re-check on its own): the model
            # learns from the source's stored rows, not from the few flagged ones.
            stored = store.rows_to_recheck(source, flagged=False, limit=TRAINING_ROWS)
            training = recheck_extract(
                stored.assign(record_id=row_keys(stored)).drop(columns="delivery"), source
            )
        model, _ = batch_model(batch, res, settings, register, training)
        result = matching.link(register, extract, settings, model=model)
        quarantine = _quarantined_again(extract, result.decisions, register, res, batch)
        outcome = store.apply_recheck(source, result.decisions, result.candidates,
                                      batch["run_id"], batch["register_run_id"],
                                      quarantine=quarantine)  # fmt: skip
    log.info("%s: %s rows re-checked, %s changed, %s quarantined", source, outcome["rechecked"],
             outcome["changed"], outcome["quarantined"])  # fmt: skip
    return batch | {"recheck": {k: v for k, v in outcome.items()
                                if k not in ("deferred", "quarantined") or v}}  # fmt: skip


def _quarantined_again(extract, decisions, register, res: Resources, batch: dict[str, Any]):
    """The re-checked rows the post-link rules quarantine with their new links (as a full
    re-run of those rows would): the stored columns, ``rules`` and ``findings``."""
    import expectations
    from popsync.pipeline.batch import as_date

    spec = res.catalog.extract(batch["source"])
    result = expectations.validate_post_link(
        extract, decisions, register, spec, as_date(batch["run_date"])
    )
    found = result.findings
    found = found[found["severity"].eq("quarantine") & found["record_id"].notna()]
    if not len(found):
        return None
    columns = ["rule", "pillar", "severity", "observed", "reason"]
    per_row = found.groupby("record_id", sort=False)
    rows = extract[extract["record_id"].isin(found["record_id"])].drop(
        columns=["run_id"], errors="ignore"
    )
    rules = per_row["rule"].agg(";".join)
    listed = per_row[columns].apply(lambda group: group.to_dict("records"))
    return rows.assign(rules=rows["record_id"].map(rules),
                       findings=rows["record_id"].map(listed))  # fmt: skip


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
