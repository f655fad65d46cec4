"""Splink 5 (DuckDB), the peer ``bench/match.py`` runs side by side with popsync: its input
tables from popsync's standardized frames, popsync's blocking rules as Splink SQL, training
and prediction, and Splink's operating points against the truth."""

from __future__ import annotations

import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
SPLINK_MEMORY_LIMIT = "8GB"  # DuckDB's limit; it spills to SPLINK_TEMP beyond it
SPLINK_TEMP = OUT / "duckdb_tmp"
PRECISION_TARGET = 0.9995


def _splink_frame(std, register: bool):
    """Splink's input table from a popsync standardized frame.

    Columns carry the names of popsync's prepared linkage columns (``matching/prepare.py``)
    so its blocking rules translate one to one: ``id12`` / ``id9`` (the register's
    ``person_id`` / ``cmnd``; the extract's ID by length, placeholders dropped), ``dob``
    (day-precision birth date), ``dob_swapped`` (day and month exchanged), ``birth_year``,
    ``name_sorted_key`` (name tokens in sorted order) and the standardized text columns.
    """
    import pandas as pd
    import pyarrow as pa

    def text(column):
        values = std[column].astype("string").str.strip()
        return values.mask(values == "")

    if register:
        id12, id9 = text("person_id"), text("cmnd")
    else:
        placeholder = std["flags"].astype("string").str.contains("id_number:placeholder")
        ids = text("id_number").mask(placeholder.fillna(False))
        id12 = ids.where(ids.str.fullmatch(r"\d{12}").fillna(False))
        id9 = ids.where(ids.str.fullmatch(r"\d{9}").fillna(False))
    birth = pd.to_datetime(std["birth_date"]).where(std["birth_date_precision"] == "day")
    day, month = birth.dt.day, birth.dt.month
    swappable = (day <= 12) & (day != month)
    swapped = pd.to_datetime(
        pd.DataFrame({"year": birth.dt.year, "month": day, "day": month}).where(swappable),
        errors="coerce",
    )
    names = text("name_key")
    sorted_names = names.map(
        {name: " ".join(sorted(name.split())) for name in names.dropna().unique()}
    )
    frame = pd.DataFrame(
        {
            "unique_id": text("person_id" if register else "record_id"),
            "id12": id12,
            "id9": id9,
            "dob": birth,
            "dob_swapped": swapped,
            "birth_year": pd.to_numeric(std["birth_year"]).astype("Int32"),
            "name_key": names,
            "name_sorted_key": sorted_names.astype("string"),
            **{
                column: text(column)
                for column in (
                    "family_key",
                    "middle_key",
                    "given_key",
                    "sex",
                    "province_code",
                    "district_code",
                    "ward_code",
                    "phone",
                )
            },
        }
    )
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for column in ("dob", "dob_swapped"):
        dates = table.column(column).cast(pa.date32())
        table = table.set_column(table.schema.get_field_index(column), column, dates)
    return table


def splink_settings(blocking_rules: list[str]):
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator

    comparisons = [
        cl.CustomComparison(
            output_column_name="id",
            comparison_levels=[
                cll.CustomLevel(
                    "(id12_l IS NULL AND id9_l IS NULL) OR (id12_r IS NULL AND id9_r IS NULL)"
                ).configure(is_null_level=True, label_for_charts="no ID"),
                cll.ExactMatchLevel("id12"),
                cll.ExactMatchLevel("id9").configure(label_for_charts="CMND"),
                cll.DamerauLevenshteinLevel("id12", 1),
                cll.ElseLevel(),
            ],
        ),
        cl.ForenameSurnameComparison(
            "given_key",
            "family_key",
            jaro_winkler_thresholds=[0.92, 0.85],
            forename_surname_concat_col_name="name_key",
        ),
        cl.JaroWinklerAtThresholds("middle_key", [0.9]),
        cl.CustomComparison(
            output_column_name="birth_date",
            comparison_levels=[
                cll.NullLevel("birth_year"),
                cll.ExactMatchLevel("dob"),
                cll.CustomLevel(
                    "dob_l = dob_swapped_r OR dob_swapped_l = dob_r",
                    label_for_charts="day/month swapped",
                ),
                cll.CustomLevel(
                    "levenshtein(strftime(dob_l, '%Y%m%d'), strftime(dob_r, '%Y%m%d')) <= 1",
                    label_for_charts="one digit",
                ),
                cll.ExactMatchLevel("birth_year").configure(label_for_charts="same year"),
                cll.ElseLevel(),
            ],
        ),
        cl.ExactMatch("sex"),
        cl.CustomComparison(
            output_column_name="address",
            comparison_levels=[
                cll.NullLevel("province_code"),
                cll.ExactMatchLevel("ward_code"),
                cll.ExactMatchLevel("district_code"),
                cll.ExactMatchLevel("province_code"),
                cll.ElseLevel(),
            ],
        ),
        cl.ExactMatch("phone"),
    ]
    return SettingsCreator(
        link_type="link_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocking_rules,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def splink_link(register_std, extract_std, blocking_rules: list[str], u_pairs: float) -> dict:
    """Train and run Splink; return the best register person per extract row and timings."""
    import logging

    import duckdb
    from splink import DuckDBAPI, Linker, block_on

    started = time.perf_counter()
    # Spill to disk rather than take all the memory (an unbounded run reached 22 GB at 1M).
    SPLINK_TEMP.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect()
    connection.execute(f"SET memory_limit = '{SPLINK_MEMORY_LIMIT}'")
    connection.execute(f"SET temp_directory = '{SPLINK_TEMP}'")
    db_api = DuckDBAPI(connection)
    tables = [
        db_api.register(_splink_frame(register_std, True), table_name="register"),
        db_api.register(_splink_frame(extract_std, False), table_name="extract"),
    ]
    linker = Linker(tables, splink_settings(blocking_rules), log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("id12", "dob", "sex"), block_on("name_key", "dob")],
        recall=0.7,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=u_pairs, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("family_key", "given_key", "birth_year")
    )
    trained = time.perf_counter()

    blocked = linker.inference.compute_blocked_pairs_for_predict()
    candidate_pairs = int(blocked.as_duckdbpyrelation().aggregate("count(*)").fetchall()[0][0])
    predictions = linker.inference.predict(threshold_match_probability=0.001, warning_mode="never")
    # One row per extract record: its best register person (ties broken by id). Splink
    # puts the extract on the left (tables ordered by name: "extract" < "register").
    best = (
        predictions.as_duckdbpyrelation()
        .query(
            "predictions",
            """
            SELECT unique_id_l AS record_id, unique_id_r AS so_dinh_danh, match_probability
            FROM predictions
            QUALIFY row_number() OVER (
                PARTITION BY unique_id_l ORDER BY match_probability DESC, unique_id_r
            ) = 1
            """,
        )
        .df()
    )
    finished = time.perf_counter()
    return {
        "best": best,
        "candidate_pairs": candidate_pairs,
        "seconds_train": round(trained - started, 2),
        "seconds_predict": round(finished - trained, 2),
    }


