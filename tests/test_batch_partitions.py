"""The batch rules worked out a partition at a time (``pipeline.batch_partitions``) find what
they find over one frame of every row (the code before them), whatever the number of
partitions: the same findings in the same order, scores and blocks, and the same quarantine,
review and finding rows in PostgreSQL. The rules' keys cross chunk borders here: a dose copied
into a later chunk, an ID claimed in two chunks, a source record id repeated in another chunk,
people with doses in several chunks."""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import psycopg2
import pytest
from psycopg2 import sql

from popsync import pipeline
from popsync.pipeline import chunk_finish
from popsync.pipeline.batch import as_date
from popsync.pipeline.batch_partitions import bucket_count, key_buckets
from popsync.pipeline.chunks import LINK_COLUMNS, _linkage, chunk_key, plan_chunks, run_chunk
from popsync.resources import Resources

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"
RUN_DATE = "2022-06-30"
_TABLES = ("quarantine", "review_candidate", "quality_finding", "vaccination_dose")


@pytest.fixture
def extract_csv(tmp_path) -> Path:
    """The sample vaccination extract as CSV, with rows whose rule keys cross chunks of 1,000
    rows: a copy of a first-chunk dose in the last chunk, a first-chunk ID declared by another
    person in the last chunk, a first-chunk record id repeated in chunk 5."""
    frame = _sample_rows()
    copy = frame.iloc[[100]].assign(**{"Mã bản ghi": "TC_COPY_OF_101"})
    frame.loc[6300, "Số CMND/CCCD"] = frame.loc[150, "Số CMND/CCCD"]
    frame.iloc[5_000, 0] = frame.iloc[10, 0]
    path = tmp_path / "tiem_chung.csv"
    pd.concat([frame, copy], ignore_index=True).to_csv(path, index=False)
    return path


def _sample_rows() -> pd.DataFrame:
    import openpyxl

    sheet = openpyxl.load_workbook(SAMPLES / "tiem_chung.xlsx", read_only=True).active
    rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    rows = [row for row in rows if any(row)]
    return pd.DataFrame(rows[1:], columns=rows[0])


def _one_frame_rules(batch, res):
    """The batch rules as they ran before partitions: over one frame of every chunk's rows."""
    import expectations

    spec, run_date = res.catalog.extract(batch["source"]), as_date(batch["run_date"])
    frames = []
    for entry in batch["chunks"]:
        rows = res.workarea.read_parquet(chunk_key(batch, "linked", entry["index"]))
        carried = res.workarea.read_parquet(chunk_key(batch, "rules", entry["index"], False))
        frames.append(rows.join(carried.set_axis(rows.index).drop(columns=rows.columns,
                                                                   errors="ignore")))  # fmt: skip
    frame = pd.concat(frames, ignore_index=True)
    pre = expectations.validate_pre_link(frame, spec, run_date, scope="batch")
    no_people = pd.DataFrame({"person_id": pd.Series(dtype="string")})
    post = expectations.validate_post_link(
        frame, frame[["record_id", *LINK_COLUMNS[:3]]], no_people, spec, run_date,
        scope="batch", register_age=_linkage(batch, res).age_days(run_date),
    )  # fmt: skip
    age = _linkage(batch, res).age_days(run_date)
    assert age is not None and chunk_finish._register_age(batch, res, run_date) == age
    return {"pre_link": pre, "post_link": post}


def _tables(url: str) -> dict[str, pd.DataFrame]:
    out = {}
    with psycopg2.connect(url) as conn:
        for table in _TABLES:
            with conn.cursor() as cur:
                cur.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(table)))
                names = [column.name for column in cur.description]
                frame = pd.DataFrame(cur.fetchall(), columns=names, dtype=object)
            frame = frame.drop(columns=[c for c in names if c.endswith("_at") or "run" in c])
            frame = frame.astype("string").fillna("<null>")
            out[table] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return out


