"""A batch in small chunks loads the same tables as in one chunk, and as the unchunked stages
(``pipeline.STAGES``, which the DAG runs), on PostgreSQL: the rules that compare rows
(duplicates, a person's doses, one ID claimed by several people) see across chunk borders."""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
import psycopg2
import pytest
from psycopg2 import sql

from popsync import pipeline
from popsync.core.sources import spec_of
from popsync.pipeline.chunks import chunk_key
from popsync.pipeline.stages import read_standardized
from popsync.resources import Resources
from transforms.row_keys import with_unique_record_ids

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"
RUN_DATE = "2022-06-30"
# Columns that name the run or its time, not the data.
_VOLATILE = {"run_id", "loaded_at", "created_at", "decided_at", "started_at", "finished_at",
             "updated_run_id", "first_run_id", "refreshed_at", "changed_at", "queued_at",
             "timings", "change_seq"}  # fmt: skip
_TABLES = ("vaccination_dose", "quarantine", "review_candidate", "quality_finding", "person")


@pytest.fixture
def extract_csv(tmp_path) -> Path:
    """The sample vaccination extract as a UTF-8 CSV (the reader streams CSV files), with a
    copy of a first-chunk dose in the last chunk and a first-chunk ID declared by another
    person in the last chunk."""
    import openpyxl

    sheet = openpyxl.load_workbook(SAMPLES / "tiem_chung.xlsx", read_only=True).active
    rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    rows = [row for row in rows if any(row)]
    frame = pd.DataFrame(rows[1:], columns=rows[0])
    copy = frame.iloc[[100]].assign(**{"Mã bản ghi": "TC_COPY_OF_101"})
    frame.loc[6300, "Số CMND/CCCD"] = frame.loc[150, "Số CMND/CCCD"]
    path = tmp_path / "tiem_chung.csv"
    pd.concat([frame, copy], ignore_index=True).to_csv(path, index=False)
    return path


@pytest.fixture
def databases(pg_url):
    """``pg_url`` and two more fresh databases on the same server."""
    admin = psycopg2.connect(pg_url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    names = [f"popsync_chunks_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    with admin.cursor() as cur:
        for name in names:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield [pg_url, *(urlsplit(pg_url)._replace(path=f"/{n}").geturl() for n in names)]
    finally:
        with admin.cursor() as cur:
            for name in names:
                cur.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()


def _tables(url: str) -> dict[str, pd.DataFrame]:
    with psycopg2.connect(url) as conn:
        out = {}
        for table in _TABLES:
            with conn.cursor() as cur:
                cur.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(table)))
                names = [column.name for column in cur.description]
                frame = pd.DataFrame(cur.fetchall(), columns=names, dtype=object)
            frame = frame.drop(columns=[c for c in frame.columns if c in _VOLATILE])
            frame = frame.astype("string").fillna("<null>")
            out[table] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
        return out


def _run_chunked(url, workdir, extract, chunk_rows):
    res = Resources.from_environment(database_url=url, workdir=workdir)
    batch = pipeline.new_batch("tiem_chung", extract, SAMPLES / "dan_cu.csv", RUN_DATE)
    return pipeline.run_batch(batch, res, chunk_rows=chunk_rows), res


def _run_stages(url, workdir, extract):
    res = Resources.from_environment(database_url=url, workdir=workdir)
    batch = pipeline.new_batch("tiem_chung", extract, SAMPLES / "dan_cu.csv", RUN_DATE)
    for stage in pipeline.STAGES:
        batch = stage(batch, res)
    return batch


