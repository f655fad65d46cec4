"""``train`` and ``link``: the ID pass, the probabilistic pass, decisions with explanations."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from matching.compare import Comparer
from matching.config import LinkageSettings, load_settings
from matching.explain import NONE, explain
from matching.model import Model, estimate
from matching.prepare import Prepared, prepare
from matching.prepared_register import PreparedRegister
from matching.scoring import MATCH, REVIEW, Linker, Pairs, is_in
from popsync.core.errors import UserError
from popsync.core.timing import Steps
from popsync.core.unique import require_unique_ids

DECISION_COLUMNS = ["record_id", "so_dinh_danh", "decision", "score", "explanation"]
CANDIDATE_COLUMNS = ["record_id", "so_dinh_danh", "score", "rank", "explanation"]
DECISIONS = ["match", "review", "no_match"]


class RegisterError(UserError):
    """The register cannot serve as the reference (e.g. a duplicated so_dinh_danh)."""


@dataclass
class LinkResult:
    decisions: pd.DataFrame
    candidates: pd.DataFrame
    stats: dict = field(default_factory=dict)


def check_register(register: pd.DataFrame | PreparedRegister) -> None:
    """Raise :class:`RegisterError` if a so_dinh_danh appears more than once (a prepared
    register was checked when it was prepared: ``matching.prepare_snapshot``)."""
    if isinstance(register, PreparedRegister):
        return
    require_unique_ids(
        register, "person_id", "the register", RegisterError, "so_dinh_danh", allow_null=True
    )


def _empty(stats: dict) -> LinkResult:
    decisions = pd.DataFrame({column: pd.Series(dtype="string") for column in DECISION_COLUMNS})
    decisions["score"] = decisions["score"].astype("float64")
    candidates = pd.DataFrame({column: pd.Series(dtype="string") for column in CANDIDATE_COLUMNS})
    candidates = candidates.astype({"score": "float64", "rank": "int64"})
    return LinkResult(decisions, candidates, stats)


def cross_pairs(settings: LinkageSettings) -> list[tuple[str, str]]:
    """The (extract, register) columns that levels and blocking rules compare."""
    return [
        (level.left_column, level.right_column)
        for comparison in settings.comparisons
        for level in comparison.levels
    ] + [key for rule in settings.blocking_rules for key in rule.keys]


def _prepare(extract: pd.DataFrame, register, settings: LinkageSettings) -> Prepared:
    columns, text = settings.columns(), settings.declared_text_columns()
    return prepare(extract, register, columns, text, cross_pairs(settings))


def train(
    register_std: pd.DataFrame,
    extract_std: pd.DataFrame,
    settings: LinkageSettings | None = None,
    about: dict | None = None,
) -> Model:
    """m and u for these settings from a register and an extract of one source (EM over the
    pairs of the training rules, u from random pairs): train once, then ``link(model=...)``."""
    settings = settings or load_settings()
    check_register(register_std)
    if len(register_std) == 0 or len(extract_std) == 0:
        raise UserError("training needs a register and an extract with rows")
    prep = _prepare(extract_std, register_std, settings)
    model = estimate(prep, Comparer(prep, settings.comparisons), settings)
    model.about.update(about or {})
    return model


def _progress(enabled: bool):
    """A rich progress line naming the current step, or nothing."""
    if not enabled:
        return None, None
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    progress = Progress(
        SpinnerColumn(), TextColumn("linking: {task.description}"), TimeElapsedColumn(),
        transient=True,
    )  # fmt: skip
    progress.start()
    task = progress.add_task("prepare")
    return progress, lambda name: progress.update(task, description=name)


def link(
    register_std: pd.DataFrame,
    extract_std: pd.DataFrame,
    settings: LinkageSettings | None = None,
    progress: bool = False,
    model: Model | None = None,
) -> LinkResult:
    """Link every extract row to one register person (``match``), to ``review`` or ``no_match``.

    ID pass first: pairs sharing the 12-digit ID or the 9-digit CMND are scored, and rows whose
    best pair is a confident, unambiguous match are settled. Every other row gets the
    probabilistic pass: near-ID and demographic blocking, scored together with its ID pairs.
    With a ``model`` (``train``), a row's decision does not depend on the rest of its batch;
    without one, the model is trained on this batch first.
    """
    settings = settings or load_settings()
    check_register(register_std)
    if model is not None and model.fingerprint != settings.fingerprint():
        raise UserError("the linkage model was trained with other settings: train it again")
    stats: dict = {"register_rows": len(register_std), "extract_rows": len(extract_std)}
    if len(extract_std) == 0:
        stats.update(pairs_scored=0, decisions={}, blocking={}, timings={})
        return _empty(stats)
    bar, on_step = _progress(progress)
    steps = Steps(on_step)
    try:
        return _link(register_std, extract_std, settings, model, steps, stats)
    finally:
        if bar is not None:
            bar.stop()


def _link(register_std, extract_std, settings, model, steps: Steps, stats: dict) -> LinkResult:
    with steps.step("prepare"):
        prep = _prepare(extract_std, register_std, settings)
    with steps.step("train"):
        if model is None and prep.n_right:
            model = estimate(prep, Comparer(prep, settings.comparisons), settings)
    all_rows = np.arange(prep.n_left)
    parts: list[Pairs] = []
    settled = np.zeros(prep.n_left, dtype=bool)
    linker = Linker(prep, settings, model) if prep.n_right else None
    if linker is not None:
        with steps.step("id pass"):
            id_pairs = linker.score(*linker.candidates(list(settings.id_rules), all_rows))
            if len(id_pairs):
                ranked = linker.rank(id_pairs)
                sure = (ranked["decision"] == MATCH) & linker.settles(id_pairs, ranked["best"])
                settled[ranked["row"][sure]] = True
                keep = settled[id_pairs.li]
                parts += [id_pairs.take(np.nonzero(keep)[0]), id_pairs.take(np.nonzero(~keep)[0])]
        with steps.step("probabilistic pass"):
            rest = np.nonzero(~settled)[0]
            other_rules = [name for name in linker.rule_names if name not in settings.id_rules]
            li, ri, rule = linker.candidates(other_rules, rest)
            if parts:  # drop pairs the ID pass already scored
                seen = parts[-1].li * prep.n_right + parts[-1].ri
                fresh = ~is_in(li * prep.n_right + ri, seen)
                li, ri, rule = li[fresh], ri[fresh], rule[fresh]
            parts.append(linker.score(li, ri, rule))
    with steps.step("decide"):
        pairs = Pairs.concat(parts) if parts else None
        decisions, candidates = _decide(extract_std, prep, settings, pairs, linker)
    stats.update(
        blocking=linker.block_stats if linker is not None else {},
        pairs_scored=0 if pairs is None else len(pairs),
        id_pass_settled=int(settled.sum()),
        decisions={key: int(value) for key, value in decisions["decision"].value_counts().items()},
        timings=steps.seconds,
        model=model.to_dict() if model is not None else {},
    )
    return LinkResult(decisions, candidates, stats)


def _take(values: pa.Array, index: np.ndarray) -> pd.Series:
    """``values[index]`` as a pandas string column; index -1 gives null."""
    taken = pc.take(values, pa.array(index, mask=index < 0))
    return pd.Series(taken.cast(pa.large_string()), dtype="string")


def _decide(extract_std, prep: Prepared, settings, pairs: Pairs | None, linker: Linker | None):
    n = prep.n_left
    record_ids = extract_std["record_id"].astype("string").reset_index(drop=True)
    decision = np.full(n, 2)  # no_match
    score = np.zeros(n)
    person = np.full(n, -1)
    candidates = _empty({}).candidates
    if pairs is not None and len(pairs):
        ranked = linker.rank(pairs)
        pairs = ranked["pairs"]  # with the weights a relative's evidence explained away
        rows = ranked["row"]
        decision[rows] = ranked["decision"]
        review = ranked["decision"] == REVIEW
        first = ranked["review_order"][ranked["starts"]]
        score[rows] = np.where(review, ranked["review_probability"][first], ranked["probability"])
        matched = ranked["decision"] == MATCH
        person[rows[matched]] = pairs.ri[ranked["best"][matched]]
        best = np.full(n, -1)
        best[rows] = ranked["best"]
        count = np.zeros(n, dtype=np.int64)
        count[rows] = ranked["count"]
        housemate = np.full(n, -1)
        housemate[rows] = ranked["housemate"]
        explanations = explain(pairs, best, count, settings, linker.is_id_pass, housemate)
        candidates = _review_candidates(pairs, ranked, linker, record_ids, prep, settings)
    else:
        explanations = pa.repeat(pa.scalar(NONE, pa.large_string()), n)
    decisions = pd.DataFrame(
        {
            "record_id": record_ids,
            "so_dinh_danh": _take(prep.person_ids, person),
            "decision": _take(pa.array(DECISIONS), decision),
            "score": np.round(score, 6),
            "explanation": pd.Series(explanations, dtype="string"),
        }
    )
    return decisions, candidates


def _review_candidates(pairs, ranked, linker: Linker, record_ids, prep, settings) -> pd.DataFrame:
    """The top candidates of every ``review`` row, best first, each with its own probability."""
    order, starts, counts = ranked["review_order"], ranked["starts"], ranked["count"]
    review = ranked["decision"] == REVIEW
    keep = np.minimum(counts[review], settings.max_review_candidates)
    rank = np.arange(keep.sum()) - np.repeat(np.cumsum(keep) - keep, keep)
    index = order[np.repeat(starts[review], keep) + rank]
    counts_each = np.repeat(counts[review], keep)
    ranked_pairs = Pairs(pairs.li, pairs.ri, pairs.rule, pairs.levels, pairs.weights,
                         ranked["review_score"])  # fmt: skip
    return pd.DataFrame(
        {
            "record_id": record_ids.iloc[pairs.li[index]].reset_index(drop=True),
            "so_dinh_danh": _take(prep.person_ids, pairs.ri[index]),
            "score": np.round(ranked["review_probability"][index], 6),
            "rank": (rank + 1).astype(np.int64),
            "explanation": pd.Series(
                explain(ranked_pairs, index, counts_each, settings, linker.is_id_pass),
                dtype="string",
            ),
        }
    )
