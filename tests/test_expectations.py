"""Quality gates on small hand-built standardized frames (the DESIGN.md columns)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pandas as pd
import pytest

import expectations
from expectations.stored import load_rules
from popsync.core.contracts import PILLARS, SEVERITIES, VALIDATION_FINDING_COLUMNS
from transforms.row_keys import with_unique_record_ids

RUN = dt.date(2023, 1, 15)
RUN_POST = dt.date(2021, 9, 1)  # doses of the hand-built rows are in June-August 2021
D = pd.Timestamp


def _row(record_id: str, **values) -> dict:
    """A clean vaccination row (standardized), a day later per record, overridden by ``values``."""
    day = D("2021-06-01") + pd.Timedelta(days=int(record_id[1:]))
    row = {
        "source": "tiem_chung",
        "record_id": record_id,
        "src_file": "tc.csv",
        "src_sha256": "0" * 64,
        "src_row": int(record_id[1:]),
        "raw_full_name": "Nguyễn Văn An",
        "full_name": "Nguyễn Văn An",
        "name_key": "nguyen van an",
        "raw_birth_date": "12/03/1985",
        "birth_date": D("1985-03-12"),
        "birth_date_precision": "day",
        "birth_year": 1985,
        "raw_sex": "Nam",
        "sex": "M",
        "raw_id_number": "001085123456",
        "id_number": "001085123456",
        "id_kind": "cccd",
        "id_sex": "M",
        "id_birth_year": 1985,
        "raw_phone": "0912345678",
        "phone": "0912345678",
        "raw_address": "Số 1 Phố Huế, Phường Hàng Bài, Quận Hoàn Kiếm, Hà Nội",
        "raw_province": "Hà Nội",
        "raw_district": "Hoàn Kiếm",
        "raw_ward": "Hàng Bài",
        "raw_dose_number": "1",
        "dose_number": 1,
        "raw_vaccine": "AstraZeneca",
        "vaccine": "AstraZeneca",
        "raw_vaccination_date": "15/06/2021",
        "vaccination_date": day,
        "vaccination_date_precision": "day",
        "flags": "",
        "repairs": "",
    }
    row.update(values)
    return row


def _frame(*rows: dict) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows))
    for column in frame.columns:
        if column in ("dose_number", "birth_year", "id_birth_year", "src_row"):
            frame[column] = frame[column].astype("Int64")
        elif not pd.api.types.is_datetime64_any_dtype(frame[column]):
            frame[column] = frame[column].astype("string")
    return frame


def _rules_for(result, record_id: str) -> set[str]:
    return set(result.findings.loc[result.findings["record_id"].eq(record_id), "rule"])


def test_every_stored_rule_is_tagged_and_builds_a_gx_suite():
    for source in ("tiem_chung", "f0", "bhxh"):
        for stage in ("pre_link", "post_link"):
            rules = load_rules(source, stage)
            assert {r.pillar for r in rules} <= set(PILLARS)
            assert {r.severity for r in rules} <= set(SEVERITIES)
            assert all(r.reason for r in rules)
    import great_expectations as gx

    from expectations.stored import build_suite

    gx.get_context(mode="ephemeral")  # a suite reads its expectations through a context
    suite = build_suite("tiem_chung", "pre_link")
    century = next(
        e
        for e in suite.expectations
        if e.meta["rule"] == "id_century_digit_matches_sex_and_birth_year"
    )
    assert type(century).__name__ == "ExpectIdCenturyDigitToMatchSexAndBirthYear"
    assert century.meta["pillar"] == "dung" and century.meta["severity"] == "warn"
    assert "century and sex" in century.description and "Đúng" in century.notes


def test_pre_link_finds_each_violation_on_its_row_only():
    std = _frame(
        _row("r1"),
        _row("r2", vaccination_date=D("2021-01-05"), raw_vaccination_date="05/01/2021"),
        _row("r3", vaccination_date=D("2023-03-01"), raw_vaccination_date="01/03/2023"),
        _row("r4", dose_number=5, raw_dose_number="5", flags="dose_number:invalid"),
        _row("r5", vaccine=None, raw_vaccine="Nanocovax", flags="vaccine:unknown"),
        _row(
            "r6", raw_id_number=None, id_number=None, id_kind="missing", flags="id_number:missing"
        ),
        _row("r7", sex="F", raw_sex="Nữ"),  # the ID's 4th digit 0 says male
        _row("r8", raw_full_name="NGUYỄN VĂN AN"),
        _row("r9", raw_address="1 Phố Huế, P. Hàng Bài, Q. Hoàn Kiếm, HN"),
        _row(
            "r10",
            raw_id_number="000000000000",
            id_number="000000000000",
            id_kind="invalid",
            flags="id_number:placeholder",
        ),
    )
    result = expectations.validate_pre_link(std, "tiem_chung", RUN)

    assert _rules_for(result, "r1") == set()
    assert _rules_for(result, "r2") == {"vaccination_on_or_after_campaign_start"}
    assert _rules_for(result, "r3") == {"vaccination_date_not_after_run_date"}
    assert _rules_for(result, "r4") == {"dose_number_in_approved_range"}
    assert _rules_for(result, "r5") == {"vaccine_in_approved_list"}
    assert _rules_for(result, "r6") == {"id_number_present"}
    assert _rules_for(result, "r7") == {"id_century_digit_matches_sex_and_birth_year"}
    assert _rules_for(result, "r8") == {"full_name_written_in_standard_form"}
    assert _rules_for(result, "r9") == {"address_without_abbreviations"}
    assert _rules_for(result, "r10") == {"id_number_not_placeholder"}
    # a missing or placeholder ID is allowed by the contract: the row is linked by name, birth
    # date, sex and address, so it is reported (warn), not held back
    assert expectations.quarantined_ids(result) == {"r2", "r3", "r4", "r5"}
    assert result.scores["verdict"] == "quarantine" and result.blocked == []
    assert result.scores["pillars"]["dung"] == pytest.approx(1 - 5 / 10)  # r2 r3 r4 r5 r7


def test_findings_mask_personal_values():
    std = _frame(_row("r1"), _row("r2", sex="F", raw_sex="Nữ"))
    result = expectations.validate_pre_link(std, "tiem_chung", RUN)
    observed = result.findings.set_index("rule").loc[
        "id_century_digit_matches_sex_and_birth_year", "observed"
    ]
    assert observed == "id_number=001******456; sex=F; birth_year=1985"
    assert list(result.findings.columns) == list(VALIDATION_FINDING_COLUMNS)


def test_duplicate_rows_quarantine_the_later_copy_and_warn_on_the_first():
    same_dose = {"vaccination_date": D("2021-06-15")}
    std = _frame(_row("r1", **same_dose), _row("r2", **same_dose), _row("r3", **same_dose))
    std.loc[2, "dose_number"] = 2
    result = expectations.validate_pre_link(std, "tiem_chung", RUN)
    assert _rules_for(result, "r1") == {"row_has_no_copy"}
    assert _rules_for(result, "r2") == {"row_has_no_copy", "row_not_duplicated"}
    assert _rules_for(result, "r3") == set()
    assert expectations.quarantined_ids(result) == {"r2"}


def test_f0_recovery_and_bhxh_period_order():
    f0 = _frame(
        _row("r1", source="f0", positive_date=D("2022-03-01"), recovery_date=D("2022-03-10")),
        _row("r2", source="f0", positive_date=D("2022-03-02"), recovery_date=D("2022-02-20")),
    ).assign(raw_positive_date="01/03/2022")
    result = expectations.validate_pre_link(f0, "f0", RUN)
    assert _rules_for(result, "r1") == set()
    assert _rules_for(result, "r2") == {"recovery_on_or_after_positive_test"}

    bhxh = _frame(
        _row("r1", period_start=D("2019-07-01"), period_end=D("2020-06-30")),
        _row("r2", period_start=D("2019-07-01"), period_end=D("2019-01-31")),
        _row("r3", period_start=D("2020-01-01"), raw_bhxh_number="12345", bhxh_number=None),
    ).assign(
        source="bhxh", raw_period_start="x", raw_bhxh_number=["0123456789", "0123456780", "12345"]
    )
    bhxh["bhxh_number"] = pd.array(["0123456789", "0123456780", None], dtype="string")
    result = expectations.validate_pre_link(bhxh, "bhxh", RUN)
    assert _rules_for(result, "r2") == {"period_end_on_or_after_start"}
    assert _rules_for(result, "r3") == {"bhxh_number_valid"}


def test_a_mostly_empty_required_field_blocks_the_batch():
    rows = [_row(f"r{i}") for i in range(1, 5)]
    for row in rows[:3]:
        row.update(birth_date=pd.NaT, flags="birth_date:unparseable")
    result = expectations.validate_pre_link(_frame(*rows), "tiem_chung", RUN)
    assert result.blocked == [("birth_dates_mostly_usable", 4)]
    assert result.scores["verdict"] == "blocked" and result.scores["pillars"]["du"] == 0.0
    with pytest.raises(expectations.BatchBlocked, match=r"birth_dates_mostly_usable \(4 rows\)"):
        expectations.raise_if_blocked(result)


def _register() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person_id": ["001085123456", "001190000001"],
            "cmnd": ["011111111", None],
            "full_name": ["Nguyễn Văn An", "Trần Thị Bình"],
            "birth_date": [D("1985-03-12"), D("1990-05-04")],
            "birth_date_precision": ["day", "day"],
            "sex": ["M", "F"],
            "death_date": [pd.NaT, D("2021-07-01")],
            "updated_at": [D("2021-08-28 08:00"), D("2021-07-02")],
        }
    )


def _decisions(std: pd.DataFrame, people: list[str | None]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "record_id": std["record_id"],
            "so_dinh_danh": [p or "" for p in people],
            "decision": ["match" if p else "no_match" for p in people],
            "score": [0.99 if p else 0.1 for p in people],
        }
    )


def test_post_link_checks_rows_against_the_linked_person():
    bình = {"full_name": "Trần Thị Bình", "name_key": "tran thi binh", "sex": "F",
            "birth_date": D("1990-05-04"), "raw_id_number": "001190000001",
            "id_number": "001190000001", "id_sex": "F", "id_birth_year": 1990}  # fmt: skip
    std = _frame(
        _row("r1", positive_date=D("2021-07-01")),
        _row(
            "r3", positive_date=D("2021-07-03"), full_name="Nguyễn An", birth_date=D("1985-12-03")
        ),
        _row("r4", positive_date=D("2021-07-04"), id_number="001085123465"),
        _row("r5", positive_date=D("2021-08-01"), **bình),  # after her death on 2021-07-01
        _row("r6", positive_date=D("2021-08-02"), id_number="001190000001"),  # unlinked
    ).assign(source="f0")
    people = ["001085123456"] * 3 + ["001190000001", None]
    result = expectations.validate_post_link(
        std, _decisions(std, people), _register(), "f0", RUN_POST
    )
    assert _rules_for(result, "r1") == set()
    assert _rules_for(result, "r3") == {
        "name_agrees_with_register",
        "birth_date_agrees_with_register",
    }
    assert _rules_for(result, "r4") == {"declared_id_belongs_to_linked_person"}
    assert _rules_for(result, "r5") == {"no_event_after_death", "id_claimed_by_one_person"}
    assert _rules_for(result, "r6") == {"record_linked", "id_claimed_by_one_person"}
    assert expectations.quarantined_ids(result) == {"r5"}
    assert result.blocked == []  # register updated 4 days before the run, cases recent enough
    observed = result.findings.set_index(["record_id", "rule"])["observed"]
    assert (
        observed["r3", "name_agrees_with_register"]
        == "full_name=N***** A*; reg_full_name=N***** V** A*"
    )


def test_post_link_checks_dose_intervals_and_order_per_person():
    std = _frame(
        _row("r1", vaccination_date=D("2021-06-02")),
        _row("r2", dose_number=2, vaccination_date=D("2021-06-25")),  # AZ: 56 days at least
        _row("r3", dose_number=2, vaccination_date=D("2021-08-25")),  # a second dose 2
        _row("r4", dose_number=3, vaccination_date=D("2021-08-30")),  # additional: 28 days
    )
    people = ["001085123456"] * 4
    result = expectations.validate_post_link(
        std, _decisions(std, people), _register(), "tiem_chung", RUN_POST
    )
    assert _rules_for(result, "r1") == set()
    assert _rules_for(result, "r2") == {"dose_interval_respected"}
    assert _rules_for(result, "r3") == {"dose_numbers_in_date_order"}
    assert _rules_for(result, "r4") == {"dose_interval_respected"}


def test_post_link_blocks_a_stale_register_and_decisions_join_on_record_id():
    std = _frame(_row("r1"), _row("r2", dose_number=2, vaccination_date=D("2021-09-01")))
    decisions = _decisions(std, ["001085123456", "001085123456"]).iloc[::-1]
    register = _register().assign(updated_at=D("2022-06-01"))
    result = expectations.validate_post_link(std, decisions, register, "tiem_chung", RUN)
    assert ("register_snapshot_recent", 2) in result.blocked
    assert ("extract_recent", 2) in result.blocked  # newest dose 2021-09-01, run 2023-01-15
    assert _rules_for(result, "r2") == set()  # 91 days after dose 1: the join kept the rows apart


def test_a_rule_gx_cannot_evaluate_raises(monkeypatch):
    from expectations import engine

    monkeypatch.setattr(
        engine, "RESULT_FORMAT", {**engine.RESULT_FORMAT, "unexpected_index_column_names": ["nope"]}
    )
    with pytest.raises(expectations.RuleEvaluationError, match="failed to run"):
        expectations.validate_pre_link(
            _frame(_row("r1"), _row("r2", raw_sex=None)), "tiem_chung", RUN
        )


def test_write_outputs_and_data_docs(tmp_path):
    std = _frame(_row("r1"), _row("r2", vaccine=None, raw_vaccine="Nanocovax"))
    docs = tmp_path / "data_docs"
    run = dt.date(2021, 7, 1)
    pre = expectations.validate_pre_link(std, "tiem_chung", run, docs_dir=docs)
    decisions = _decisions(std, ["001085123456", None])
    post = expectations.validate_post_link(
        std, decisions, _register(), "tiem_chung", run, docs_dir=docs
    )
    written = expectations.write_outputs([pre, post], tmp_path)
    scores = json.loads((tmp_path / "scores.json").read_text(encoding="utf-8"))
    assert scores["verdict"] == "quarantine" and set(scores["stages"]) == {"pre_link", "post_link"}
    assert scores["pillars"]["dung"] == pytest.approx(0.5)  # r2: vaccine unknown, not linked
    findings = pd.read_parquet(written["findings"])
    # r2 is not linked yet declares r1's ID: one ID claimed by two people (both rows).
    assert set(findings["rule"]) == {
        "vaccine_in_approved_list",
        "record_linked",
        "id_claimed_by_one_person",
    }
    assert scores["pillars"]["sach"] == 0.0
    assert (tmp_path / "findings.csv").exists()

    index = (docs / "index.html").read_text(encoding="utf-8")
    assert "tiem_chung_pre_link" in index and "tiem_chung_post_link" in index
    pages = "".join(p.read_text(encoding="utf-8") for p in docs.rglob("*.html"))
    assert "The product is not one of the COVID-19 vaccines approved in Vietnam." in pages
    assert "[Đúng · quarantine]" in pages
    assert "Nanocovax" not in pages and "r2" not in pages  # no row values or ids in the docs


def test_data_docs_index_links_every_result_and_reads_offline(tmp_path, caplog):
    std = _frame(_row("r1"), _row("r2", vaccine=None, raw_vaccine="Nanocovax"))
    docs = tmp_path / "data_docs"
    run = dt.date(2021, 7, 1)
    with caplog.at_level("WARNING"):
        expectations.validate_pre_link(std, "tiem_chung", run, docs_dir=docs)
        expectations.validate_post_link(
            std,
            _decisions(std, ["001085123456", None]),
            _register(),
            "tiem_chung",
            run,
            docs_dir=docs,
        )
    assert "Validation result not found" not in caplog.text
    pages = {
        stage: next(docs.glob(f"validations/tiem_chung_{stage}/**/*.html")).relative_to(docs)
        for stage in ("pre_link", "post_link")
    }
    gx_index = (docs / "gx_index.html").read_text(encoding="utf-8")  # GX's own index
    landing = (docs / "index.html").read_text(encoding="utf-8")  # static, no scripts
    for page in pages.values():
        assert page.as_posix() in gx_index
        assert f'href="{page.as_posix()}"' in landing
    assert "<script" not in landing and "http" not in landing.replace("http-equiv", "")
    # The failed rule with its pillar, severity and reason, and the pillar x severity counts.
    assert "vaccine_in_approved_list" in landing and "quarantine" in landing
    assert "Vắc xin không thuộc danh sách vắc xin COVID-19 được phép dùng" in landing
    assert "Nanocovax" not in landing and "r2" not in landing
    # GX's pages carry the offline styles: status icons as text glyphs, tables without Bootstrap.
    result_page = (docs / pages["pre_link"]).read_text(encoding="utf-8")
    assert "popsync: Data Docs readable offline" in result_page
    # and load nothing from a CDN (offline it would only fail)
    assert not re.search(r'<(?:script|link)[^>]+(?:src|href)="https?://', result_page)
    assert "Data asset: tiem_chung_pre_link" in " ".join(result_page.split())


# ------------------------------------------------------------------ the register (dan_cu)

RUN_REGISTER = dt.date(2023, 1, 15)
_REGISTER_HEADER = (
    "so_dinh_danh", "so_cmnd", "ho_ten", "ngay_sinh", "gioi_tinh", "ma_tinh", "ma_huyen",
    "ma_xa", "dia_chi", "so_dien_thoai", "ngay_mat", "ngay_cap_nhat",
)  # fmt: skip


def _person(so_dinh_danh: str, **values: str) -> dict:
    """A clean register row (extracts.md layout, as written in the file), overridden by ``values``."""
    row = {
        "so_dinh_danh": so_dinh_danh,
        "so_cmnd": "",
        "ho_ten": "Lê Văn Đức",
        "ngay_sinh": "31/10/1990",
        "gioi_tinh": "Nam",
        "ma_tinh": "01",
        "ma_huyen": "271",
        "ma_xa": "09676",
        "dia_chi": "Thôn 10, Xã Sơn Đà, Huyện Ba Vì, Thành phố Hà Nội",
        "so_dien_thoai": "0333017422",
        "ngay_mat": "",
        "ngay_cap_nhat": "2023-01-10T05:18:16",
    }
    row.update(values)
    return row


def _register_file(tmp_path, *people: dict) -> pd.DataFrame:
    """The rows written as a register CSV, read and standardized as the pipeline does."""
    from transforms.readers import read_source
    from transforms.standardize import standardize

    path = tmp_path / "dan_cu.csv"
    pd.DataFrame(list(people), columns=list(_REGISTER_HEADER)).to_csv(
        path, index=False, encoding="utf-8"
    )
    return standardize(read_source(path, "dan_cu"), "dan_cu")


def _findings_by_row(result) -> dict[str, set[str]]:
    rows = result.findings.dropna(subset=["record_id"])
    return {rid: set(group["rule"]) for rid, group in rows.groupby("record_id")}


def test_register_rules_are_tagged():
    rules = load_rules("dan_cu", "register")
    assert {r.pillar for r in rules} == set(PILLARS)
    assert {r.severity for r in rules} == {"block", "warn"}  # the reference is never quarantined
    assert all(r.reason for r in rules)


def test_register_finds_each_violation_on_its_row(tmp_path):
    import unicodedata

    nfd = unicodedata.normalize("NFD", "Lê Văn Đức")
    std = _register_file(
        tmp_path,
        _person("001090111001", so_cmnd="012428594"),  # clean
        _person("001191666190", ho_ten="Lê Thị Trang", ngay_sinh="13/12/1991", gioi_tinh="Nữ"),
        _person("003090111003"),  # 003: no province has it
        _person("001490111004"),  # century digit 4: born 2190
        _person("001190111005"),  # digit 1 says female
        _person("001090111006"),
        _person("001090111006", ho_ten="Trần Văn Bình"),  # same ID as the row above
        _person(""),
        _person("001090111009", so_cmnd="12345"),
        _person("001090111010", ngay_sinh="31/02/1990"),
        _person("001090111011", ngay_sinh="1990"),
        _person("001090111012", gioi_tinh="X"),
        _person("001090111013", gioi_tinh=""),
        _person("001090111014", ma_xa="00001"),  # Phúc Xá is in Ba Đình, not Ba Vì
        _person("001090111015", ma_xa="99999"),
        _person("001090111016", ho_ten=nfd),
        _person("001090111017", ngay_mat="01/01/1980"),
        _person("001090111018", ngay_mat="01/02/2023"),
        _person("001090111019", ngay_cap_nhat="2023-02-01T08:00:00"),
        _person("001090111020", ngay_cap_nhat=""),
        _person("001090111021", ho_ten=""),
        _person("1090111022"),  # leading zeros lost (Excel)
        _person("001090111023", so_dien_thoai="12345"),
        _person("001090111024", ngay_cap_nhat="2023-01-15T23:59:00"),  # during the run date
    )
    result = expectations.validate_register(std, RUN_REGISTER)
    assert (result.source, result.stage, result.rows) == ("dan_cu", "register", 24)
    # a repeated or missing ID: a key from the row's content (transforms.row_keys)
    repeated, missing = with_unique_record_ids(std)["record_id"].iloc[[6, 7]]
    assert repeated.startswith("001090111006~") and missing.startswith("~")
    assert _findings_by_row(result) == {
        "003090111003": {"person_id_structure_valid"},
        "001490111004": {
            "person_id_structure_valid",
            "id_century_digit_matches_sex_and_birth_year",
        },
        "001190111005": {"id_century_digit_matches_sex_and_birth_year"},
        "001090111006": {"person_id_unique"},
        repeated: {"person_id_unique"},
        missing: {"person_id_present"},
        "001090111009": {"cmnd_valid"},
        "001090111010": {"birth_date_readable"},
        "001090111011": {"birth_date_complete"},
        "001090111012": {"sex_is_nam_or_nu"},
        "001090111013": {"sex_present"},
        "001090111014": {"admin_codes_consistent"},
        "001090111015": {"admin_codes_valid"},
        "001090111016": {"full_name_is_nfc", "full_name_written_in_standard_form"},
        "001090111017": {"death_not_before_birth"},
        "001090111018": {"death_date_not_after_run_date"},
        "001090111019": {"updated_at_not_after_run_date"},
        "001090111020": {"updated_at_present"},
        "001090111021": {"full_name_present"},
        "1090111022": {"person_id_written_in_standard_form"},
        "001090111023": {"phone_valid"},
    }
    assert result.findings["record_id"].notna().all()  # no batch-level rule failed
    assert sorted(result.blocked) == [("person_id_present", 1), ("person_id_unique", 2)]
    assert result.scores["verdict"] == "blocked"
    assert set(result.findings["severity"]) == {"block", "warn"}
    with pytest.raises(expectations.BatchBlocked, match=r"person_id_unique \(2 rows\)"):
        expectations.raise_if_blocked(result)
    masked = result.findings.loc[result.findings["rule"].eq("person_id_unique"), "observed"]
    assert set(masked) == {"src_row=6; person_id=001******006", "src_row=7; person_id=001******006"}


def test_register_snapshot_freshness_warns_then_blocks(tmp_path):
    std = _register_file(tmp_path, _person("001090111001"), _person("001090111002"))
    fresh = expectations.validate_register(std, dt.date(2023, 1, 20))
    assert fresh.findings.empty and fresh.scores["verdict"] == "pass"
    aging = expectations.validate_register(std, dt.date(2023, 3, 1))  # 50 days
    assert list(aging.findings["rule"]) == ["register_snapshot_recent"]
    assert aging.findings["record_id"].isna().all() and not aging.blocked
    assert aging.scores["pillars"]["song"] == 0.0 and aging.scores["verdict"] == "pass"
    stale = expectations.validate_register(std, dt.date(2023, 6, 1))  # 142 days
    assert sorted(stale.findings["rule"]) == [
        "register_snapshot_not_stale",
        "register_snapshot_recent",
    ]
    assert stale.blocked == [("register_snapshot_not_stale", 2)]  # a batch rule counts every row
    undated = _register_file(tmp_path, _person("001090111001", ngay_cap_nhat=""))
    result = expectations.validate_register(undated, dt.date(2023, 1, 20))
    assert ("register_snapshot_not_stale", 1) in result.blocked


def test_a_register_of_mostly_malformed_ids_or_dates_is_blocked(tmp_path):
    std = _register_file(
        tmp_path,
        *[_person(f"12345{i}", ngay_sinh="1990-31-12") for i in range(5)],
        _person("001090111006"),
    )
    result = expectations.validate_register(std, RUN_REGISTER)
    assert {rule for rule, _ in result.blocked} == {
        "person_ids_mostly_valid",
        "birth_dates_mostly_usable",
    }
    assert len(result.findings.query("rule == 'person_id_structure_valid'")) == 5


def test_committed_register_sample_is_clean_enough():
    from pathlib import Path

    from transforms.readers import read_source
    from transforms.standardize import standardize

    samples = Path(__file__).resolve().parents[1] / "data_samples"
    run_date = dt.date.fromisoformat(
        json.loads((samples / "manifest.json").read_text())["extract_date"]
    )
    std = standardize(read_source(samples / "dan_cu.csv", "dan_cu"), "dan_cu")
    result = expectations.validate_register(std, run_date)
    assert not result.blocked and result.scores["verdict"] != "blocked"
    serious = result.findings[result.findings["severity"].ne("warn")]
    assert serious["record_id"].nunique() < 0.01 * len(std)


def test_findings_observe_the_failing_row_when_record_ids_repeat():
    std = _frame(_row("r1"), _row("r2", raw_sex=None)).assign(record_id="r1")
    result = expectations.validate_pre_link(std, "tiem_chung", RUN)
    observed = result.findings.set_index("rule")["observed"]
    assert observed["sex_present"] == "src_row=2"
    assert sorted(observed[["record_id_unique"]]) == ["src_row=1", "src_row=2"]
