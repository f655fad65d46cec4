"""Linkage engine on small hand-built standardized frames: one test per hard case."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import matching
from popsync.core.errors import UserError
from transforms.text import fold_text

FAMILY = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Đặng",
    "Bùi",
    "Khổng",
    "Đỗ",
]
MIDDLE = {"M": ["Văn", "Đức", "Minh", "Quốc", "Hữu"], "F": ["Thị", "Ngọc", "Thu", "Thanh", "Kim"]}
GIVEN = {
    "M": [
        "An",
        "Bình",
        "Cường",
        "Dũng",
        "Hùng",
        "Nam",
        "Quân",
        "Sơn",
        "Tùng",
        "Khoa",
        "Long",
        "Phúc",
    ],
    "F": [
        "Lan",
        "Mai",
        "Hà",
        "Hương",
        "Thảo",
        "Vy",
        "Yến",
        "Trang",
        "Linh",
        "Ngân",
        "Nhung",
        "Hòa",
    ],
}


def std_frame(rows: list[dict], register: bool = False) -> pd.DataFrame:
    """A standardized frame (DESIGN.md columns the matcher reads) from short row dicts."""
    out = []
    for row in rows:
        tokens = row["name"].split()
        family, given, middle = tokens[0], tokens[-1], " ".join(tokens[1:-1]) or None
        date = row.get("dob")
        year_only = date is not None and len(date) == 4
        parsed = (
            pd.Timestamp(f"{date}-01-01") if year_only else pd.to_datetime(date, format="%d/%m/%Y")
        )
        ward = row.get("ward")
        record = {
            "record_id": row.get("record_id", row.get("id")),
            "full_name": row["name"],
            "family_name": family,
            "middle_name": middle,
            "given_name": given,
            "name_key": fold_text(row["name"]),
            "family_key": fold_text(family),
            "middle_key": fold_text(middle) if middle else None,
            "given_key": fold_text(given),
            "birth_date": parsed,
            "birth_date_precision": None if date is None else ("year" if year_only else "day"),
            "birth_year": None if date is None else parsed.year,
            "sex": row.get("sex"),
            "phone": row.get("phone"),
            "province_code": ward[:2] if ward else None,
            "district_code": ward[:3] if ward else None,
            "ward_code": ward,
            "admin_scheme": "2008" if ward else None,
            "flags": row.get("flags", ""),
        }
        if register:
            record.update(person_id=row["id"], cmnd=row.get("cmnd"))
        else:
            ident = row.get("id")
            record.update(
                id_number=ident,
                id_kind="missing" if ident is None else ("cmnd" if len(ident) == 9 else "cccd"),
            )
        out.append(record)
    frame = pd.DataFrame(out)
    frame["birth_year"] = frame["birth_year"].astype("Int32")
    for column in frame.columns.difference(["birth_date", "birth_year"]):
        frame[column] = frame[column].astype("string")
    return frame


def make_id(rng: np.random.Generator, year: int, sex: str) -> str:
    digit = (0 if year < 2000 else 2) + (sex == "F")
    return f"0{rng.integers(1, 97):02d}{digit}{year % 100:02d}{rng.integers(0, 10**6):06d}"


def population(size: int = 400, seed: int = 3) -> list[dict]:
    rng = np.random.default_rng(seed)
    people = []
    for _ in range(size):
        sex = str(rng.choice(["M", "F"]))
        year = int(rng.integers(1950, 2015))
        people.append(
            {
                "id": make_id(rng, year, sex),
                "name": f"{rng.choice(FAMILY)} {rng.choice(MIDDLE[sex])} {rng.choice(GIVEN[sex])}",
                "dob": f"{rng.integers(1, 29):02d}/{rng.integers(1, 13):02d}/{year}",
                "sex": sex,
                "ward": f"{rng.integers(1, 30):02d}{rng.integers(0, 10)}{rng.integers(0, 100):02d}",
                "phone": f"09{rng.integers(0, 10**8):08d}",
            }
        )
    return people


PEOPLE = population()


def run(extra_register: list[dict], cases: list[dict], drop: tuple[str, ...] = ()) -> pd.DataFrame:
    """Link ``cases`` (plus one clean row per person, so the model has data to learn from)."""
    register = [p for p in PEOPLE + extra_register if p["id"] not in drop]
    clean = [dict(p, record_id=f"clean-{i}") for i, p in enumerate(PEOPLE)]
    result = matching.link(std_frame(register, register=True), std_frame(clean + cases))
    decisions = result.decisions.set_index("record_id")
    return decisions.loc[[case["record_id"] for case in cases]]


def fields(explanation: str) -> dict:
    return json.loads(explanation)["fields"]


def test_clean_rows_match_by_id_and_explain():
    register = std_frame(PEOPLE, register=True)
    extract = std_frame([dict(p, record_id=f"r{i}") for i, p in enumerate(PEOPLE)])
    result = matching.link(register, extract)
    d = result.decisions
    assert list(d.columns) == ["record_id", "so_dinh_danh", "decision", "score", "explanation"]
    assert (d["decision"] == "match").all()
    assert (d["so_dinh_danh"] == register["person_id"]).all()
    assert d["score"].between(0.99, 1).all()
    first = json.loads(d["explanation"].iloc[0])
    assert first["pass"] == "id" and first["candidates"] >= 1
    assert first["fields"]["given_name"][0] == "exact" and first["fields"]["id"][0] == "exact"
    assert result.stats["blocking"]["id_exact"]["pairs"] == len(PEOPLE)
    assert result.stats["decisions"] == {"match": len(PEOPLE)}
    assert result.candidates.empty


def test_term_frequency_weighs_rare_family_names_more():
    register = std_frame(PEOPLE, register=True)
    extract = std_frame([dict(p, record_id=f"r{i}") for i, p in enumerate(PEOPLE)])
    d = matching.link(register, extract).decisions
    family = d["explanation"].map(lambda e: fields(e)["family_name"][1])
    key = register["family_key"]
    common = key.value_counts().index[0]
    rare = key.value_counts().index[-1]
    assert family[key == rare].min() > family[key == common].max()


def test_borrowed_id_links_the_child_not_the_parent():
    parent = PEOPLE[0]
    child = dict(
        parent,
        id="099312000001",
        name=parent["name"].split()[0] + " Thị Vy",
        dob="03/04/2012",
        sex="F",
    )
    row = dict(child, id=parent["id"], record_id="borrowed")
    d = run([child], [row])
    assert d.loc["borrowed", "decision"] == "match"
    assert d.loc["borrowed", "so_dinh_danh"] == child["id"]


def test_borrowed_id_of_a_child_not_in_the_register_is_not_linked_to_the_parent():
    parent = PEOPLE[0]
    row = dict(
        parent, name=parent["name"].split()[0] + " Thị Vy", dob="03/04/2012", sex="F", record_id="b"
    )
    d = run([], [row])
    assert d.loc["b", "decision"] != "match"


def test_twins_are_never_confused():
    twin_a = {"id": "001090000011", "name": "Khổng Minh Khoa", "dob": "05/06/1990", "sex": "M",
              "ward": "01001", "phone": "0912000111"}  # fmt: skip
    twin_b = dict(twin_a, id="001090000012", name="Khổng Minh Khang")
    row_a = dict(twin_a, id=None, record_id="a")
    row_b = dict(twin_b, id=None, record_id="b")
    d = run([twin_a, twin_b], [row_a, row_b])
    assert d.loc["a", "so_dinh_danh"] == twin_a["id"] and d.loc["a", "decision"] == "match"
    assert d.loc["b", "so_dinh_danh"] == twin_b["id"] and d.loc["b", "decision"] == "match"
    # With one twin missing from the register, the other is not a match.
    d = run([twin_b], [row_a])
    assert d.loc["a", "decision"] != "match"


def test_day_month_swapped_birth_date():
    person = dict(PEOPLE[1], dob="07/03/1985", id="001085123456")
    row = dict(person, id=None, phone=None, dob="03/07/1985", record_id="swap")
    d = run([person], [row])
    assert (d.loc["swap", "decision"], d.loc["swap", "so_dinh_danh"]) == ("match", person["id"])
    assert fields(d.loc["swap", "explanation"])["birth_date"][0] == "day_month_swapped"


def test_year_only_birth_date_and_placeholder():
    person = dict(PEOPLE[2], dob="17/09/1979", id="001079123456", name="Đặng Thu Nhung", sex="F")
    rows = [
        dict(person, id=None, dob="1979", record_id="year"),
        dict(person, id=None, dob="01/01/1979", record_id="placeholder"),
    ]
    d = run([person], rows)
    assert (d["so_dinh_danh"] == person["id"]).all() and (d["decision"] == "match").all()
    assert fields(d.loc["year", "explanation"])["birth_date"][0] == "same_year_imprecise"


def test_stripped_diacritics_and_repaired_text_compare_on_folded_forms():
    person = dict(PEOPLE[3], name="Hoàng Ngọc Hòa", sex="F", id="001095123456")
    rows = [
        dict(person, id=None, name="Hoang Ngoc Hoa", record_id="stripped"),
        dict(person, id=None, name="Hoàng Ngọc Hoà", record_id="tone"),  # old tone placement
    ]
    d = run([person], rows)
    assert (d["so_dinh_danh"] == person["id"]).all() and (d["decision"] == "match").all()
    assert fields(d.loc["stripped", "explanation"])["given_name"][0] == "folded"
    assert fields(d.loc["tone", "explanation"])["given_name"][0] == "folded"


def test_name_order_swapped_and_middle_name_dropped():
    person = dict(PEOPLE[4], name="Bùi Quốc Phúc", sex="M", id="001088123456")
    rows = [
        dict(person, id=None, name="Phúc Bùi Quốc", record_id="order"),
        dict(person, id=None, name="Bùi Phúc", record_id="dropped"),
    ]
    d = run([person], rows)
    assert (d["so_dinh_danh"] == person["id"]).all() and (d["decision"] == "match").all()
    assert fields(d.loc["order", "explanation"])["given_name"][0] == "reordered"
    assert fields(d.loc["dropped", "explanation"])["middle_name"][0] == "null"


def test_nine_digit_cmnd_through_the_register_crosswalk():
    # The same CMND on two people (a number issued twice): demographics pick the right one.
    first = dict(PEOPLE[5], id="001070123456", cmnd="271450123")
    second = dict(PEOPLE[6], id="001071123456", cmnd="271450123")
    row = dict(first, id="271450123", phone=None, record_id="cmnd")
    d = run([first, second], [row])
    assert (d.loc["cmnd", "decision"], d.loc["cmnd", "so_dinh_danh"]) == ("match", first["id"])
    explanation = json.loads(d.loc["cmnd", "explanation"])
    assert explanation["pass"] == "id" and explanation["fields"]["id"][0] == "cmnd"


@pytest.mark.parametrize("typo", ["001080123457", "001080124356"], ids=["digit", "swap"])
def test_near_id_typo(typo):
    person = dict(PEOPLE[7], id="001080123456")
    row = dict(person, id=typo, phone=None, ward=None, record_id="typo")
    d = run([person], [row])
    assert (d.loc["typo", "decision"], d.loc["typo", "so_dinh_danh"]) == ("match", person["id"])
    assert fields(d.loc["typo", "explanation"])["id"][0] == "near"


def test_person_not_in_register_is_no_match():
    stranger = {"id": "079199000001", "name": "Lưu Gia Bảo", "dob": "11/11/1991", "sex": "M",
                "ward": "79001", "phone": "0987000000", "record_id": "stranger"}  # fmt: skip
    d = run([], [stranger])
    assert d.loc["stranger", "decision"] == "no_match"
    assert pd.isna(d.loc["stranger", "so_dinh_danh"])


def test_close_candidates_go_to_review():
    namesake = {"id": "001066000021", "name": "Khổng Văn Long", "dob": "02/02/1966", "sex": "M"}
    other = dict(namesake, id="001066000022")
    row = dict(namesake, id=None, record_id="namesake")
    register = std_frame(PEOPLE + [namesake, other], register=True)
    clean = [dict(p, record_id=f"clean-{i}") for i, p in enumerate(PEOPLE)]
    result = matching.link(register, std_frame(clean + [row]))
    decision = result.decisions.set_index("record_id").loc["namesake"]
    assert decision["decision"] == "review" and pd.isna(decision["so_dinh_danh"])
    candidates = result.candidates
    assert set(candidates["so_dinh_danh"]) == {namesake["id"], other["id"]}
    assert list(candidates["rank"]) == [1, 2] and (candidates["record_id"] == "namesake").all()


def test_duplicated_register_ids_raise_with_masked_ids():
    register = std_frame(PEOPLE[:5] + [PEOPLE[0], PEOPLE[1]], register=True)
    with pytest.raises(matching.RegisterError) as error:
        matching.link(register, std_frame(PEOPLE[:1]))
    message = str(error.value)
    assert "2 duplicated so_dinh_danh" in message
    assert PEOPLE[0]["id"][:3] + "******" + PEOPLE[0]["id"][-3:] in message
    assert PEOPLE[0]["id"] not in message
    assert isinstance(error.value, UserError)


def test_empty_extract_gives_empty_decisions():
    register = std_frame(PEOPLE[:5], register=True)
    result = matching.link(register, std_frame(PEOPLE[:1]).iloc[:0])
    assert result.decisions.empty
    assert list(result.decisions.columns) == [
        "record_id",
        "so_dinh_danh",
        "decision",
        "score",
        "explanation",
    ]
    assert result.candidates.empty


def test_person_born_before_1970_is_found_through_birth_date_blocking():
    # No usable ID (two digits wrong: not a near ID), no phone, no address: only the birth-date
    # rules can find this 1955 birth, so a pre-1970 date must not be taken for a null one.
    person = dict(PEOPLE[8], id="001055123456", dob="14/08/1955", name="Khổng Văn Cường")
    row = dict(person, id="001055987456", phone=None, ward=None, record_id="old")
    result = matching.link(
        std_frame(PEOPLE + [person], register=True),
        std_frame([dict(p, record_id=f"clean-{i}") for i, p in enumerate(PEOPLE)] + [row]),
    )
    d = result.decisions.set_index("record_id")
    assert (d.loc["old", "decision"], d.loc["old", "so_dinh_danh"]) == ("match", person["id"])
    explanation = json.loads(d.loc["old", "explanation"])
    assert explanation["rule"].startswith("birth_date")
    assert explanation["fields"]["birth_date"][0] == "exact"
    assert explanation["fields"]["id"][0] == "else"


def test_dates_far_in_the_past_are_not_null():
    from matching.prepare import prepare

    frame = std_frame([dict(PEOPLE[0], dob="05/03/1905"), dict(PEOPLE[1], dob=None)])
    frame["birth_date"] = pd.Series(
        np.array(["1750-03-05", "NaT"], dtype="datetime64[s]"), dtype="datetime64[s]"
    )
    frame["birth_year"] = pd.array([1750, None], dtype="Int32")
    prep = prepare(frame, std_frame(PEOPLE[:2], register=True), set())
    assert prep.left["dob"][0] >= 0 and prep.left["dob"][1] == -1
    assert prep.left["dob_swapped"][0] >= 0 and prep.left["birth_year"][0] == 1750
    march_5 = prep.left["dob"][0]
    assert prep.left["dob_swapped"][0] - march_5 == 59  # 3 May 1750
