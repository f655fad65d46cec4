"""From people and events to the four tables in their contract layouts (extracts.md), with
record ids, truth links and the violation list."""

from __future__ import annotations

import numpy as np
import pandas as pd

from popsync.core import domain
from popsync.core.sources import load_catalog
from popsync.generate.common import MISSING, SNAPSHOT_DATE, day, format_dates
from popsync.generate.events import lot_numbers, vaccine_texts
from popsync.generate.noise import Injector
from popsync.generate.population import wards

HEADERS = {spec.id: spec.contract_header for spec in load_catalog().values()}
RECORD_PREFIX = {"tiem_chung": "TC", "f0": "F0"}
EXCEL_EPOCH = day("1899-12-30")


def _sex(values: np.ndarray) -> np.ndarray:
    return np.where(values == 0, "Nam", "Nữ")


def _birth_text(birth: np.ndarray, mode: np.ndarray) -> pd.Series:
    """``dd/mm/yyyy``; mode 1: ``yyyy``; mode 2: Excel serial number."""
    text = format_dates(birth)
    text = text.mask(mode == 1, text.str[-4:])
    return text.mask(mode == 2, pd.Series(birth - EXCEL_EPOCH).astype("str"))


def register(rng: np.random.Generator, people: pd.DataFrame) -> pd.DataFrame:
    """The register rows (residents only), clean, in the dan_cu layout."""
    res = people[people["resident"]].reset_index(drop=True)
    n = len(res)
    death = res["death"].to_numpy()
    snapshot = day(SNAPSHOT_DATE) * 86_400
    low = np.where(death >= 0, death * 86_400, day("2021-07-01") * 86_400)
    stamps = low + (rng.random(n) * (snapshot - low)).astype(np.int64)
    updated = np.datetime_as_string(stamps.astype("datetime64[s]"), unit="s")
    return pd.DataFrame(
        {
            "so_dinh_danh": res["id"],
            "so_cmnd": res["cmnd"],
            "ho_ten": res["full_name"],
            "ngay_sinh": _birth_text(
                res["birth"].to_numpy(), res["year_only"].to_numpy().astype(int)
            ),
            "gioi_tinh": pd.Series(_sex(res["sex"].to_numpy()), dtype="str"),
            "ma_tinh": res["province_code"],
            "ma_huyen": res["district_code"],
            "ma_xa": res["ward_code"],
            "dia_chi": res["address"],
            "so_dien_thoai": res["phone"],
            "ngay_mat": format_dates(np.where(death >= 0, death, MISSING)),
            "ngay_cap_nhat": pd.Series(updated, dtype="str"),
        }
    )


def clean_rows(
    rng: np.random.Generator, source: str, events: pd.DataFrame, people: pd.DataFrame
) -> pd.DataFrame:
    """Extract rows as the person would declare them, before any noise."""
    pid = events["pid"].to_numpy()
    person = people.iloc[pid].reset_index(drop=True)
    rows = events.reset_index(drop=True).copy()
    rows["name"] = person["full_name"]
    rows["id"] = person["id"]
    rows["sex"] = pd.Series(_sex(person["sex"].to_numpy()), dtype="str")
    rows["birth"] = person["birth"].to_numpy()
    rows["birth_mode"] = person["year_only"].to_numpy().astype(int)
    rows["address"] = person["address"]
    if source in ("tiem_chung", "f0"):
        # children are reached on a parent's phone
        head_phone = people["phone"].to_numpy()[person["head"].to_numpy()]
        rows["phone"] = person["phone"].where(person["phone"] != "", head_phone)
    if source == "tiem_chung":
        for column in ("province_name", "district_name", "ward_name"):
            rows[column] = person[column]
        product = rows["product"].to_numpy()
        rows["vaccine"] = vaccine_texts(rng, product)
        rows["lot"] = lot_numbers(rng, product)
        hanoi = wards()
        hanoi = hanoi[hanoi["province_code"] == "01"]["ward_name"].to_numpy()
        ward = person["ward_name"].where(
            person["resident"], hanoi[rng.integers(0, hanoi.size, len(rows))]
        )
        facilities = np.array(
            [
                f["name"]
                for f in domain.health_facilities()
                if f["used_for"] in ("vaccination", "both")
            ],
            dtype=object,
        )
        site = "Trạm Y tế " + ward
        rows["site"] = site.where(
            rng.random(len(rows)) < 0.7, facilities[rng.integers(0, facilities.size, len(rows))]
        )
    return rows