def splink_operating_points(best, truth) -> dict:
    """Best-F1 and high-precision thresholds for Splink's best-candidate scores (oracle)."""
    import numpy as np
    import pandas as pd

    from matching.evaluate import evaluate

    joined = best.merge(truth, on="record_id", how="inner", validate="one_to_one")
    scores = joined["match_probability"].fillna(0.0).to_numpy(dtype=float)
    right = (joined["so_dinh_danh"] == joined["true_so_dinh_danh"]).fillna(False)
    right = right.to_numpy(dtype=bool)
    linkable = int(joined["true_so_dinh_danh"].notna().sum())
    order = np.argsort(-scores, kind="stable")
    sorted_scores = scores[order]
    correct = np.cumsum(right[order])
    taken = np.arange(1, len(order) + 1)
    # A threshold admits whole groups of equal scores: keep the last index of each group.
    last = np.r_[sorted_scores[1:] != sorted_scores[:-1], True] & (sorted_scores > 0)
    precision = correct[last] / taken[last]
    recall = correct[last] / max(linkable, 1)
    f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0)
    thresholds = sorted_scores[last]
    best_f1 = int(np.argmax(f1))
    t_f1 = float(thresholds[best_f1])
    # Thresholds are in decreasing order: the high-precision one is at or above t_f1.
    at_or_above = precision[: best_f1 + 1]
    reaching = np.flatnonzero(at_or_above >= PRECISION_TARGET)
    t_high = float(thresholds[reaching[-1] if len(reaching) else np.argmax(at_or_above)])

    def decide(match_at: float, review_at: float) -> pd.DataFrame:
        probability = best["match_probability"].fillna(0.0)
        decision = np.where(
            probability >= match_at,
            "match",
            np.where(probability >= review_at, "review", "no_match"),
        )
        return pd.DataFrame(
            {
                "record_id": best["record_id"],
                "so_dinh_danh": best["so_dinh_danh"].where(decision == "match"),
                "decision": decision,
            }
        )

    return {
        "best F1": {"threshold": t_f1, **evaluate(decide(t_f1, t_f1), truth)},
        "high precision": {
            "threshold": t_high,
            **evaluate(decide(t_high, t_f1), truth),
        },
    }


SPLINK_COLUMNS = frozenset(
    ("id12", "id9", "dob", "dob_swapped", "birth_year", "name_key", "name_sorted_key")
    + ("family_key", "middle_key", "given_key", "sex", "province_code", "district_code")
    + ("ward_code", "phone")
)


def popsync_blocking_rules() -> tuple[list[str], list[str]]:
    """popsync's blocking rules (``matching/settings/default.yaml``) as Splink SQL.

    Splink's left table is the extract and its right one the register (it orders the two
    tables by name), as popsync's ``keys: [extract_column, register_column]`` pairs are.
    Returns the translated rules and the names of those Splink cannot express as
    equi-joins (popsync's ``near_id`` lookups).
    """
    import matching

    rules, skipped = [], []
    for rule in matching.load_settings().blocking_rules:
        if rule.kind != "equi":
            skipped.append(rule.name)
            continue
        unknown = {column for pair in rule.keys for column in pair} - SPLINK_COLUMNS
        if unknown:
            raise SystemExit(f"blocking rule {rule.name}: no Splink column for {sorted(unknown)}")
        rules.append(" AND ".join(f"l.{left} = r.{right}" for left, right in rule.keys))
    return rules, skipped
