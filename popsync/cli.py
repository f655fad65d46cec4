"""The ``popsync`` command line. Every command calls a function of ``popsync.pipeline`` (or the
generator), the same functions the Airflow DAGs call, so a DAG run and a CLI run do the same thing.

Heavy imports (pandas, Great Expectations, Airflow) happen inside the commands so that
``popsync --help`` answers at once.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from popsync.cli_failures import PopsyncGroup
from popsync.cli_options import EXTRACT_CHOICE, EXTRACT_SOURCES, SOURCE_CHOICE
from popsync.cli_options import database_options as _database_options
from popsync.cli_options import fail as _fail
from popsync.cli_options import resources as _resources
from popsync.core.errors import UsageError, UserError

EXISTING_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


class _DateType(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, dt.date):
            return value
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date in YYYY-MM-DD form", param, ctx)
        if not EARLIEST_RUN_DATE <= day <= dt.date.today() + dt.timedelta(days=366):
            self.fail(f"{value} is not a plausible run date (from {EARLIEST_RUN_DATE} to a "
                      "year from today)", param, ctx)  # fmt: skip
        return day


# Run dates outside these bounds are typing mistakes (9999-12-31 is past what a timestamp holds).
EARLIEST_RUN_DATE = dt.date(2000, 1, 1)
DATE = _DateType()


@click.group(cls=PopsyncGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="popsync")
def main() -> None:
    """popsync: link extracts to the population register, check them, load them, and publish
    each person's status back to the register."""


@main.command()
@click.option(
    "--people",
    type=click.IntRange(min=1),
    default=3000,
    show_default=True,
    help="Size of the generated register.",
)
@click.option("--seed", type=int, default=6, show_default=True, help="Same seed, same files.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option(
    "--noise",
    "noise_scale",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Multiplies every noise rate; 0 gives extracts with no injected violations.",
)
@click.option(
    "--noise-config",
    type=EXISTING_FILE,
    help="YAML file overriding individual noise rates.",
)
@click.option(
    "--formats",
    default="mixed",
    show_default=True,
    help="'mixed' (csv, csv-bom, cp1258, xlsx, parquet across files) or one of csv|xlsx|parquet.",
)
def generate(people, seed, out_dir, noise_scale, noise_config, formats):
    """Generate a synthetic register, the three extracts and their truth files."""
    from popsync.generate import generate_dataset

    generate_dataset(
        out_dir=out_dir,
        people=people,
        seed=seed,
        noise_scale=noise_scale,
        noise_config=noise_config,
        formats=formats,
        progress=True,
    )


@main.command()
@click.option("--source", type=SOURCE_CHOICE, required=True)
@click.option("--input", "input_path", type=click.Path(path_type=Path), required=True)
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True)
def standardize(source, input_path, out_path):
    """Read and standardize one source file into Parquet (one row per input row, same order)."""
    from popsync import pipeline

    try:
        pipeline.standardize_file(_resources().catalog, source, input_path, out_path, echo=True)
    except UserError as error:
        _fail(error)


_POPULATION = click.option(
    "--population",
    type=click.Path(path_type=Path),
    required=True,
    help="Register file (dan_cu), or any table with --settings mapping its columns.",
)
_EXTRACT = click.option("--extract", "extract_path", type=click.Path(path_type=Path), required=True)
_SOURCE = click.option(
    "--source",
    type=EXTRACT_CHOICE,
    help="The extract's source; without it, the settings' 'tables' section maps two plain tables.",
)
_SETTINGS = click.option(
    "--settings",
    type=EXISTING_FILE,
    help="Linkage settings (YAML/JSON); default: matching/settings/default.yaml.",
)


@main.command()
@_POPULATION
@_EXTRACT
@_SOURCE
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Ends in .csv or .parquet.",
)
@_SETTINGS
@click.option("--model", "model_path", type=EXISTING_FILE, help="A model from 'popsync train'.")
def match(population, extract_path, source, out_path, settings, model_path):
    """Link every extract row to one person of the register, to review, or to no one."""
    from popsync import pipeline

    try:
        pipeline.match_files(
            _resources().catalog,
            population,
            extract_path,
            source,
            out_path,
            settings_path=settings,
            echo=True,
            model_path=model_path,
        )
    except UserError as error:
        _fail(error)


@main.command()
@_POPULATION
@_EXTRACT
@_SOURCE
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The model's JSON file.")  # fmt: skip
@_SETTINGS
def train(population, extract_path, source, out_path, settings):
    """Estimate the linkage model (m and u) once, for 'popsync match --model'."""
    from popsync import pipeline

    try:
        path = pipeline.train_files(
            _resources().catalog, population, extract_path, source, out_path, settings
        )
    except UserError as error:
        _fail(error)
    click.echo(f"model written to {path}")


