"""The one module that uses Great Expectations' private APIs (a test holds every other module to
GX's public ``great_expectations`` and ``great_expectations.expectations``).

Written against the GX version in ``GX_VERSION``; ``tests/test_gx_adapter.py`` fails on any other
version until the points in ``RECHECK_ON_UPGRADE`` have been checked again.

- ``ephemeral_context()``: an in-memory context without progress bars;
- ``run_suite(context, suite, frame, asset, result_format)``: validate a suite on a frame;
- ``docs_context(docs_dir, site)`` / ``store_result(...)`` / ``build_site(context, site)``: Data
  Docs in a file context;
- ``stored_results(context)``: the results in a context's store, for popsync's landing page.
"""

from __future__ import annotations

import datetime as dt
import logging
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GX_VERSION = "1.24.1"
RECHECK_ON_UPGRADE = (
    "great_expectations.validator.v1_validator.Validator(batch_definition=, batch_parameters=, "
    "result_format=).validate_expectation_suite(suite): what ValidationDefinition.run does, "
    "without storing the result or loading the batch twice (bench/validate.py)",
    "great_expectations.data_context.types.base.ProgressBarsConfig(globally=False) as "
    "context.variables.progress_bars",
    "great_expectations.data_context.types.base's logger: set to INFO at import, and its "
    "'ephemeral docs site' line at every context (tests/test_gx_adapter.py)",
    "context.validation_results_store: set(key, result), list_keys(), get(key)",
    "RunIdentifier(run_name=, run_time=) and its to_tuple(); ValidationResultIdentifier("
    "expectation_suite_identifier=, run_id=, batch_identifier=); ExpectationSuiteIdentifier(name=)",
    "the meta keys the site index reads (active_batch_definition as a dict, batch_kwargs, "
    "run_id, validation_time): tests/test_expectations.py's Data Docs tests",
    "the site-relative page URL of a stored result (validation_page) and of a suite",
    "ExpectationSuiteValidationResult / ExpectationValidationResult constructors",
    "great_expectations.expectations.expectation.ColumnMapExpectation: the base of the "
    "expectations that judge each row on its own (expectations.scope)",
)


def judges_each_row(cls) -> bool:
    """Whether a GX expectation class judges each row on its own (a column map expectation),
    rather than the table or a column as a whole."""
    from great_expectations.expectations.expectation import ColumnMapExpectation

    return isinstance(cls, type) and issubclass(cls, ColumnMapExpectation)


def ephemeral_context():
    """An in-memory GX context, progress bars off, without the INFO line of the temporary folder
    of its docs site (GX sets that module's logger to INFO at import; popsync never builds that
    site, and every validation would log the line)."""
    import great_expectations as gx
    from great_expectations.data_context.types import base
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger(base.__name__).setLevel(logging.WARNING)

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def run_suite(context, suite, frame, asset: str, result_format: dict[str, Any]):
    """Validate ``suite`` on the pandas ``frame``; the GX ``ExpectationSuiteValidationResult``.

    What ``ValidationDefinition.run`` does, minus serializing the result into the context's store
    (which costs more than the validation on large batches) and minus ``Batch.validate``'s second
    load (GX hashes the whole frame at each load). The whole suite runs at once: shared metrics."""
    from great_expectations.validator.v1_validator import Validator

    batch_definition = (
        context.data_sources.add_pandas("popsync")
        .add_dataframe_asset(asset)
        .add_batch_definition_whole_dataframe("whole")
    )
    validator = Validator(
        batch_definition=batch_definition,
        batch_parameters={"dataframe": frame},
        result_format=result_format,
    )
    return validator.validate_expectation_suite(suite)


def docs_context(docs_dir: Path, site: str):
    """A file context rooted at ``docs_dir`` whose Data Docs site ``site`` is ``docs_dir``."""
    import great_expectations as gx

    context = gx.get_context(mode="file", project_root_dir=str(docs_dir))
    config = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(docs_dir),
        },
    }
    if site in context.get_site_names():
        context.update_data_docs_site(site, config)
    else:
        context.add_data_docs_site(site, config)
    return context


def store_result(
    context,
    suite,
    gx_result,
    asset: str,
    meta: dict[str, Any],
    drop_keys: tuple[str, ...],
) -> None:
    """Store ``suite`` and a copy of ``gx_result`` without the result keys ``drop_keys`` (row
    ids and values) in the context, named ``asset`` and carrying ``meta``."""
    import great_expectations as gx
    from great_expectations.core import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    context.suites.add_or_update(suite)
    slim = [
        ExpectationValidationResult(
            success=r.success,
            expectation_config=r.expectation_config,
            result={k: v for k, v in r.result.items() if k not in drop_keys},
            exception_info=r.exception_info,
        )
        for r in gx_result.results
    ]
    run_id = RunIdentifier(run_name=asset, run_time=dt.datetime.now(dt.UTC))
    copy = ExpectationSuiteValidationResult(
        success=gx_result.success,
        results=slim,
        suite_name=suite.name,
        statistics=gx_result.statistics,
        # The site index reads ``active_batch_definition`` as a dict (``.get("data_asset_name")``):
        # with None there it raised, GX logged "Validation result not found" and left the result
        # out of index.html. Only names here; GX's batch spec and markers (a hash of the frame)
        # stay out.
        meta={
            "run_id": run_id,
            "validation_time": run_id.run_time.strftime("%Y%m%dT%H%M%S.%fZ"),
            "great_expectations_version": gx.__version__,
            "active_batch_definition": {
                "datasource_name": "popsync",
                "data_connector_name": "fluent",
                "data_asset_name": asset,
                "batch_identifiers": {},
            },
            "batch_kwargs": {"data_asset_name": asset},  # "Data asset" on the page
            **meta,
        },
    )
    key = ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite.name),
        run_id=run_id,
        batch_identifier=asset,
    )
    context.validation_results_store.set(key, copy)


def build_site(context, site: str) -> None:
    context.build_data_docs(site_names=[site])


@dataclass(frozen=True)
class StoredResult:
    """A validation result in a context's store: its suite, run time, the site-relative URLs of
    its page and its suite's page, and the GX result itself."""

    suite: str
    run_time: dt.datetime
    page: str
    suite_page: str
    result: Any


def validation_page(key) -> str:
    """The site-relative URL GX gives the page of a ``ValidationResultIdentifier``."""
    suite = key.expectation_suite_identifier.name
    parts = ["validations", *suite.split("."), *key.run_id.to_tuple(), key.batch_identifier]
    return urllib.parse.quote("/".join(parts) + ".html")


def stored_results(context) -> list[StoredResult]:
    """Every validation result stored in the context."""
    store = context.validation_results_store
    out = []
    for key in store.list_keys():
        suite = key.expectation_suite_identifier.name
        out.append(
            StoredResult(
                suite=suite,
                run_time=key.run_id.run_time,
                page=validation_page(key),
                suite_page=urllib.parse.quote(
                    "/".join(["expectations", *suite.split(".")]) + ".html"
                ),
                result=store.get(key),
            )
        )
    return out
