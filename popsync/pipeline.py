"""The steps of popsync, shared by the CLI and the Airflow DAGs.

Each ``stage_*`` function takes and returns JSON-serialisable values (paths, dicts), reads
its inputs from Parquet and writes its outputs to Parquet under the work directory, so an
Airflow task can call it with XCom values and the CLI can call it in a loop: a DAG run and a
CLI run do the same thing. ``run_source`` chains the stages for one extract.

Work directory layout (``workdir``, default ``.popsync``)::

    register/<sha256>.parquet             standardized register, cached by file content
    register/<sha256>.findings.parquet    its quality findings (stage ``register``)
    register/<sha256>.scores.json         their scores, verdict and the run date checked against
    batches/<source>/<sha256>/            one folder per batch (source + input file content)
        standardized.parquet  findings_pre.parquet  linked.parquet  candidates.parquet
        findings_post.parquet  summary.json  data_docs/  report.html
    popsync.db                            the embedded database (when no URL is configured)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
import uuid
from pathlib import Path
from typing import Any

from popsync import EXTRACT_SOURCES
from popsync.errors import UserError

log = logging.getLogger("popsync")

__all__ = [
    "STAGES",
    "UserError",
    "concat_findings",
    "finish_batch",
    "new_batch",
    "plan_batches",
    "file_sha256",
    "recheck_extract",
    "recheck_source",
    "match_files",
    "run_all",
    "run_source",
    "stage_link",
    "stage_load",
    "stage_register",
    "stage_standardize",
    "stage_validate_post",
    "stage_validate_pre",
    "standardize_file",
    "validate_files",
]


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _require_file(path: str | Path, what: str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{what} {path} does not exist or is not a file")
    return path


def read_standardized(path: str | Path, source: str):
    """Read one source file and standardize it (the first two steps of every command)."""
    from transforms.readers import read_source
    from transforms.standardize import standardize

    what = "register file" if source == "dan_cu" else f"{source} extract"
    return standardize(read_source(_require_file(path, what), source), source)


def _write_table(frame, path: Path) -> None:
    """CSV or Parquet, by the file's suffix."""
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)


def _read_parquet(path: str | Path):
    import pandas as pd

    return pd.read_parquet(path)


