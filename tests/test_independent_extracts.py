"""The independent extract maker (bench/independent): contract layout, truth files,
determinism, and noise that scales with --noise. It shares no code with popsync."""

from __future__ import annotations

import hashlib
import json
import sys
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from popsync.core.sources import load_catalog

BENCH = Path(__file__).resolve().parents[1] / "bench" / "independent"
sys.path.insert(0, str(BENCH))

import make_extracts  # noqa: E402

# The contract's headers as popsync declares them (the generator itself never reads them).
CONTRACT = {spec.id: spec.contract_header for spec in load_catalog().values()}
EXTRACTS = ["tiem_chung", "f0", "bhxh"]
PEOPLE = 2000


def _fold(h: str) -> str:
    s = unicodedata.normalize("NFD", h.strip().casefold().replace("đ", "d"))
    return "".join(c for c in s if not unicodedata.combining(c))


def _make(out: Path, seed: int = 5, noise: float | None = None, formats: str = "csv") -> dict:
    args = [
        "--people",
        str(PEOPLE),
        "--seed",
        str(seed),
        "--out",
        str(out),
        "--formats",
        formats,
        "--quiet",
    ]
    if noise is not None:
        args += ["--noise", str(noise)]
    assert make_extracts.main(args) == 0
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def _read(folder: Path, entry: dict) -> pd.DataFrame:
    return pd.read_csv(
        folder / entry["file"],
        sep=entry["separator"],
        encoding=entry["encoding"],
        dtype=str,
        keep_default_na=False,
    )


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    out = tmp_path_factory.mktemp("indep") / "s5"
    # a small sheet limit forces several numbered xlsx files
    args = [
        "--people",
        str(PEOPLE),
        "--seed",
        "5",
        "--out",
        str(out),
        "--formats",
        "csv,xlsx",
        "--xlsx-max-rows",
        "1500",
        "--quiet",
    ]
    assert make_extracts.main(args) == 0
    return out, json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def test_manifest_and_contract_headers(base):
    out, m = base
    assert m["generator"] == "independent" and m["seed"] == 5 and m["people"] == PEOPLE
    assert len(m["extract_date"]) == 10 and m["register_snapshot_date"]
    for src, cols in CONTRACT.items():
        entry = m["sources"][src]
        df = _read(out, entry)
        assert len(df) == entry["rows"] > 0
        if entry.get("header_variant", "exact") == "exact":  # cp1258 decodes to NFD-like text
            assert [unicodedata.normalize("NFC", c) for c in df.columns] == cols
        else:  # case, blanks and diacritics may differ, as the contract allows
            assert [_fold(c) for c in df.columns] == [_fold(c) for c in cols]
    reg = _read(out, m["sources"]["dan_cu"])
    assert len(reg) == PEOPLE
    assert reg.so_dinh_danh.str.fullmatch(r"\d{12}").all() and reg.so_dinh_danh.is_unique
    assert reg.gioi_tinh.isin(["Nam", "Nữ"]).all()
    assert reg.ngay_sinh.str.fullmatch(r"\d{2}/\d{2}/\d{4}|\d{4}").all()
    assert (reg.ngay_mat != "").any() and (reg.so_cmnd != "").any()


def test_xlsx_split_into_numbered_files(base):
    out, m = base
    for src in EXTRACTS:
        entry = m["sources"][src]
        parts = entry["xlsx"]["parts"]
        assert sum(p["rows"] for p in parts) == entry["rows"]
        if entry["rows"] > 1499:
            assert entry["xlsx"]["split"] and len(parts) >= 2
            assert parts[0]["file"] == f"{src}_001.xlsx"
        first = pd.read_excel(
            out / parts[0]["file"],
            dtype=object,
            header=parts[0]["leading_blank_rows"],
            engine="openpyxl",
        )
        assert len(first) == parts[0]["rows"]
        assert [_fold(str(c)) for c in first.columns] == [_fold(c) for c in CONTRACT[src]]


def test_truth_files_shape(base):
    out, m = base
    reg_ids = set(_read(out, m["sources"]["dan_cu"]).so_dinh_danh)
    for src in EXTRACTS:
        entry = m["sources"][src]
        df = _read(out, entry)
        rid = df.iloc[:, 0] + ("|" + df.iloc[:, 9] if src == "bhxh" else "")
        assert rid.is_unique
        links = pd.read_csv(out / "truth" / f"{src}_links.csv", dtype=str, keep_default_na=False)
        assert list(links.columns) == ["source", "record_id", "true_so_dinh_danh"]
        assert (links.source == src).all() and len(links) == len(df)
        assert set(links.record_id) == set(rid)
        linked = links.true_so_dinh_danh[links.true_so_dinh_danh != ""]
        assert linked.isin(reg_ids).all()
        visitors = 1 - len(linked) / len(links)
        assert 0.01 < visitors < 0.12, (src, visitors)
    noise = pd.read_csv(out / "truth" / "noise.csv", dtype=str)
    assert list(noise.columns) == ["source", "record_id", "kind"]
    assert set(noise.source) == set(EXTRACTS)
    for src in EXTRACTS:
        links = pd.read_csv(out / "truth" / f"{src}_links.csv", dtype=str, keep_default_na=False)
        assert noise[noise.source == src].record_id.isin(set(links.record_id)).all()
    cond = pd.read_csv(out / "truth" / "conditions.csv", dtype=str)
    assert {"visitor", "moved", "deceased"} <= set(cond.condition)


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*.csv")):
        h.update(p.read_bytes())
    return h.hexdigest()


def test_deterministic_by_seed(base, tmp_path):
    out, _ = base
    again = tmp_path / "again"
    _make(again, seed=5, formats="csv")
    assert _digest(again) == _digest(out)
    other = tmp_path / "other"
    _make(other, seed=6, formats="csv")
    assert _digest(other) != _digest(out)


def test_noise_scales_with_multiplier(base, tmp_path):
    out, m1 = base
    m0 = _make(tmp_path / "n0", noise=0)
    assert m0["truth"]["noise_rows"] == 0
    n0 = pd.read_csv(tmp_path / "n0" / "truth" / "noise.csv", dtype=str)
    assert len(n0) == 0
    # without noise, linked rows carry the register's ID and name
    reg = _read(tmp_path / "n0", m0["sources"]["dan_cu"]).set_index("so_dinh_danh")
    tc = _read(tmp_path / "n0", m0["sources"]["tiem_chung"])
    links = pd.read_csv(
        tmp_path / "n0" / "truth" / "tiem_chung_links.csv", dtype=str, keep_default_na=False
    )
    tc = tc.merge(links, left_on=tc.columns[0], right_on="record_id")
    tc = tc[tc.true_so_dinh_danh != ""]
    assert (tc.iloc[:, 4] == tc.true_so_dinh_danh).all()
    assert (tc.iloc[:, 1].values == reg.loc[tc.true_so_dinh_danh, "ho_ten"].values).all()
    m2 = _make(tmp_path / "n2", noise=2)
    r1 = m1["truth"]["noise_rows"] / sum(m1["sources"][s]["rows"] for s in EXTRACTS)
    r2 = m2["truth"]["noise_rows"] / sum(m2["sources"][s]["rows"] for s in EXTRACTS)
    assert r1 > 0.3 and 1.6 < r2 / r1 < 2.4, (r1, r2)
    assert m2["rates"]["tiem_chung"]["name_typo"] == pytest.approx(
        2 * m1["rates"]["tiem_chung"]["name_typo"]
    )
