"""``link``: ID pass, probabilistic pass, decisions with explanations."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from matching.blocking import block
from matching.compare import Comparer
from matching.config import LinkageSettings, load_settings
from matching.model import Model, train
from matching.prepare import Prepared, prepare
from matching.prepared_register import PreparedRegister, check_register

DECISION_COLUMNS = ["record_id", "so_dinh_danh", "decision", "score", "explanation"]
CANDIDATE_COLUMNS = ["record_id", "so_dinh_danh", "score", "rank", "explanation"]
DECISIONS = ["match", "review", "no_match"]
MATCH, REVIEW, NO_MATCH = range(3)


@dataclass
class LinkResult:
    decisions: pd.DataFrame
    candidates: pd.DataFrame
    stats: dict = field(default_factory=dict)


@dataclass
class _Pairs:
    """Scored candidate pairs; ``rule`` is the index of the first blocking rule that found it."""

    li: np.ndarray
    ri: np.ndarray
    rule: np.ndarray
    levels: np.ndarray
    weights: np.ndarray
    score: np.ndarray  # log2 odds

    def __len__(self) -> int:
        return len(self.li)

    def take(self, index: np.ndarray) -> _Pairs:
        return _Pairs(*(getattr(self, name)[index] for name in self.__dataclass_fields__))

    @staticmethod
    def concat(parts: list[_Pairs]) -> _Pairs:
        return _Pairs(
            *(
                np.concatenate([getattr(p, name) for p in parts])
                for name in _Pairs.__dataclass_fields__
            )
        )


class _Steps:
    """Timings of the stages, shown as a rich progress bar when asked."""

    def __init__(self, enabled: bool, total: int):
        self.timings: dict[str, float] = {}
        self.progress = None
        if enabled:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(
                TextColumn("linking: {task.description}"),
                BarColumn(),
                TimeElapsedColumn(),
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task("prepare", total=total)

    @contextmanager
    def step(self, name: str):
        if self.progress is not None:
            self.progress.update(self.task, description=name)
        start = time.perf_counter()
        yield
        self.timings[name] = round(time.perf_counter() - start, 3)
        if self.progress is not None:
            self.progress.advance(self.task)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def _empty(stats: dict) -> LinkResult:
    decisions = pd.DataFrame({column: pd.Series(dtype="string") for column in DECISION_COLUMNS})
    decisions["score"] = decisions["score"].astype("float64")
    candidates = pd.DataFrame({column: pd.Series(dtype="string") for column in CANDIDATE_COLUMNS})
    candidates = candidates.astype({"score": "float64", "rank": "int64"})
    return LinkResult(decisions, candidates, stats)


class _Linker:
    def __init__(self, prep: Prepared, settings: LinkageSettings, model: Model, comparer: Comparer):
        self.prep = prep
        self.settings = settings
        self.model = model
        self.comparer = comparer
        self.rule_names = [rule.name for rule in settings.blocking_rules]
        self.id_comparison = next(
            (c for c, comp in enumerate(settings.comparisons) if "id_any" in comp.null_if_missing),
            None,
        )
        self.required = [
            (c, len(comp.levels))
            for c, comp in enumerate(settings.comparisons)
            if comp.name in settings.require_agreement
        ]
        self.block_stats: dict[str, dict[str, int]] = {}

    def candidates(
        self, rule_names: list[str], rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Deduplicated pairs of several rules for ``rows`` (first rule wins)."""
        lis, ris, rules = [], [], []
        for name in rule_names:
            li, ri, skipped = block(self.prep, self.settings.rule(name), rows)
            self.block_stats[name] = {
                "rows": int(len(rows)),
                "pairs": int(len(li)),
                "skipped_rows": skipped,
            }
            lis.append(li)
            ris.append(ri)
            rules.append(np.full(len(li), self.rule_names.index(name), dtype=np.int8))
        li, ri, rule = np.concatenate(lis), np.concatenate(ris), np.concatenate(rules)
        first = ~pd.Index(li * self.prep.n_right + ri).duplicated()
        return li[first], ri[first], rule[first]

    def score(self, li: np.ndarray, ri: np.ndarray, rule: np.ndarray) -> _Pairs:
        levels = self.comparer.levels(li, ri)
        weights = self.model.weights(levels, self.prep, ri)
        score = self.model.log2_prior + weights.sum(axis=1, dtype=np.float64)
        return _Pairs(li, ri, rule, levels, weights, score)

    def rank(self, pairs: _Pairs) -> dict[str, np.ndarray]:
        """Per extract row with candidates: best pair, runner-up score, count and decision."""
        order = np.lexsort((-pairs.score, pairs.li))
        rows = pairs.li[order]
        starts = np.nonzero(np.r_[True, rows[1:] != rows[:-1]])[0]
        counts = np.diff(np.r_[starts, len(rows)])
        best = order[starts]
        second = np.full(len(starts), -np.inf)
        has_second = counts > 1
        second[has_second] = pairs.score[order[starts[has_second] + 1]]
        best_score = pairs.score[best]
        probability = 1.0 / (1.0 + np.exp2(-best_score))
        eligible = np.ones(len(best), dtype=bool)
        for c, else_level in self.required:
            level = pairs.levels[best, c]
            eligible &= (level >= 0) & (level < else_level)
        settings = self.settings
        match = (probability >= settings.match_threshold) & eligible
        match &= best_score - second >= settings.min_margin_bits
        review = ~match & (probability >= settings.review_threshold)
        decision = np.where(match, MATCH, np.where(review, REVIEW, NO_MATCH))
        return {
            "row": rows[starts],
            "best": best,
            "count": counts,
            "probability": probability,
            "decision": decision,
            "order": order,
            "starts": starts,
        }

    def is_id_pass(self, pairs: _Pairs, index: np.ndarray) -> np.ndarray:
        if self.id_comparison is None:
            return np.zeros(len(index), dtype=bool)
        else_level = len(self.settings.comparisons[self.id_comparison].levels)
        level = pairs.levels[index, self.id_comparison]
        return (level >= 0) & (level < else_level)

    def explain(self, pairs: _Pairs, index: np.ndarray, counts: np.ndarray) -> pa.ChunkedArray:
        """Compact JSON per pair: pass, candidate count, rule, per-field level and weight.

        ``index`` -1 (a row without candidates) gives ``{"pass":"none","candidates":0}``.
        Each piece is formatted once per distinct value (a comparison's level and weight,
        rounded to 0.01 bit) and the pieces are gathered and joined with Arrow kernels: no
        Python work per row. Done in chunks of rows, so the pieces of only one chunk are
        held besides the result.
        """
        chunks = [
            self._explain(
                pairs, index[begin : begin + _EXPLAIN_CHUNK], counts[begin : begin + _EXPLAIN_CHUNK]
            )
            for begin in range(0, len(index), _EXPLAIN_CHUNK)
        ]
        return pa.chunked_array(chunks, pa.large_string())

    def _explain(self, pairs: _Pairs, index: np.ndarray, counts: np.ndarray) -> pa.Array:
        valid = index >= 0
        at = np.where(valid, index, 0)
        null = None if valid.all() else ~valid

        def gather(texts: list[str], code: np.ndarray, mask: np.ndarray | None = null) -> pa.Array:
            return pc.take(pa.array(texts, pa.large_string()), pa.array(code, mask=mask))

        head = np.where(self.is_id_pass(pairs, at), 0, 1)
        pieces = [
            gather(
                ['{"pass":"id","candidates":', '{"pass":"probabilistic","candidates":', _NONE],
                np.where(valid, head, 2),
                mask=None,
            ),
            pa.array(np.asarray(counts), mask=null).cast(pa.large_string()),
            gather([f',"rule":"{name}","fields":{{' for name in self.rule_names], pairs.rule[at]),
        ]
        comparisons = self.settings.comparisons
        for c, comparison in enumerate(comparisons):
            names = ("null", *comparison.level_names)
            cents = np.round(pairs.weights[at, c].astype(np.float64) * 100).astype(np.int64)
            level = pairs.levels[at, c].astype(np.int64) + 1  # 0 for null
            code, uniques = pd.factorize(level * 2**32 + (cents + 2**31))
            comma = "," if c else ""
            end = "}}" if c == len(comparisons) - 1 else ""
            texts = [
                f'{comma}"{comparison.name}":["{names[value >> 32]}",'
                f"{((value & 0xFFFFFFFF) - 2**31) / 100:g}]{end}"
                for value in uniques.tolist()
            ]
            pieces.append(gather(texts, code))
        return pc.binary_join_element_wise(
            *pieces,
            pa.scalar("", pa.large_string()),
            # not "skip": pyarrow 26 drops the rows where every piece is null
            null_handling="replace",
            null_replacement="",
        )


