"""Which linkage settings a batch uses, and its model: trained once per register snapshot,
source and settings, kept in the work area, reused by every batch and re-check after it.

Settings: the batch's ``linkage_settings`` (``popsync run --settings``), else the source
declaration's ``linkage_settings``, else the shipped default. Model:
``models/<register sha16>/<source>-<settings fingerprint>.json`` in the work area, trained from
the first batch that needs it (``matching.train``), so that a row's decision does not depend
on which other rows came in its batch.
"""

from __future__ import annotations

from typing import Any

from popsync.resources import Resources


def batch_settings(batch: dict[str, Any], res: Resources):
    """The ``matching.LinkageSettings`` of a batch."""
    import matching

    path = batch.get("linkage_settings") or res.catalog[batch["source"]].linkage_settings
    return matching.load_settings(path)


def model_key(batch: dict[str, Any], settings) -> str:
    return f"models/{batch['register_sha256'][:16]}/{batch['source']}-{settings.fingerprint()}.json"


def batch_model(batch: dict[str, Any], res: Resources, settings, register, extract):
    """The model for the batch's register, source and settings: loaded when the work area has
    it, else trained on this batch and saved. Returns the model and its work-area key."""
    import matching

    area = res.workarea
    key = model_key(batch, settings)
    if area.exists(key):
        data = area.read_json(key)
        return matching.Model.from_dict(data, settings, where=area.path(key)), key
    model = matching.train(
        register,
        extract,
        settings,
        about={"source": batch["source"], "register_sha256": batch["register_sha256"],
               "trained_on": batch.get("delivery")},
    )  # fmt: skip
    area.write_json(key, model.to_dict())
    return model, key