def finalize(
    rng: np.random.Generator,
    source: str,
    rows: pd.DataFrame,
    inj: Injector,
    people: pd.DataFrame,
    excel_serial_share: float = 0.0,
):
    """Duplicates, final order, record ids, text columns. Returns (table, links, violations)."""
    positions = [p for p, _ in inj.records]
    kinds = [k for _, k in inj.records]
    if source in RECORD_PREFIX:
        copies = inj.draw("duplicate_row", np.ones(len(rows), dtype=bool))
        inj.records.pop()  # recorded on the copies below, not on the originals
        new_pos = len(rows) + np.arange(copies.size)
        lookup = np.full(len(rows), -1)
        lookup[copies] = new_pos
        for pos, kind in zip(list(positions), list(kinds), strict=True):
            hit = lookup[pos]
            positions.append(hit[hit >= 0])
            kinds.append(kind)
        positions.append(new_pos)
        kinds.append("duplicate_row")
        rows = pd.concat([rows, rows.iloc[copies]], ignore_index=True)

    date_col = {"tiem_chung": "date", "f0": "positive", "bhxh": "start"}[source]
    tiebreak = rng.random(len(rows))
    if source == "bhxh":
        order = np.lexsort((rows[date_col].to_numpy(), rows["pid"].to_numpy()))
    else:
        order = np.lexsort((tiebreak, rows[date_col].to_numpy()))
    rank = np.empty(len(rows), dtype=np.int64)
    rank[order] = np.arange(len(rows))
    rows = rows.iloc[order].reset_index(drop=True)

    mode = rows["birth_mode"].to_numpy().copy()
    if excel_serial_share:
        mode[(mode == 0) & (rng.random(len(rows)) < excel_serial_share)] = 2
    birth = _birth_text(rows["birth"].to_numpy(), mode)
    if source == "bhxh":
        starts = format_dates(rows["start"].to_numpy())
        record_id = rows["bhxh_number"] + "|" + starts
        table = pd.DataFrame(
            {
                "Mã số BHXH": rows["bhxh_number"],
                "Họ và tên": rows["name"],
                "Ngày sinh": birth,
                "Giới tính": rows["sex"],
                "Số CCCD": rows["id"],
                "Địa chỉ": rows["address"],
                "Mã đơn vị": rows["employer_code"],
                "Tên đơn vị": rows["employer_name"],
                "Loại đối tượng": rows["participant_type"],
                "Từ ngày": starts,
                "Đến ngày": format_dates(rows["end"].to_numpy()),
            }
        )
    else:
        width = max(6, len(str(len(rows))))
        record_id = RECORD_PREFIX[source] + pd.Series(np.arange(1, len(rows) + 1)).astype(
            "str"
        ).str.zfill(width)
        common = {"Họ và tên": rows["name"], "Ngày sinh": birth, "Giới tính": rows["sex"]}
        if source == "tiem_chung":
            table = pd.DataFrame(
                {
                    "Mã bản ghi": record_id,
                    **common,
                    "Số CMND/CCCD": rows["id"],
                    "Số điện thoại": rows["phone"],
                    "Địa chỉ": rows["address"],
                    "Tỉnh/Thành phố": rows["province_name"],
                    "Quận/Huyện": rows["district_name"],
                    "Xã/Phường": rows["ward_name"],
                    "Mũi tiêm": rows["dose"].astype("str"),
                    "Tên vắc xin": rows["vaccine"],
                    "Ngày tiêm": format_dates(rows["date"].to_numpy()),
                    "Số lô": rows["lot"],
                    "Cơ sở tiêm chủng": rows["site"],
                }
            )
        else:
            address = rows["address"]
            # Some addresses were typed over two lines or with ';' (quoted fields in CSV).
            u = rng.random(len(rows))
            address = address.mask(u < 0.01, address.str.replace(", ", ",\n", n=1, regex=False))
            address = address.mask(
                (u >= 0.01) & (u < 0.02), address.str.replace(", ", "; ", n=1, regex=False)
            )
            table = pd.DataFrame(
                {
                    "Mã ca bệnh": record_id,
                    **common,
                    "Số CCCD": rows["id"],
                    "Số điện thoại": rows["phone"],
                    "Địa chỉ": address,
                    "Ngày dương tính": format_dates(rows["positive"].to_numpy()),
                    "Loại xét nghiệm": rows["test_type"],
                    "Ngày khỏi bệnh": format_dates(rows["recovery"].to_numpy()),
                    "Nơi điều trị": rows["treatment_place"],
                }
            )
    table = table[HEADERS[source]]
    if not record_id.is_unique:
        raise AssertionError(f"{source}: record ids are not unique")

    pid = rows["pid"].to_numpy()
    true_id = people["id"].where(people["resident"], "").to_numpy()[pid]
    links = pd.DataFrame({"source": source, "record_id": record_id, "true_so_dinh_danh": true_id})
    if positions:
        all_pos = rank[np.concatenate(positions).astype(np.int64)]
        all_kind = np.repeat(np.array(kinds, dtype=object), [p.size for p in positions])
    else:
        all_pos, all_kind = np.array([], dtype=np.int64), np.array([], dtype=object)
    sort = np.lexsort((all_kind.astype(str), all_pos))
    violations = pd.DataFrame(
        {"source": source, "record_id": record_id.to_numpy()[all_pos[sort]], "kind": all_kind[sort]}
    )
    return table, links, violations.astype("str")