@pytest.fixture
def second_database(pg_url):
    admin = psycopg2.connect(pg_url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    name = f"popsync_partitions_{uuid.uuid4().hex[:10]}"
    with admin.cursor() as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlsplit(pg_url)._replace(path=f"/{name}").geturl()
    finally:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()


def test_batch_rules_in_many_partitions_find_what_one_frame_finds(
    tmp_path, pg_url, second_database, extract_csv
):
    res = Resources.from_environment(database_url=pg_url, workdir=tmp_path / "work")
    batch = pipeline.new_batch("tiem_chung", extract_csv, SAMPLES / "dan_cu.csv", RUN_DATE)
    batch = plan_chunks(batch, res, 1_000)
    parts = [run_chunk(batch, res, entry["index"]) for entry in batch["chunks"]]
    assert len(parts) == 7 and bucket_count(batch["rows_read"], 37) == 178

    before = _one_frame_rules(batch, res)
    for bucket_rows in (10**9, 1_000, 37):
        after = chunk_finish._batch_rules(batch, res, bucket_rows)
        for stage, result in before.items():
            pd.testing.assert_frame_equal(after[stage].findings, result.findings, obj=stage)
            assert after[stage].scores == result.scores
            assert after[stage].blocked == result.blocked
            assert after[stage].rows == result.rows == 6575

    # The equality means something only if the rules' rows meet across chunks and partitions.
    found = before["pre_link"].findings
    found = pd.concat([found, before["post_link"].findings])
    rows_of = {rule: set(ids) for rule, ids in found.groupby("rule")["record_id"]}
    assert {"TC000101", "TC_COPY_OF_101"} <= rows_of["row_has_no_copy"]
    assert {"TC000151", "TC006301"} <= rows_of["id_claimed_by_one_person"]
    assert len(rows_of["record_id_unique"]) == 2
    assert len(rows_of["dose_interval_respected"]) > 0 < len(rows_of["dose_numbers_in_date_order"])

    # Finished (findings, load) in 178 partitions and in one, into two databases.
    one = chunk_finish.finish_chunks(dict(batch), res, parts, bucket_rows=10**9)
    other = Resources.from_environment(database_url=second_database, workdir=tmp_path / "work")
    many = chunk_finish.finish_chunks(dict(batch), other, parts, bucket_rows=37)
    assert many["counts"] == one["counts"]
    assert many["scores"] == one["scores"]
    first, second = _tables(pg_url), _tables(second_database)
    for table in _TABLES:
        pd.testing.assert_frame_equal(second[table], first[table], obj=table)
    assert len(first["quarantine"]) > 0 and len(first["review_candidate"]) > 0


def test_failing_aggregates_show_what_one_frame_shows(tmp_path, pg_url):
    """Most birth dates blank, every dose a year before the run date: the share of birth dates
    and the newest event's age fail (block) with the observed values of one frame."""
    frame = _sample_rows().iloc[:2_500].copy()
    frame.iloc[1_800, 0] = frame.iloc[3, 0]  # a record id repeated in another chunk
    frame.loc[frame.index[:1_600], "Ngày sinh"] = ""
    frame["Ngày tiêm"] = "15/06/2021"
    path = tmp_path / "blank.csv"
    frame.to_csv(path, index=False)
    res = Resources.from_environment(database_url=pg_url, workdir=tmp_path / "work")
    batch = pipeline.new_batch("tiem_chung", path, SAMPLES / "dan_cu.csv", RUN_DATE)
    batch = plan_chunks(batch, res, 1_000)
    for entry in batch["chunks"]:
        run_chunk(batch, res, entry["index"])

    before = _one_frame_rules(batch, res)
    after = chunk_finish._batch_rules(batch, res, 100)
    for stage, result in before.items():
        pd.testing.assert_frame_equal(after[stage].findings, result.findings, obj=stage)
        assert after[stage].blocked == result.blocked
    blocked = {rule for result in before.values() for rule, _ in result.blocked}
    assert {"birth_dates_mostly_usable", "extract_recent"} <= blocked


def test_equal_keys_go_to_one_bucket_whatever_their_chunk_dtype():
    """A null key part hashes alike as NaT, None or <NA>; a date alike in any unit."""
    dates = pd.Series(pd.to_datetime(["2021-05-01", None]))
    typed = pd.DataFrame({"id": pd.array(["1", None], dtype="string"), "d": dates, "_pos": [0, 1]})
    loose = pd.DataFrame({"id": ["1", None], "d": dates.astype("datetime64[s]"), "_pos": [5, 9]})
    for alone in (False, True):
        a = key_buckets(typed, ["id", "d"], alone, 97)
        b = key_buckets(loose, ["id", "d"], alone, 97)
        assert a[0] == b[0]
    assert key_buckets(typed, ["id"], False, 97)[1] == key_buckets(loose, ["id"], False, 97)[1]
    assert np.array_equal(key_buckets(loose, ["id"], True, 97)[1:], [9])
