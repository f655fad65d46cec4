"""Fellegi-Sunter parameters learnt from the data.

u (level frequencies among non-matching pairs) comes from random pairs, and exactly from the
value frequencies for a comparison's first ``exact`` level; m comes from EM over the pairs of
training blocking rules (Splink's approach: a comparison the rule selects on keeps its m);
levels with a ``tf_column`` are adjusted by the register frequency of the agreed value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from matching.blocking import block
from matching.compare import Comparer
from matching.config import Comparison, LinkageSettings
from matching.prepare import Prepared
from popsync.core.errors import UserError

_FLOOR = 1e-6


@dataclass
class Model:
    """m and u per comparison level, learnt once (per register snapshot and source) and reused:
    ``save``/``load`` as JSON. Term frequencies and the prior come from the register being
    linked, so a model is only valid with the settings it was trained with (``fingerprint``)."""

    comparisons: tuple[Comparison, ...]
    m: list[np.ndarray]
    u: list[np.ndarray]
    fingerprint: str
    link_rate: float
    tf_min: float
    lambdas: dict[str, float] = field(default_factory=dict)
    about: dict = field(default_factory=dict)

    def log2_prior(self, n_right: int) -> float:
        lam = self.link_rate / max(n_right, 1)
        return float(np.log2(lam / (1 - lam)))

    def weights(
        self, levels: np.ndarray, prep: Prepared, ri: np.ndarray, tf: dict[str, np.ndarray]
    ) -> np.ndarray:
        """(pairs x comparisons) match weights in bits (0 for null levels)."""
        out = np.zeros(levels.shape, dtype=np.float32)
        for c, comparison in enumerate(self.comparisons):
            idx = levels[:, c]
            column = _with_null(np.log2(self.m[c] / self.u[c]))[idx]
            for index, level in enumerate(comparison.levels):
                if level.tf_column is None:
                    continue
                at = np.nonzero(idx == index)[0]
                shares = tf[level.tf_column]
                value_tf = np.maximum(shares[prep.right[level.tf_column][ri[at]]], self.tf_min)
                # The level's weight, moved by how much rarer than average the agreed value is
                # (the average being the chance that two random register values agree).
                column[at] += np.log2(np.square(shares).sum() / value_tf)
            out[:, c] = column
        return out

    def term_frequencies(self, prep: Prepared) -> dict[str, np.ndarray]:
        columns = {lv.tf_column for c in self.comparisons for lv in c.levels if lv.tf_column}
        return {column: prep.term_frequencies(column) for column in columns}

    def to_dict(self) -> dict:
        return {
            "format": "popsync-linkage-model/1",
            "settings_fingerprint": self.fingerprint,
            "link_rate": self.link_rate,
            "tf_min": self.tf_min,
            "about": self.about,
            "em_lambda": {name: round(value, 6) for name, value in self.lambdas.items()},
            "comparisons": {
                comparison.name: {
                    name: {"m": float(m), "u": float(u), "weight": round(float(np.log2(m / u)), 3)}
                    for name, m, u in zip(comparison.level_names, self.m[c], self.u[c], strict=True)
                }
                for c, comparison in enumerate(self.comparisons)
            },
        }

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.to_dict(), ensure_ascii=False, indent=1)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path, settings: LinkageSettings) -> Model:
        """The model saved at ``path``; a ``UserError`` when it was trained with other settings."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise UserError(f"cannot read the linkage model {path}: {error}") from error
        return cls.from_dict(data, settings, where=str(path))

    @classmethod
    def from_dict(cls, data: dict, settings: LinkageSettings, where: str = "") -> Model:
        if not isinstance(data, dict) or data.get("settings_fingerprint") != settings.fingerprint():
            found = data.get("settings_fingerprint") if isinstance(data, dict) else None
            raise UserError(
                f"the linkage model {where} was trained with other settings ({found}, these are "
                f"{settings.fingerprint()}): train it again (popsync train)"
            )
        tables = data["comparisons"]
        m, u = [], []
        for comparison in settings.comparisons:
            levels = [tables[comparison.name][name] for name in comparison.level_names]
            m.append(np.array([level["m"] for level in levels]))
            u.append(np.array([level["u"] for level in levels]))
        return cls(
            comparisons=settings.comparisons,
            m=m,
            u=u,
            fingerprint=data["settings_fingerprint"],
            link_rate=float(data["link_rate"]),
            tf_min=float(data["tf_min"]),
            lambdas=dict(data.get("em_lambda", {})),
            about=dict(data.get("about", {})),
        )


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


def estimate(prep: Prepared, comparer: Comparer, settings: LinkageSettings) -> Model:
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
        blocked = block(prep, settings.rule(session.block_on), rows)
        li, ri = blocked.left, blocked.right
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
    return Model(
        comparisons=comparisons,
        m=m_final,
        u=u,
        fingerprint=settings.fingerprint(),
        link_rate=settings.link_rate,
        tf_min=settings.tf_min,
        lambdas=lambdas,
        about={"register_rows": prep.n_right, "extract_rows": prep.n_left},
    )