def _write_parquet(frame, path: Path) -> str:
    """Write atomically (a unique temporary name, then rename): parallel tasks may race."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(path)
    return str(path)


# --------------------------------------------------------------------------- stages
#
# A batch is a plain dict (JSON, so it can travel as an Airflow XCom): what to run
# (source, input_path, population, run_date, workdir, database_url) and, as stages run,
# what they produced (paths, scores, counts) and how long each took (timings).


def new_batch(
    source: str,
    input_path: str | Path,
    population: str | Path,
    run_date: dt.date | str,
    workdir: str | Path = ".popsync",
) -> dict[str, Any]:
    """The starting dict of one batch: one extract file of one source against one register.

    The warehouse URL is not part of it (it may hold a password, and batches are logged and
    stored as XCom): ``stage_load`` takes it as an argument."""
    return {
        "source": source,
        "input_path": str(_require_file(input_path, f"{source} extract")),
        "population": str(_require_file(population, "register file")),
        "run_date": str(_as_date(run_date)),
        "workdir": str(workdir),
        "timings": {},
    }


def _timed(stage: str):
    """Record the stage's wall time in ``batch["timings"]``."""

    def wrap(func):
        def run(batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
            started = time.perf_counter()
            result = func(dict(batch), **kwargs)
            result["timings"] = {
                **batch.get("timings", {}),
                stage: round(time.perf_counter() - started, 3),
            }
            return result

        run.__name__ = func.__name__
        run.__doc__ = func.__doc__
        return run

    return wrap


@_timed("register")
def stage_register(batch: dict[str, Any]) -> dict[str, Any]:
    """Read, standardize and validate the register, once per file content (cached under the
    workdir with its findings and scores). Raises ``expectations.BatchBlocked`` when the register
    cannot serve as the reference: every batch linked to it stops.

    The register's freshness and its "not after the run date" rules depend on the run date, so a
    cached register is validated again (from its cached Parquet) for another run date."""
    import expectations

    population = _require_file(batch["population"], "register file")
    folder = Path(batch["workdir"]) / "register"
    sha = file_sha256(population)
    key = sha[:16]
    target = folder / f"{key}.parquet"
    findings_path = folder / f"{key}.findings.parquet"
    scores_path = folder / f"{key}.scores.json"
    stored = _read_register_scores(scores_path)
    run_date = str(_as_date(batch["run_date"]))
    if not (target.exists() and findings_path.exists() and stored.get("run_date") == run_date):
        if target.exists():
            register = _read_parquet(target)
        else:
            register = read_standardized(population, "dan_cu")
        result = expectations.validate_register(register, _as_date(run_date))
        _write_parquet(result.findings, findings_path)
        stored = {
            "run_date": run_date,
            "scores": result.scores,
            "blocked": [[rule, count] for rule, count in result.blocked],
        }
        _write_text(scores_path, json.dumps(stored, indent=1, ensure_ascii=False))
        if not result.blocked and not target.exists():
            _write_parquet(register, target)
    batch.update(
        register_sha256=sha, register_findings=str(findings_path), register_scores=stored["scores"]
    )
    if stored["blocked"]:
        what = "; ".join(f"{rule} ({count:,} rows)" for rule, count in stored["blocked"])
        raise expectations.BatchBlocked(
            f"dan_cu register: batch blocked by {what}; findings in {findings_path}"
        )
    batch["register"] = str(target)
    return batch


def _read_register_scores(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_text(path: Path, text: str) -> None:
    """Atomically, as ``_write_parquet``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


@_timed("standardize")
def stage_standardize(batch: dict[str, Any]) -> dict[str, Any]:
    """Read and standardize the extract: one row per input row, same order."""

    source, input_path = batch["source"], batch["input_path"]
    sha = file_sha256(_require_file(input_path, f"{source} extract"))
    folder = Path(batch["workdir"]) / "batches" / source / sha[:16]
    from transforms.standardize import with_unique_record_ids

    standardized = with_unique_record_ids(read_standardized(input_path, source))
    batch.update(
        input_sha256=sha,
        folder=str(folder),
        rows_read=len(standardized),
        standardized=_write_parquet(standardized, folder / "standardized.parquet"),
    )
    return batch


@_timed("validate_pre")
def stage_validate_pre(batch: dict[str, Any]) -> dict[str, Any]:
    """Pre-link quality gate. Raises ``expectations.BatchBlocked`` on a blocking finding."""
    import expectations

    result = expectations.validate_pre_link(
        _read_parquet(batch["standardized"]),
        batch["source"],
        _as_date(batch["run_date"]),
        docs_dir=Path(batch["folder"]) / "data_docs",
    )
    batch["scores_pre"] = _gate(batch, result, "findings_pre.parquet")
    return batch


def _gate(batch: dict[str, Any], result, findings_name: str) -> dict[str, Any]:
    """Write a validation stage's findings into the batch folder, raise
    ``expectations.BatchBlocked`` on a blocking finding; return the stage's scores."""
    import expectations

    _write_parquet(result.findings, Path(batch["folder"]) / findings_name)
    expectations.raise_if_blocked(result)
    return result.scores


@_timed("link")
def stage_link(batch: dict[str, Any]) -> dict[str, Any]:
    """Link every row to the register: ``linked.parquet`` and the review ``candidates.parquet``."""
    import matching

    folder = Path(batch["folder"])
    extract = _read_parquet(batch["standardized"])
    result = matching.link(_read_parquet(batch["register"]), extract)
    decisions = result.decisions[["record_id", "so_dinh_danh", "decision", "score", "explanation"]]
    linked = extract.join(decisions.drop(columns="record_id").set_axis(extract.index))
    _write_parquet(result.candidates, folder / "candidates.parquet")
    batch["link_stats"] = json.loads(json.dumps(result.stats, default=str))
    batch["linked"] = _write_parquet(linked, folder / "linked.parquet")
    return batch


@_timed("validate_post")
def stage_validate_post(batch: dict[str, Any]) -> dict[str, Any]:
    """Post-link quality gate against the register."""
    import expectations

    folder = Path(batch["folder"])
    rows = _read_parquet(batch["linked"])
    result = expectations.validate_post_link(
        rows,
        rows[["record_id", "so_dinh_danh", "decision", "score"]],
        _read_parquet(batch["register"]),
        batch["source"],
        _as_date(batch["run_date"]),
        docs_dir=folder / "data_docs",
    )
    batch["scores_post"] = _gate(batch, result, "findings_post.parquet")
    batch["scores"] = expectations.pillar_scores(concat_findings(folder), batch["rows_read"])
    return batch


@_timed("load")
def stage_load(batch: dict[str, Any], database_url: str | None = None) -> dict[str, Any]:
    """Split rows into loaded / quarantined / review and load the batch in one transaction,
    then check ``rows read = loaded + quarantined + review`` against the database. Then
    re-check the source's rows that a register update flagged (``recheck_source``):
    ``batch["recheck"]`` counts them."""
    from popsync import warehouse

    folder = Path(batch["folder"])
    rows = _read_parquet(batch["linked"])
    findings = concat_findings(folder)
    load = warehouse.build_batch(
        run_id=str(uuid.uuid4()),
        source=batch["source"],
        input_file=batch["input_path"],
        input_sha256=batch["input_sha256"],
        run_date=_as_date(batch["run_date"]),
        rows=rows,
        findings=findings,
        candidates=_read_parquet(folder / "candidates.parquet"),
        timings=batch.get("timings", {}),
    )
    register = _read_parquet(batch["register"])
    store = warehouse.connect(database_url, workdir=batch["workdir"])
    try:
        store.migrate()
        register_load = store.load_register(
            register,
            {
                "input_file": batch["population"],
                "input_sha256": batch["register_sha256"],
                "run_date": batch["run_date"],
            },
            findings=_read_parquet(batch["register_findings"]),
        )
        loaded = store.load_batch(load)
        recheck = recheck_source(
            store, batch["source"], register, load.run_id, register_load["run_id"]
        )
    finally:
        store.close()
    counts = {name: loaded[f"rows_{name}"] for name in ("read", "loaded", "quarantined", "review")}
    batch.update(run_id=load.run_id, counts=counts, recheck=recheck)
    return batch


def recheck_source(store, source: str, register, run_id: str, register_run_id: str | None = None):
    """Link again the rows of ``source`` (all its batches) flagged ``needs_recheck`` by a
    register load (their person's name, birth date, sex or death changed), against the
    current standardized register, and write the outcome (``Warehouse.apply_recheck``).

    Runs after the batch load, so the batch just loaded (linked against this register, never
    flagged) is not linked twice. Returns ``rechecked`` (rows whose flag was cleared) and
    ``changed`` (of those, rows whose decision or person changed; each has a
    ``link_rechecked`` finding), plus ``deferred`` when another register snapshot was loaded
    meanwhile (the rows stay flagged for the next run)."""
    rows = store.rows_to_recheck(source)
    if rows.empty:
        return {"rechecked": 0, "changed": 0}
    import matching

    result = matching.link(register, recheck_extract(rows, source))
    outcome = store.apply_recheck(
        source, result.decisions, result.candidates, run_id, register_run_id
    )
    log.info("%s: %s rows re-checked, %s changed", source, outcome["rechecked"], outcome["changed"])
    return {k: v for k, v in outcome.items() if k != "deferred" or v}


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


STAGES = (
    stage_register,
    stage_standardize,
    stage_validate_pre,
    stage_link,
    stage_validate_post,
    stage_load,
)


def concat_findings(folder: Path):
    """The batch's findings of both validation stages (those written so far), as one frame."""
    import pandas as pd

    parts = [
        _read_parquet(folder / name)
        for name in ("findings_pre.parquet", "findings_post.parquet")
        if (folder / name).exists()
    ]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _as_date(value: str | dt.date) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def finish_batch(batch: dict[str, Any], echo: bool = False) -> dict[str, Any]:
    """Write the batch's ``summary.json`` and HTML report; print the summary line."""
    from popsync import report

    folder = Path(batch["folder"])
    batch["report"] = str(report.write_batch_report(folder, batch))
    (folder / "summary.json").write_text(json.dumps(batch, default=str, indent=1))
    if echo:
        report.print_run_summary(batch)
    return batch


# --------------------------------------------------------------------------- commands


def standardize_file(source: str, input_path: str | Path, out_path: str | Path, echo: bool = False):
    """``popsync standardize``: read + standardize one file into Parquet; print a summary."""
    from transforms.standardize import standardize_file as _standardize_file

    summary = _standardize_file(source, input_path, out_path)
    if echo:
        from popsync import report

        report.print_standardize_summary(source, input_path, summary)
    return summary


def match_files(
    population: str | Path,
    extract_path: str | Path,
    source: str,
    out_path: str | Path,
    settings_path: str | Path | None = None,
    echo: bool = False,
) -> dict[str, Any]:
    """``popsync match``: link an extract file to a register file; write one row per extract row."""
    import matching

    out_path = Path(out_path)
    if out_path.suffix not in (".csv", ".parquet"):
        raise UserError(f"--out {out_path} must end in .csv or .parquet")
    started = time.perf_counter()
    register = read_standardized(population, "dan_cu")
    extract = read_standardized(extract_path, source)
    settings = matching.load_settings(settings_path)
    result = matching.link(register, extract, settings, progress=echo)
    decisions = result.decisions[["record_id", "so_dinh_danh", "decision", "score", "explanation"]]
    out_path.parent.mkdir(parents=True, exist_ok=True)
    _write_table(decisions, out_path)
    if len(result.candidates):
        _write_table(
            result.candidates, out_path.with_name(out_path.stem + ".review" + out_path.suffix)
        )
    summary = {
        "rows": len(decisions),
        "decisions": decisions["decision"].value_counts().to_dict(),
        "seconds": round(time.perf_counter() - started, 2),
        "stats": result.stats,
        "out": str(out_path),
    }
    if echo:
        from popsync import report

        report.print_match_summary(source, summary)
    return summary


def validate_files(
    source: str,
    input_path: str | Path,
    population: str | Path,
    out_dir: str | Path,
    run_date: dt.date,
    echo: bool = False,
) -> dict[str, Any]:
    """``popsync validate``: both quality stages on one file; findings, scores and Data Docs."""
    import expectations
    import matching

    out_dir = Path(out_dir)
    register = read_standardized(population, "dan_cu")
    extract = read_standardized(input_path, source)
    docs_dir = out_dir / "data_docs"
    pre = expectations.validate_pre_link(extract, source, run_date, docs_dir=docs_dir)
    linked = matching.link(register, extract)
    post = expectations.validate_post_link(
        extract, linked.decisions, register, source, run_date, docs_dir=docs_dir
    )
    written = expectations.write_outputs([pre, post], out_dir)
    if echo:
        from popsync import report

        report.print_scores(source, written["scores"], out_dir)
    return written


def run_source(
    source: str,
    input_path: str | Path,
    population: str | Path,
    run_date: dt.date | str,
    database_url: str | None = None,
    workdir: str | Path = ".popsync",
    echo: bool = False,
) -> dict[str, Any]:
    """The main job for one extract: read, standardize, validate, link, validate, load."""
    return _run_batch(
        new_batch(source, input_path, population, run_date, workdir), database_url, echo
    )


def _run_batch(batch: dict[str, Any], database_url: str | None, echo: bool) -> dict[str, Any]:
    """Every stage on one batch, then its summary and report."""
    from popsync import report

    with report.StageProgress(batch["source"], enabled=echo) as progress:
        for stage in STAGES:
            progress.start(stage.__name__.removeprefix("stage_"))
            batch = stage(batch, database_url=database_url) if stage is stage_load else stage(batch)
            progress.done()
    return finish_batch(batch, echo=echo)


def plan_batches(
    samples: str | Path,
    run_date: dt.date | str | None = None,
    workdir: str | Path = ".popsync",
    sources: tuple[str, ...] = EXTRACT_SOURCES,
) -> list[dict[str, Any]]:
    """One batch per extract of a folder written by ``popsync generate`` (its ``manifest.json``
    names each source's file). Without a run date, the folder's own extract date is used, so a
    sample set keeps passing its freshness rules whatever day it is run on."""
    samples = Path(samples)
    manifest_path = samples / "manifest.json"
    if not manifest_path.is_file():
        raise UserError(
            f"{samples} has no manifest.json: expected a folder written by 'popsync generate'"
        )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    files = {source: samples / entry["file"] for source, entry in manifest["sources"].items()}
    if "dan_cu" not in files:
        raise UserError(f"{manifest_path} names no register (dan_cu) file")
    run_date = run_date or manifest["extract_date"]
    return [
        new_batch(source, files[source], files["dan_cu"], run_date, workdir)
        for source in sources
        if source in files
    ]


def run_all(
    samples: str | Path,
    run_date: dt.date | str | None = None,
    database_url: str | None = None,
    workdir: str | Path = ".popsync",
    echo: bool = False,
) -> list[dict[str, Any]]:
    """``popsync run all``: every extract of a sample folder, one batch after the other."""
    return [
        _run_batch(batch, database_url, echo) for batch in plan_batches(samples, run_date, workdir)
    ]
