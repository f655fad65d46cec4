"""Fellegi-Sunter parameters learnt from the data.

u (level frequencies among non-matching pairs) comes from random pairs, and exactly from the
value frequencies for a comparison's first ``exact`` level; m comes from EM over the pairs of
training blocking rules (Splink's approach: a comparison the rule selects on keeps its m);
levels with a ``tf_column`` are adjusted by the register frequency of the agreed value.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from matching.blocking import block
from matching.compare import Comparer
from matching.config import Comparison, LinkageSettings
from matching.prepare import Prepared

_FLOOR = 1e-6


@dataclass
class Model:
    comparisons: tuple[Comparison, ...]
    m: list[np.ndarray]
    u: list[np.ndarray]
    log2_prior: float
    tf: dict[str, np.ndarray]
    tf_min: float
    lambdas: dict[str, float]

    def weights(self, levels: np.ndarray, prep: Prepared, ri: np.ndarray) -> np.ndarray:
        """(pairs x comparisons) match weights in bits (0 for null levels)."""
        out = np.zeros(levels.shape, dtype=np.float32)
        for c, comparison in enumerate(self.comparisons):
            idx = levels[:, c]
            column = _with_null(np.log2(self.m[c] / self.u[c]))[idx]
            for index, level in enumerate(comparison.levels):
                if level.tf_column is None:
                    continue
                at = np.nonzero(idx == index)[0]
                tf = self.tf[level.tf_column]
                value_tf = np.maximum(tf[prep.right[level.tf_column][ri[at]]], self.tf_min)
                # The level's weight, moved by how much rarer than average the agreed value is
                # (the average being the chance that two random register values agree).
                column[at] += np.log2(np.square(tf).sum() / value_tf)
            out[:, c] = column
        return out

    def for_prep(self, prep: Prepared) -> Model:
        """The model for another extract chunk: the register term frequencies are indexed by
        the chunk's value codes, so they are taken again from its prepared columns (the same
        values get the same frequencies)."""
        return replace(self, tf={column: prep.term_frequencies(column) for column in self.tf})

    def parameters(self) -> dict:
        """What a trained model is, as JSON (``from_parameters`` reads it back)."""
        return {
            "comparisons": [comparison.name for comparison in self.comparisons],
            "m": [values.tolist() for values in self.m],
            "u": [values.tolist() for values in self.u],
            "log2_prior": self.log2_prior,
            "tf_columns": sorted(self.tf),
            "tf_min": self.tf_min,
            "lambdas": self.lambdas,
        }

    @classmethod
    def from_parameters(cls, data: dict, comparisons: tuple[Comparison, ...]) -> Model:
        """A model saved by ``parameters``, for the settings' ``comparisons`` (the same names
        in the same order, or ``ValueError``); ``for_prep`` then fills its term frequencies."""
        names = [comparison.name for comparison in comparisons]
        if data["comparisons"] != names:
            raise ValueError(f"the saved model compares {data['comparisons']}, not {names}")
        return cls(
            comparisons=comparisons,
            m=[np.asarray(values, dtype=float) for values in data["m"]],
            u=[np.asarray(values, dtype=float) for values in data["u"]],
            log2_prior=float(data["log2_prior"]),
            tf=dict.fromkeys(data["tf_columns"], np.zeros(0)),
            tf_min=float(data["tf_min"]),
            lambdas=dict(data["lambdas"]),
        )

    def to_dict(self) -> dict:
        return {
            "log2_prior": round(self.log2_prior, 3),
            "em_lambda": {name: round(value, 6) for name, value in self.lambdas.items()},
            "comparisons": {
                comparison.name: {
                    name: {"m": float(m), "u": float(u), "weight": round(float(np.log2(m / u)), 3)}
                    for name, m, u in zip(comparison.level_names, self.m[c], self.u[c], strict=True)
                }
                for c, comparison in enumerate(self.comparisons)
            },
        }


def _with_null(table: np.ndarray) -> np.ndarray:
    """Append weight 0 so that the null level (-1) indexes it."""
    return np.append(table, 0.0).astype(np.float32)


def _normalise(values: np.ndarray) -> np.ndarray:
    values = np.maximum(values, _FLOOR)
    return values / values.sum()


def _exact_u(prep: Prepared, comparison: Comparison) -> float | None:
    """P(agree) for random non-null pairs from value frequencies, for a first exact level."""
    level = comparison.levels[0]
    if level.kind != "exact" or level.if_either or comparison.null_unless_equal:
        return None
    a = prep.left[level.left_column]
    b = prep.right[level.right_column]
    a, b = a[a >= 0], b[b >= 0]
    if len(a) == 0 or len(b) == 0:
        return None
    values, a_counts = np.unique(a, return_counts=True)
    b_values, b_counts = np.unique(b, return_counts=True)
    _, ia, ib = np.intersect1d(values, b_values, assume_unique=True, return_indices=True)
    return float((a_counts[ia] * b_counts[ib]).sum() / (len(a) * len(b)))


def estimate_u(
    prep: Prepared, comparer: Comparer, settings: LinkageSettings, rng: np.random.Generator
) -> list[np.ndarray]:
    size = min(settings.u_sample_pairs, prep.n_left * prep.n_right)
    li = rng.integers(0, prep.n_left, size)
    ri = rng.integers(0, prep.n_right, size)
    levels = comparer.levels(li, ri)
    result = []
    for c, comparison in enumerate(settings.comparisons):
        column = levels[:, c]
        counts = np.bincount(column[column >= 0], minlength=len(comparison.level_names)).astype(
            float
        )
        u = (counts + 0.5) / (counts.sum() + 0.5 * len(counts))
        exact = _exact_u(prep, comparison)
        if exact is not None:
            u[0] = max(exact, _FLOOR * _FLOOR)
            rest = u[1:]
            u[1:] = rest / rest.sum() * (1 - u[0])
        result.append(u)
    return result


def _em(
    levels: np.ndarray,
    m: list[np.ndarray],
    u: list[np.ndarray],
    fixed: set[int],
    iterations: int,
    prior_pairs: float,
) -> float:
    """EM for m (u fixed) over training pairs; updates ``m`` in place, returns lambda.

    ``fixed`` comparisons are left out: the blocking rule selected on them.
    The starting m act as ``prior_pairs`` pseudo-observations, so a level the training pairs
    never show (no stripped names in a clean extract) keeps a plausible m instead of ~0.
    """
    start = [values.copy() for values in m]
    valid = levels >= 0
    lam = 0.1
    for _ in range(iterations):
        log_bf = np.zeros(len(levels))
        for c in range(levels.shape[1]):
            if c not in fixed:  # all pairs agree on what the rule blocked on: no evidence
                log_bf += _with_null(np.log(m[c] / u[c]))[levels[:, c]]
        log_odds = np.clip(log_bf + np.log(lam / (1 - lam)), -700, 700)
        posterior = 1.0 / (1.0 + np.exp(-log_odds))
        for c in range(levels.shape[1]):
            if c in fixed or not valid[:, c].any():
                continue
            counts = np.bincount(
                levels[valid[:, c], c], weights=posterior[valid[:, c]], minlength=len(m[c])
            )
            m[c] = _normalise(counts + prior_pairs * start[c])
        lam = float(np.clip(posterior.mean(), 1e-6, 1 - 1e-6))
    return lam


def initial_m(comparisons: tuple[Comparison, ...]) -> list[np.ndarray]:
    return [
        _normalise(np.array([level.m_init for level in c.levels] + [c.m_else_init], dtype=float))
        for c in comparisons
    ]


def train(prep: Prepared, comparer: Comparer, settings: LinkageSettings) -> Model:
    rng = np.random.default_rng(settings.seed)
    comparisons = settings.comparisons
    u = estimate_u(prep, comparer, settings, rng)
    start = initial_m(comparisons)
    estimates: list[list[np.ndarray]] = [[] for _ in comparisons]
    lambdas = {}
    names = [c.name for c in comparisons]
    for session in settings.training:
        rows = np.arange(prep.n_left)
        if len(rows) > settings.training_sample_rows:
            rows = np.sort(rng.choice(rows, settings.training_sample_rows, replace=False))
        li, ri, _ = block(prep, settings.rule(session.block_on), rows)
        if len(li) == 0:
            continue
        m = [values.copy() for values in start]
        fixed = {names.index(name) for name in session.fix}
        lambdas[session.block_on] = _em(
            comparer.levels(li, ri), m, u, fixed, settings.em_iterations, settings.m_prior_pairs
        )
        for c in range(len(comparisons)):
            if c not in fixed:
                estimates[c].append(m[c])
    m_final = [
        _normalise(np.mean(found, axis=0)) if found else start[c]
        for c, found in enumerate(estimates)
    ]
    tf_columns = {level.tf_column for c in comparisons for level in c.levels if level.tf_column}
    lam = settings.link_rate / max(prep.n_right, 1)
    return Model(
        comparisons=comparisons,
        m=m_final,
        u=u,
        log2_prior=float(np.log2(lam / (1 - lam))),
        tf={column: prep.term_frequencies(column) for column in tf_columns},
        tf_min=settings.tf_min,
        lambdas=lambdas,
    )
