"""The linkage commands as a user runs them: ``popsync train`` then ``match --model``; two
plain tables linked from a settings file alone (the FEBRL4 example's settings on a small
FEBRL-like pair of tables); ``popsync run --settings`` with its model kept in the work area."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from popsync.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data_samples"
MANIFEST = json.loads((SAMPLES / "manifest.json").read_text(encoding="utf-8"))
FILES = {source: SAMPLES / entry["file"] for source, entry in MANIFEST["sources"].items()}
FEBRL_SETTINGS = ROOT / "examples" / "febrl4" / "settings.yaml"


def _invoke(*args: str):
    runner = CliRunner(env={"POPSYNC_DATABASE_URL": None})
    return runner.invoke(main, [str(arg) for arg in args], catch_exceptions=False)


def test_train_once_then_match_with_the_model(tmp_path):
    model = tmp_path / "tiem_chung.model.json"
    trained = _invoke("train", "--population", FILES["dan_cu"], "--extract", FILES["f0"],
                      "--source", "f0", "--out", model)  # fmt: skip
    assert trained.exit_code == 0, trained.output
    saved = json.loads(model.read_text(encoding="utf-8"))
    assert set(saved["comparisons"]) >= {"id", "given_name", "birth_date"}
    out = tmp_path / "f0.csv"
    matched = _invoke("match", "--population", FILES["dan_cu"], "--extract", FILES["f0"],
                      "--source", "f0", "--out", out, "--model", model)  # fmt: skip
    assert matched.exit_code == 0, matched.output
    decisions = pd.read_csv(out, dtype=str)
    assert list(decisions.columns) == ["record_id", "so_dinh_danh", "decision", "score",
                                       "explanation"]  # fmt: skip
    assert (decisions["decision"] == "match").mean() > 0.9


def test_a_model_of_other_settings_is_refused_by_match(tmp_path):
    model = tmp_path / "m.json"
    assert _invoke("train", "--population", FILES["dan_cu"], "--extract", FILES["f0"],
                   "--source", "f0", "--out", model).exit_code == 0  # fmt: skip
    settings = tmp_path / "s.yaml"
    text = (ROOT / "matching/settings/default.yaml").read_text(encoding="utf-8")
    settings.write_text(text.replace("match_threshold: 0.99", "match_threshold: 0.995"), "utf-8")
    refused = _invoke("match", "--population", FILES["dan_cu"], "--extract", FILES["f0"],
                      "--source", "f0", "--out", tmp_path / "o.csv", "--model", model,
                      "--settings", settings)  # fmt: skip
    assert refused.exit_code != 0 and "trained with other settings" in refused.output


def _febrl_like(tmp_path: Path) -> tuple[Path, Path]:
    """Ten records and a noisy copy of each (typos, a missing date, swapped names), in FEBRL's
    columns, rec_id first, plus a record of B with no counterpart."""
    people = [
        ("michaela", "neumann", "8", "stanley street", "miami", "winston hills", "4223", "nsw",
         "19151111", "5304218"),
        ("courtney", "painter", "12", "pinkerton circuit", "bega flats", "richlands", "4560",
         "vic", "19161214", "4066625"),
        ("charles", "green", "38", "salkauskas crescent", "kela", "dapto", "4566", "nsw",
         "19480930", "4365168"),
        ("vanessa", "parr", "905", "macquoid place", "broadbridge manor", "south grafton",
         "2135", "sa", "19951119", "9239102"),
        ("mikayla", "malloney", "37", "randwick road", "avalind", "hoppers crossing", "4552",
         "vic", "19860208", "7207688"),
        ("joshua", "bodenham", "114", "meares court", "rivergum", "bentleigh east", "2486",
         "qld", "19790818", "3914306"),
        ("tyler", "wong", "53", "mcgillivray street", "", "byford", "5110", "wa", "19380424",
         "5811318"),
        ("sophie", "tillott", "21", "rees street", "lindale", "cessnock", "2073", "nsw",
         "19140615", "1823094"),
        ("ashley", "thorpe", "16", "collier crescent", "willowdale", "mosman", "2148", "vic",
         "19820126", "4429672"),
        ("jade", "campbell", "7", "namatjira drive", "karinya", "mount lawley", "3169", "qld",
         "19770513", "6543217"),
    ]  # fmt: skip
    columns = ["given_name", "surname", "street_number", "address_1", "address_2", "suburb",
               "postcode", "state", "date_of_birth", "soc_sec_id"]  # fmt: skip
    a = pd.DataFrame(people, columns=columns, index=[f"rec-{i}-org" for i in range(len(people))])
    b = a.copy()
    b.index = [f"rec-{i}-dup-0" for i in range(len(people))]
    b.iloc[0, 0] = "micheala"  # typo in the given name
    b.iloc[1, 8] = ""  # date of birth missing
    b.iloc[2, [0, 1]] = ["green", "charles"]  # names swapped
    b.iloc[3, 9] = "9239182"  # one digit of the ID
    b.iloc[4, 3] = "randwik road"
    stranger = pd.DataFrame([("oliver", "stone", "2", "kent street", "", "perth", "6000", "wa",
                              "19700101", "1111111")], columns=columns, index=["rec-99-dup-0"])  # fmt: skip
    b = pd.concat([b, stranger])
    a.index.name = b.index.name = "rec_id"
    a.to_csv(tmp_path / "A.csv")
    b.to_csv(tmp_path / "B.csv")
    return tmp_path / "A.csv", tmp_path / "B.csv"


def test_two_plain_tables_link_from_settings_alone(tmp_path):
    a, b = _febrl_like(tmp_path)
    out = tmp_path / "out.csv"
    result = _invoke("match", "--population", a, "--extract", b, "--settings", FEBRL_SETTINGS,
                     "--out", out)  # fmt: skip
    assert result.exit_code == 0, result.output
    d = pd.read_csv(out, dtype=str, keep_default_na=False).set_index("record_id")
    assert len(d) == 11
    for i in range(10):
        row = d.loc[f"rec-{i}-dup-0"]
        assert row["decision"] != "match" or row["so_dinh_danh"] == f"rec-{i}-org", row
    matched = d[d["decision"] == "match"]
    assert len(matched) >= 9
    assert d.loc["rec-99-dup-0", "decision"] == "no_match"
    explanation = json.loads(d.loc["rec-2-dup-0", "explanation"])
    assert explanation["fields"]["given_name"][0] == "swapped"


def test_plain_tables_without_a_tables_section_or_with_a_missing_column_are_clear_errors(
    tmp_path,
):
    a, b = _febrl_like(tmp_path)
    out = tmp_path / "out.csv"
    no_map = _invoke("match", "--population", a, "--extract", b, "--out", out)
    assert no_map.exit_code != 0 and "must map the tables' columns" in no_map.output
    pd.read_csv(b, dtype=str).drop(columns="postcode").to_csv(b, index=False)
    missing = _invoke("match", "--population", a, "--extract", b, "--settings", FEBRL_SETTINGS,
                      "--out", out)  # fmt: skip
    assert missing.exit_code != 0 and "extract table lacks the column(s) postcode" in missing.output


@pytest.mark.slow
def test_run_with_settings_keeps_one_model_per_register_and_source(tmp_path):
    settings = tmp_path / "linkage.yaml"
    shutil.copy(ROOT / "matching/settings/default.yaml", settings)
    workdir = tmp_path / "work"
    run = _invoke("run", "f0", "--input", FILES["f0"], "--population", FILES["dan_cu"],
                  "--date", MANIFEST["extract_date"], "--settings", settings,
                  "--workdir", workdir)  # fmt: skip
    assert run.exit_code == 0, run.output
    models = list((workdir / "models").glob("*/f0-*.json"))
    assert len(models) == 1
    first = models[0].stat().st_mtime_ns
    again = _invoke("run", "f0", "--input", FILES["f0"], "--population", FILES["dan_cu"],
                    "--date", MANIFEST["extract_date"], "--settings", settings,
                    "--workdir", workdir)  # fmt: skip
    assert again.exit_code == 0, again.output
    assert models[0].stat().st_mtime_ns == first  # reused, not trained again
    bad = tmp_path / "bad.yaml"
    bad.write_text(settings.read_text().replace("column: given_key", "column: given_kee"))
    refused = _invoke("run", "f0", "--input", FILES["f0"], "--population", FILES["dan_cu"],
                      "--settings", bad, "--workdir", workdir)  # fmt: skip
    assert refused.exit_code != 0 and "unknown column(s) given_kee" in refused.output
