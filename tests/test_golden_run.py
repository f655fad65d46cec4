"""The whole job on the samples leaves the same tables as the golden run recorded in
``tests/golden/samples_run.json`` (one digest per row, volatile columns left out): a
restructuring of the code must not change what is loaded, quarantined, found or linked."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from click.testing import CliRunner

from popsync.cli import main

GOLDEN = Path(__file__).parent / "golden"
sys.path.insert(0, str(GOLDEN))
from snapshot import snapshot  # noqa: E402


def test_samples_run_leaves_the_golden_tables(tmp_path):
    result = CliRunner().invoke(
        main, ["run", "all", "--samples", "data_samples", "--workdir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    golden = json.loads((GOLDEN / "samples_run.json").read_text())
    found = snapshot(tmp_path / "popsync.sqlite3")
    differences = {
        table: {
            "rows": (golden[table]["rows"], found[table]["rows"]),
            "only_golden": len(set(golden[table]["digests"]) - set(found[table]["digests"])),
            "only_now": len(set(found[table]["digests"]) - set(golden[table]["digests"])),
        }
        for table in golden
        if golden[table]["digests"] != found[table]["digests"]
    }
    assert not differences, differences