_NONE = '{"pass":"none","candidates":0}'
_EXPLAIN_CHUNK = 262_144


def link(
    register_std: pd.DataFrame | PreparedRegister,
    extract_std: pd.DataFrame,
    settings: LinkageSettings | None = None,
    progress: bool = False,
    model: Model | None = None,
) -> LinkResult:
    """Link every extract row to one register person (``match``), to ``review`` or ``no_match``.

    ID pass first: pairs sharing the 12-digit ID or the 9-digit CMND are scored, and rows whose
    best pair is a confident, unambiguous match are settled. Every other row gets the
    probabilistic pass: near-ID and demographic blocking, scored together with its ID pairs.

    ``register_std`` may be the register prepared once (``matching.prepare_snapshot``), and
    ``model`` a model trained once (``matching.train_model``): then a row's decision does not
    depend on the other rows linked with it, and a batch can be linked chunk by chunk.
    """
    settings = settings or load_settings()
    if not isinstance(register_std, PreparedRegister):
        check_register(register_std)
    stats: dict = {"register_rows": len(register_std), "extract_rows": len(extract_std)}
    if len(extract_std) == 0:
        stats.update(pairs_scored=0, decisions={}, blocking={}, timings={})
        return _empty(stats)
    steps = _Steps(progress, total=5)  # prepare, train, id pass, probabilistic pass, decide
    try:
        return _link(register_std, extract_std, settings, steps, stats, model)
    finally:
        steps.close()


