"""Keys of rows whose record id is missing or repeats an earlier row's (issue 11): derived from
the row's content, so that a key stays with its row when lines are added above it, in a new
version of the file or in another format, and on the chunked path as on the whole file."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from popsync import pipeline
from popsync.core.privacy import mask_record_id
from popsync.core.sources import spec_of
from popsync.generate import generate_dataset
from popsync.pipeline.stages import read_standardized
from popsync.resources import Resources
from transforms.row_keys import with_unique_record_ids

ID = "Mã ca bệnh"


@pytest.fixture(scope="module")
def f0_rows(tmp_path_factory) -> pd.DataFrame:
    folder = tmp_path_factory.mktemp("set")
    generate_dataset(out_dir=folder, people=300, seed=3, formats="csv")
    return pd.read_csv(folder / "f0.csv", dtype=str, keep_default_na=False)


def _keys(frame: pd.DataFrame, path: Path) -> pd.Series:
    """The record ids the pipeline gives the rows of ``frame`` written to ``path``."""
    if path.suffix == ".xlsx":
        frame.to_excel(path, index=False)
    else:
        frame.to_csv(path, index=False)
    std = with_unique_record_ids(read_standardized(path, spec_of("f0")))
    return std["record_id"]


def test_a_row_without_an_id_keeps_its_key_when_a_line_is_added_above_it(f0_rows, tmp_path):
    first = f0_rows.copy()
    first.loc[7, ID] = ""
    added = f0_rows.iloc[[0]].assign(**{ID: "NEW-1", "Nơi điều trị": "Trạm y tế phường"})
    second = pd.concat([added, first], ignore_index=True)

    before = _keys(first, tmp_path / "v1.csv")
    after = _keys(second, tmp_path / "v2.csv")

    assert before[7].startswith("~")
    assert after[8] == before[7]  # the same row, one line further down
    # the same rows as an XLSX file: the same keys
    assert _keys(first, tmp_path / "v1.xlsx").tolist() == before.tolist()


def test_identical_rows_are_told_apart_by_their_order_and_keys_hold_no_values(f0_rows, tmp_path):
    frame = f0_rows.iloc[:6].copy()
    frame.loc[1, ID] = ""
    frame.loc[4] = frame.loc[1]  # the same id-less row twice
    frame.loc[5, ID] = frame.loc[0, ID]  # an id repeated by another row
    frame.loc[3, ID] = ""  # a different row without an id

    keys = _keys(frame, tmp_path / "f0.csv")

    assert keys.is_unique
    assert keys[4] == keys[1] + ".2"  # the second of two identical rows, in file order
    assert keys[3] != keys[1]
    assert keys[5].startswith(frame.loc[0, ID] + "~") and keys[0] == frame.loc[0, ID]
    for at in (1, 3, 4, 5):
        digest = keys[at].split("~", 1)[1]
        assert re.fullmatch(r"[a-z]{12}(\.\d+)?", digest), keys[at]
        assert mask_record_id(keys[at]) == keys[at].replace(
            frame.loc[0, ID], mask_record_id(frame.loc[0, ID])
        )
    # a row with the same values elsewhere in another file version keeps its key
    moved = pd.concat([frame.iloc[[2, 3]], frame.iloc[[0, 1, 4, 5]]], ignore_index=True)
    again = _keys(moved, tmp_path / "moved.csv")
    assert again[1] == keys[3] and again[3] == keys[1] and again[4] == keys[4]


def test_a_reissued_file_keeps_the_keys_of_its_unchanged_rows_without_id(f0_rows, tmp_path):
    set_dir = tmp_path / "set"
    generate_dataset(out_dir=set_dir, people=300, seed=3, formats="csv")
    first = f0_rows.copy()
    first.loc[7, ID] = ""
    added = f0_rows.iloc[[0]].assign(**{ID: "NEW-1"})
    second = pd.concat([added, first], ignore_index=True)
    res = Resources.from_environment(workdir=tmp_path / "w")
    path = tmp_path / "landing" / "f0_2022-02.csv"
    path.parent.mkdir()
    held = []
    for version in (first, second):
        version.to_csv(path, index=False)
        done = pipeline.run_source(res, "f0", path, set_dir / "dan_cu.csv", "2023-01-15")
        with res.warehouse() as store:
            held.append(
                store.fetch(
                    "SELECT record_id, src_row FROM quarantine WHERE source = 'f0' "
                    "AND rules LIKE %s",
                    ("%record_id_present%",),
                )
            )
            store.reconcile(done["run_id"])
    (key_before, row_before), (key_after, row_after) = held[0][0], held[1][0]
    assert (row_before, row_after) == (8, 9)  # the line moved down ...
    assert key_after == key_before  # ... its key did not


def test_the_register_in_row_groups_gets_the_keys_of_the_whole_snapshot(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from popsync.pipeline.register_chunks import _clash_keys

    generate_dataset(out_dir=tmp_path / "set", people=300, seed=3, formats="csv")
    people = pd.read_csv(tmp_path / "set" / "dan_cu.csv", dtype=str, keep_default_na=False)
    people.iloc[[20, 250], 0] = ""  # no ID, in two row groups
    people.iloc[260] = people.iloc[20]  # a copy of an id-less row, in another row group
    people.iloc[270, 0] = people.iloc[30, 0]  # an ID repeated further on
    people.to_csv(tmp_path / "dan_cu.csv", index=False)
    std = read_standardized(tmp_path / "dan_cu.csv", spec_of("dan_cu"))
    pq.write_table(pa.Table.from_pandas(std), tmp_path / "std.parquet", row_group_size=100)

    whole = with_unique_record_ids(std)["record_id"]
    keys = _clash_keys(tmp_path / "std.parquet")

    assert keys.index.tolist() == [20, 250, 260, 270]
    assert keys.tolist() == whole[[20, 250, 260, 270]].tolist()
    assert keys[260] == keys[20] + ".2" and keys[270].startswith(people.iloc[30, 0] + "~")
