"""``bench/match.py``'s data from popsync's own generator: the data set, and a seeded sample of
its vaccination extract of as many rows as the register has people, with its truth."""

from __future__ import annotations

import json
from pathlib import Path

SOURCE = "tiem_chung"


def child_generate(dataset: Path, people: int, seed: int) -> dict:
    from popsync.generate import generate_dataset

    return generate_dataset(dataset, people=people, seed=seed)


def read_manifest(dataset: Path) -> dict:
    """``manifest.json`` of a generated data set."""
    return json.loads((dataset / "manifest.json").read_text(encoding="utf-8"))


def source_files(dataset: Path) -> tuple[Path, Path]:
    """The register of the generated data set and the extract sample (``sample_dir``)."""
    sources = read_manifest(dataset)["sources"]
    return dataset / sources["dan_cu"]["file"], sample_dir(dataset) / sources[SOURCE]["file"]


def sample_dir(dataset: Path) -> Path:
    """Where the extract of exactly ``people`` rows and its truth are kept (next to the data set)."""
    return dataset / "extract_sample"


def child_sample(dataset: Path, rows: int, seed: int) -> dict:
    """Write once a seeded sample of exactly ``rows`` extract rows (file order kept), its truth.

    ``popsync generate`` gives ~2.2 doses per person, so the full extract of a 1M-person data
    set has ~2.2M rows; the issue's bench is 1M extract rows against a 1M-person register.
    The sample keeps the generated file's format: Parquet rows are taken as stored, CSV lines
    as written, XLSX rows with their cell types (numbers stay numbers).
    """
    import pandas as pd

    name = read_manifest(dataset)["sources"][SOURCE]["file"]
    source_path, out = dataset / name, sample_dir(dataset)
    out.mkdir(parents=True, exist_ok=True)
    (out / "truth").mkdir(exist_ok=True)
    suffix = source_path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(source_path)
        total = table.num_rows
        keep = _sample_rows(total, rows, seed)
        pq.write_table(table.take(keep), out / name)
    elif suffix == ".csv":
        lines = source_path.read_bytes().splitlines(keepends=True)  # no newline in a value
        total = len(lines) - 1
        keep = _sample_rows(total, rows, seed)
        (out / name).write_bytes(b"".join([lines[0], *(lines[i + 1] for i in keep)]))
    else:
        from openpyxl import Workbook, load_workbook

        sheet = load_workbook(source_path, read_only=True).worksheets[0]
        table = list(sheet.iter_rows(values_only=True))
        total = len(table) - 1
        keep = _sample_rows(total, rows, seed)
        book = Workbook(write_only=True)
        new = book.create_sheet("Sheet1")
        for i in [-1, *keep]:
            new.append(list(table[i + 1]))
        book.save(out / name)
    truth = pd.read_csv(dataset / "truth" / f"{SOURCE}_links.csv", dtype="string",
                        keep_default_na=False)  # fmt: skip
    from transforms.readers import read_source

    ids = read_source(out / name, SOURCE)["record_id"]
    truth = truth[truth["record_id"].isin(set(ids.dropna()))]
    truth.to_csv(out / "truth" / f"{SOURCE}_links.csv", index=False)
    return {"rows": int(len(ids)), "generated_rows": int(total), "seed": seed}


def _sample_rows(total: int, rows: int, seed: int):
    """Sorted positions of ``rows`` rows out of ``total`` (all of them when fewer)."""
    import numpy as np

    if rows >= total:
        return np.arange(total)
    return np.sort(np.random.default_rng(seed).choice(total, size=rows, replace=False))