@main.command()
@click.option("--source", type=EXTRACT_CHOICE, required=True)
@click.option("--input", "input_path", type=click.Path(path_type=Path), required=True)
@click.option("--population", type=click.Path(path_type=Path), required=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--date", "run_date", type=DATE, default=None, help="Run date (default: today).")
def validate(source, input_path, population, out_dir, run_date):
    """Check a file against the four rules (pre- and post-link) and build the Data Docs."""
    from popsync import pipeline

    try:
        pipeline.validate_files(
            _resources().catalog,
            source,
            input_path,
            population,
            out_dir,
            run_date=run_date or dt.date.today(),
            echo=True,
        )
    except UserError as error:
        _fail(error)


@main.command()
@click.argument("source", type=click.Choice((*EXTRACT_SOURCES, "all")))
@click.option(
    "--input", "input_path", type=click.Path(path_type=Path), help="Extract file (one source)."
)
@click.option("--population", type=click.Path(path_type=Path), help="Register file (dan_cu).")
@click.option(
    "--samples",
    type=click.Path(file_okay=False, path_type=Path),
    help="With 'all': a folder as written by 'popsync generate'.",
)
@click.option(
    "--date",
    "run_date",
    type=DATE,
    default=None,
    help="Run date (default: today; for 'all', the sample set's extract date).",
)
@click.option(
    "--batch",
    "delivery",
    default=None,
    help="What the file is a version of (default: its file name): a later file of the same "
    "batch replaces this one whole.",
)
@click.option(
    "--chunk-rows",
    type=click.IntRange(min=1),
    default=250_000,
    show_default=True,
    help="Rows read, standardized, validated and linked at a time: memory is bounded by the "
    "chunk, not the file (the tables do not depend on it).",
)
@click.option(
    "--settings",
    "linkage_settings",
    type=EXISTING_FILE,
    help="Linkage settings (YAML/JSON); default: the source's, else the shipped ones.",
)
@click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0),
    default=None,
    help="Seconds to wait for another run of the same source to finish (default: "
    "$POPSYNC_LOCK_TIMEOUT, else 600); then the run fails with exit code 4.",
)
@_database_options("Where intermediate files, reports and the embedded database go.")
def run(
    source, input_path, population, samples, run_date, delivery, chunk_rows, linkage_settings,
    lock_timeout, database_url, workdir,
):  # fmt: skip
    """The main job: read, standardize, validate, link, validate, load. Exit codes: 0 loaded,
    1 usage, 2 bad input, 3 blocked by a quality rule, 4 database / disk / lock, 5 internal."""
    from popsync import pipeline

    try:
        res = _resources(database_url, workdir, lock_timeout)
        if source == "all":
            if samples is None:
                raise UsageError("'popsync run all' needs --samples DIR")
            if delivery is not None:
                raise UsageError("--batch names one file's delivery: not with 'run all'")
            if linkage_settings is not None:
                _check_settings(linkage_settings)
            pipeline.run_all(res, samples, run_date=run_date, echo=True,
                             linkage_settings=linkage_settings, chunk_rows=chunk_rows)  # fmt: skip
        else:
            if input_path is None or population is None:
                raise UsageError(f"'popsync run {source}' needs --input and --population")
            if linkage_settings is not None:
                _check_settings(linkage_settings)
            pipeline.run_source(
                res,
                source,
                input_path,
                population,
                run_date=run_date or dt.date.today(),
                echo=True,
                delivery=delivery,
                linkage_settings=linkage_settings,
                chunk_rows=chunk_rows,
            )
    except UserError as error:
        _fail(error)


def _check_settings(path: Path) -> None:
    """Settings errors before any stage runs."""
    import matching

    matching.load_settings(path)


from popsync.cli_pull import backfill, pull, rerun  # noqa: E402 (pulling extracts)
from popsync.cli_recheck import recheck  # noqa: E402 (a register change, no new file)
from popsync.cli_stewards import review, serve, users  # noqa: E402 (the stewards' commands)

for _command in (review, users, serve, pull, backfill, rerun, recheck):
    main.add_command(_command)


@main.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Feed folder: each publication is a new folder in it.")  # fmt: skip
@click.option(
    "--since",
    default=None,
    metavar="RUN_ID|YYYY-MM-DD",
    help="The changes of that run's refresh and later ones, or made on or after that day "
    "(default: since the last publication).",
)
@_database_options("Where the embedded database is (when no database URL is given).")
def publish(out_dir, since, database_url, workdir):
    """Write the people whose status changed (ID and status only) for the register: Parquet,
    CSV and a manifest with counts and checksums."""
    from popsync import pipeline

    try:
        res = _resources(database_url, workdir)
        if not res.database_url and not res.has_embedded_database:
            raise UserError(f"no embedded database in {res.workarea.url}: run 'popsync run' "
                            "first (or give --database-url / POPSYNC_DATABASE_URL)")  # fmt: skip
        done = pipeline.publish_status(res, out_dir, since=since)
    except UserError as error:
        _fail(error)
    if done["through_seq"] > done["since_seq"]:
        window = f"{done['people']:,} people whose status changed (refreshes " \
                 f"{done['since_seq'] + 1}-{done['through_seq']})"  # fmt: skip
    else:
        window = f"an empty delta: no status changed since refresh {done['since_seq']}" + (
            " (the last one published)" if since is None else ""
        )
    click.echo(f"published {window}: {done['path']}")


if __name__ == "__main__":
    main()