def test_chunks_of_1000_rows_load_the_tables_of_one_chunk(tmp_path, databases, extract_csv):
    small, res = _run_chunked(databases[0], tmp_path / "small", extract_csv, 1_000)
    whole, _ = _run_chunked(databases[1], tmp_path / "whole", extract_csv, 10**9)
    stages = _run_stages(databases[2], tmp_path / "stages", extract_csv)

    assert len(small["chunks"]) == 7 and small["streamed"] is True
    assert len(whole["chunks"]) == 1
    assert small["counts"] == whole["counts"]
    assert small["counts"]["read"] == 6575  # the samples' 6,574 doses and the copy
    assert {k: v for k, v in small["counts"].items() if k in stages["counts"]} == stages["counts"]
    chunked, single, staged = (_tables(url) for url in databases)
    for table in _TABLES:
        pd.testing.assert_frame_equal(chunked[table], single[table], obj=table)
        pd.testing.assert_frame_equal(chunked[table], staged[table], obj=table)

    # The equality above means something only if rows meet across chunk borders.
    linked = pd.concat(
        [res.workarea.read_parquet(chunk_key(small, "linked", e["index"])) for e in small["chunks"]]
    ).assign(chunk=lambda f: (f["src_row"] - 1) // 1_000)
    people = linked[linked["decision"].eq("match")].groupby("so_dinh_danh")["chunk"].nunique()
    assert (people > 1).sum() > 50  # people whose doses are in different chunks
    found = chunked["quality_finding"]
    rows_of = {rule: set(ids) for rule, ids in found.groupby("rule")["record_id"]}
    assert {"TC000101", "TC_COPY_OF_101"} <= rows_of["row_has_no_copy"]
    assert "TC_COPY_OF_101" in rows_of["row_not_duplicated"]
    assert {"TC000151", "TC006301"} <= rows_of["id_claimed_by_one_person"]


def test_a_record_id_repeated_in_another_chunk_is_made_unique(tmp_path, pg_url, extract_csv):
    frame = pd.read_csv(extract_csv, dtype=str, keep_default_na=False)
    frame.iloc[5_000, 0] = frame.iloc[10, 0]  # chunk 5 repeats an id of chunk 0
    frame.iloc[6_000, 0] = ""  # and a row has none
    frame.iloc[6_500] = frame.iloc[6_000]  # nor has its copy in chunk 6
    path = tmp_path / "repeated.csv"
    frame.to_csv(path, index=False)

    batch, res = _run_chunked(pg_url, tmp_path / "work", path, 1_000)

    counts = batch["counts"]
    assert counts["read"] == 6575 == counts["loaded"] + counts["quarantined"] + counts["review"]
    with psycopg2.connect(pg_url) as conn:
        held = pd.read_sql(
            "SELECT record_id, rules FROM quarantine WHERE rules LIKE '%%record_id%%'", conn
        )
    # Both rows of the repeated id are held (which one is right cannot be told), the later
    # one under a key of its own; the rows without an id too, the copy told apart by its order;
    # all under the keys the whole file gives them (transforms.row_keys).
    whole = with_unique_record_ids(read_standardized(path, spec_of("tiem_chung")))["record_id"]
    first, later, none = whole[10], whole[5_000], whole[6_000]
    assert later.startswith(f"{first}~") and none.startswith("~")
    assert whole[6_500] == f"{none}.2"
    assert sorted(held["record_id"]) == sorted([first, later, none, f"{none}.2"])


@pytest.mark.parametrize(
    ("source", "stage", "rule", "batch_wide"),
    [
        ("tiem_chung", "pre_link", "row_not_duplicated", True),  # compares rows
        ("tiem_chung", "pre_link", "record_id_unique", True),
        ("tiem_chung", "pre_link", "vaccination_dates_mostly_usable", True),  # an aggregate
        ("tiem_chung", "pre_link", "vaccination_date_present", False),
        ("tiem_chung", "post_link", "dose_numbers_in_date_order", True),
        ("tiem_chung", "post_link", "extract_recent", True),
        ("tiem_chung", "post_link", "name_agrees_with_register", False),
        ("dan_cu", "register", "person_id_unique", True),
        ("dan_cu", "register", "person_id_present", False),
    ],
)
def test_rules_that_need_the_whole_batch_are_told_apart(source, stage, rule, batch_wide):
    from expectations import load_rules
    from expectations.scope import is_batch_rule

    (found,) = [r for r in load_rules(source, stage) if r.rule == rule]
    assert is_batch_rule(found) is batch_wide
