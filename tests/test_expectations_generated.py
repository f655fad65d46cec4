"""Quality gates on generated data: every injected kind is found, clean data is not quarantined."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

import expectations
import matching
from popsync.generate import generate_dataset
from transforms.readers import read_source
from transforms.standardize import standardize

pytestmark = pytest.mark.slow
EXTRACTS = ("tiem_chung", "f0", "bhxh")


def _validate(folder):
    """Both stages on every extract of a generated set: (findings, rows per source)."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    run_date = dt.date.fromisoformat(manifest["extract_date"])
    files = {s: folder / manifest["sources"][s]["file"] for s in ("dan_cu", *EXTRACTS)}
    register = standardize(read_source(files["dan_cu"], "dan_cu"), "dan_cu")
    findings, rows = [], {}
    for source in EXTRACTS:
        std = standardize(read_source(files[source], source), source)
        pre = expectations.validate_pre_link(std, source, run_date)
        post = expectations.validate_post_link(
            std, matching.link(register, std).decisions, register, source, run_date
        )
        assert pre.blocked == [] and post.blocked == []
        findings += [pre.findings, post.findings]
        rows[source] = len(std)
    return pd.concat(findings, ignore_index=True), rows


def test_every_injected_kind_is_found(tmp_path):
    generate_dataset(tmp_path, people=3000, seed=11, formats="csv")
    findings, _ = _validate(tmp_path)
    found = set(zip(findings["source"], findings["record_id"], strict=True))
    truth = pd.read_csv(tmp_path / "truth" / "violations.csv", dtype="string")
    truth = truth[truth["kind"].ne("not_in_register")]
    truth["found"] = [
        pair in found for pair in zip(truth["source"], truth["record_id"], strict=True)
    ]
    rates = truth.groupby("kind")["found"].mean()
    assert len(rates) >= 30
    assert rates.min() >= 0.97, rates[rates < 0.97].to_dict()


def test_clean_data_is_hardly_quarantined(tmp_path):
    generate_dataset(tmp_path, people=3000, seed=11, noise_scale=0, formats="csv")
    findings, rows = _validate(tmp_path)
    quarantined = findings.loc[findings["severity"].eq("quarantine"), ["source", "record_id"]]
    share = len(quarantined.drop_duplicates()) / sum(rows.values())
    assert share < 0.01
