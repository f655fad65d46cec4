"""Great Expectations' private APIs are used by ``expectations.gx_adapter`` only, and the adapter
is pinned to the GX version it was written against."""

from __future__ import annotations

import ast
from pathlib import Path

import great_expectations as gx

from expectations import gx_adapter

REPO = Path(__file__).resolve().parents[1]
ADAPTER = REPO / "expectations" / "gx_adapter.py"
# GX's public surface: the package itself (get_context, ExpectationSuite, expectations) and its
# expectation classes. Anything else (validator, data_context, core, render ...) is private.
PUBLIC_MODULES = {"great_expectations", "great_expectations.expectations"}
# Private names reached through public objects (``context.validation_results_store``) or
# imported from private modules.
PRIVATE_NAMES = {
    "Validator",
    "ProgressBarsConfig",
    "validation_results_store",
    "RunIdentifier",
    "ValidationResultIdentifier",
    "ExpectationSuiteIdentifier",
    "ExpectationSuiteValidationResult",
    "ExpectationValidationResult",
}


def test_the_adapter_is_pinned_to_the_installed_gx_version():
    assert gx.__version__ == gx_adapter.GX_VERSION, (
        f"Great Expectations {gx.__version__} is installed, but expectations/gx_adapter.py was "
        f"written against {gx_adapter.GX_VERSION}. Before setting GX_VERSION to the new version, "
        "re-check in the new GX:\n- " + "\n- ".join(gx_adapter.RECHECK_ON_UPGRADE) + "\n"
        "then run tests/test_expectations.py (Data Docs included) and bench/validate.py."
    )


def _python_files():
    for package in ("popsync", "transforms", "matching", "expectations", "bench", "dags"):
        yield from (REPO / package).rglob("*.py")


def _private_uses(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            modules = [node.module or ""]
            found += [
                f"line {node.lineno}: imports {alias.name}"
                for alias in node.names
                if alias.name in PRIVATE_NAMES
            ]
        else:
            name = getattr(node, "attr", None) or getattr(node, "id", None)
            if name in PRIVATE_NAMES:
                found.append(f"line {node.lineno}: uses {name}")
            continue
        found += [
            f"line {node.lineno}: imports {module}"
            for module in modules
            if module.split(".")[0] == "great_expectations" and module not in PUBLIC_MODULES
        ]
    return found


def test_only_the_adapter_uses_gx_private_apis():
    offenders = {
        str(path.relative_to(REPO)): uses
        for path in _python_files()
        if path != ADAPTER and (uses := _private_uses(path))
    }
    assert offenders == {}, "GX private APIs belong in expectations/gx_adapter.py"


def test_the_check_sees_the_adapters_private_uses():
    uses = " ".join(_private_uses(ADAPTER))
    for private in ("great_expectations.validator.v1_validator", "validation_results_store",
                    "RunIdentifier", "ProgressBarsConfig"):  # fmt: skip
        assert private in uses


def test_an_ephemeral_context_logs_nothing_in_a_task_log(caplog):
    """A task's log is at INFO with GX's loggers at WARNING (``quiet_libraries``); but GX sets one
    module's logger to INFO at import (``data_context.types.base``), and each context it makes
    logged the temporary folder of a docs site popsync never builds: a line per validation."""
    from popsync.scheduling.steps import quiet_libraries

    quiet_libraries()
    with caplog.at_level("INFO"):
        gx_adapter.ephemeral_context()
    said = [r.getMessage() for r in caplog.records if r.name.startswith("great_expectations")]
    assert said == []