def _link(register_std, extract_std, settings, steps: _Steps, stats: dict, model) -> LinkResult:
    with steps.step("prepare"):
        prep = prepare(extract_std, register_std, settings.columns())
        comparer = Comparer(prep, settings.comparisons)
    with steps.step("train"):
        if not prep.n_right:
            model = None
        else:
            model = model.for_prep(prep) if model else train(prep, comparer, settings)
    all_rows = np.arange(prep.n_left)
    parts: list[_Pairs] = []
    settled = np.zeros(prep.n_left, dtype=bool)
    if model is not None:
        linker = _Linker(prep, settings, model, comparer)
        with steps.step("id pass"):
            id_pairs = linker.score(*linker.candidates(list(settings.id_rules), all_rows))
            if len(id_pairs):
                ranked = linker.rank(id_pairs)
                settled[ranked["row"][ranked["decision"] == MATCH]] = True
                keep = settled[id_pairs.li]
                parts += [id_pairs.take(np.nonzero(keep)[0]), id_pairs.take(np.nonzero(~keep)[0])]
        with steps.step("probabilistic pass"):
            rest = np.nonzero(~settled)[0]
            other_rules = [name for name in linker.rule_names if name not in settings.id_rules]
            li, ri, rule = linker.candidates(other_rules, rest)
            if parts:  # drop pairs the ID pass already scored
                seen = parts[-1].li * prep.n_right + parts[-1].ri
                fresh = ~np.isin(li * prep.n_right + ri, seen)
                li, ri, rule = li[fresh], ri[fresh], rule[fresh]
            parts.append(linker.score(li, ri, rule))
    with steps.step("decide"):
        pairs = _Pairs.concat(parts) if parts else None
        decisions, candidates = _decide(
            extract_std, prep, settings, pairs, linker if parts else None
        )
    stats.update(
        blocking=linker.block_stats if model is not None else {},
        pairs_scored=0 if pairs is None else len(pairs),
        id_pass_settled=int(settled.sum()),
        decisions={key: int(value) for key, value in decisions["decision"].value_counts().items()},
        timings=steps.timings,
        model=model.to_dict() if model is not None else {},
    )
    return LinkResult(decisions, candidates, stats)


def _take(values: pa.Array, index: np.ndarray) -> pd.Series:
    """``values[index]`` as a pandas string column; index -1 gives null."""
    taken = pc.take(values, pa.array(index, mask=index < 0))
    return pd.Series(taken.cast(pa.large_string()), dtype="string")


def _decide(
    extract_std,
    prep: Prepared,
    settings: LinkageSettings,
    pairs: _Pairs | None,
    linker: _Linker | None,
):
    n = prep.n_left
    record_ids = extract_std["record_id"].astype("string").reset_index(drop=True)
    decision = np.full(n, NO_MATCH)
    score = np.zeros(n)
    person = np.full(n, -1)
    candidates = _empty({}).candidates
    if pairs is not None and len(pairs):
        ranked = linker.rank(pairs)
        rows = ranked["row"]
        decision[rows] = ranked["decision"]
        score[rows] = ranked["probability"]
        matched = ranked["decision"] == MATCH
        person[rows[matched]] = pairs.ri[ranked["best"][matched]]
        best = np.full(n, -1)
        best[rows] = ranked["best"]
        count = np.zeros(n, dtype=np.int64)
        count[rows] = ranked["count"]
        explanations = linker.explain(pairs, best, count)
        candidates = _review_candidates(pairs, ranked, linker, record_ids, prep, settings)
    else:
        explanations = pa.repeat(pa.scalar(_NONE, pa.large_string()), n)
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


def _review_candidates(pairs, ranked, linker: _Linker, record_ids, prep, settings) -> pd.DataFrame:
    """The top candidates of every ``review`` row, best first."""
    order, starts, counts = ranked["order"], ranked["starts"], ranked["count"]
    review = ranked["decision"] == REVIEW
    keep = np.minimum(counts[review], settings.max_review_candidates)
    rank = np.arange(keep.sum()) - np.repeat(np.cumsum(keep) - keep, keep)
    index = order[np.repeat(starts[review], keep) + rank]
    return pd.DataFrame(
        {
            "record_id": record_ids.iloc[pairs.li[index]].reset_index(drop=True),
            "so_dinh_danh": _take(prep.person_ids, pairs.ri[index]),
            "score": np.round(1.0 / (1.0 + np.exp2(-pairs.score[index])), 6),
            "rank": (rank + 1).astype(np.int64),
            "explanation": pd.Series(
                linker.explain(pairs, index, np.repeat(counts[review], keep)), dtype="string"
            ),
        }
    )
