"""The one-file commands: ``popsync standardize``, ``match`` and ``validate`` (no warehouse)."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from popsync.core.collector import fewer_collections
from popsync.core.errors import UserError
from popsync.core.privacy import formula_safe
from popsync.core.sources import SourceCatalog
from popsync.pipeline.stages import read_standardized


def _write_table(frame, path: Path) -> None:
    """CSV or Parquet, by the file's suffix; a CSV is formula-safe (a cell starting with ``=``,
    ``+``, ``-``, ``@`` is not run by a spreadsheet: ``formula_safe``)."""
    if path.suffix == ".csv":
        frame.map(formula_safe).to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)


def standardize_file(
    catalog: SourceCatalog, source: str, input_path: str | Path, out_path: str | Path, echo=False
) -> dict[str, Any]:
    """``popsync standardize``: read + standardize one file into Parquet; print a summary."""
    from transforms.standardize import standardize_file as _standardize_file

    summary = _standardize_file(catalog[source], input_path, out_path)
    if echo:
        from popsync.report import terminal

        terminal.print_standardize_summary(source, input_path, summary)
    return summary


def _linking_inputs(catalog: SourceCatalog, population, extract_path, source, settings):
    """Register and extract frames: standardized (a source), or plain tables mapped by the
    settings (no source)."""
    if source is None:
        from popsync.pipeline.tables import read_tables

        return read_tables(population, extract_path, settings)
    return (
        read_standardized(population, catalog.register),
        read_standardized(extract_path, catalog.extract(source)),
    )


def match_files(
    catalog: SourceCatalog,
    population: str | Path,
    extract_path: str | Path,
    source: str | None,
    out_path: str | Path,
    settings_path: str | Path | None = None,
    echo: bool = False,
    model_path: str | Path | None = None,
) -> dict[str, Any]:
    """``popsync match``: link an extract file to a register file; write one row per extract
    row. ``source`` None: two plain tables mapped by the settings' ``tables`` section.
    ``model_path``: a model from ``popsync train`` (else one is trained on these files)."""
    import matching

    out_path = Path(out_path)
    if out_path.suffix not in (".csv", ".parquet"):
        raise UserError(f"--out {out_path} must end in .csv or .parquet")
    started = time.perf_counter()
    settings = matching.load_settings(settings_path)
    model = matching.Model.load(model_path, settings) if model_path is not None else None
    with fewer_collections():
        register, extract = _linking_inputs(catalog, population, extract_path, source, settings)
        result = matching.link(register, extract, settings, progress=echo, model=model)
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
        from popsync.report import terminal

        terminal.print_match_summary(source or Path(extract_path).name, summary)
    return summary


def train_files(
    catalog: SourceCatalog,
    population: str | Path,
    extract_path: str | Path,
    source: str | None,
    out_path: str | Path,
    settings_path: str | Path | None = None,
) -> Path:
    """``popsync train``: m and u from a register and an extract, saved as JSON for
    ``popsync match --model`` (one model per register snapshot, source and settings)."""
    import matching

    settings = matching.load_settings(settings_path)
    register, extract = _linking_inputs(catalog, population, extract_path, source, settings)
    model = matching.train(
        register,
        extract,
        settings,
        about={"source": source or Path(extract_path).name, "register": Path(population).name},
    )
    return model.save(out_path)


def validate_files(
    catalog: SourceCatalog,
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
    register = read_standardized(population, catalog.register)
    spec = catalog.extract(source)
    extract = read_standardized(input_path, spec)
    docs_dir = out_dir / "data_docs"
    pre = expectations.validate_pre_link(extract, spec, run_date, docs_dir=docs_dir)
    linked = matching.link(register, extract)
    post = expectations.validate_post_link(
        extract, linked.decisions, register, spec, run_date, docs_dir=docs_dir
    )
    written = expectations.write_outputs([pre, post], out_dir)
    if echo:
        from popsync.report import terminal

        terminal.print_scores(source, written["scores"], out_dir)
    return written
