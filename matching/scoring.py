"""Candidate pairs scored and ranked per extract row.

Each candidate gets its own probability: the chance that the row is *this* person, among
"one of the candidates or none of them" (``odds_i / (1 + sum of the row's odds)``). Two
candidates with the same evidence share it (0.5 each), so an ambiguous row can never reach
the match threshold; rank 1 is the candidate the evidence favours. A row's figures depend
on the row, the register and the model only: never on the other rows of its batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from matching.blocking import block
from matching.compare import Comparer
from matching.config import LinkageSettings
from matching.model import Model
from matching.prepare import Prepared

MATCH, REVIEW, NO_MATCH = range(3)
# Prepared columns that are what the row's own ID encodes, not a declared value.
_FROM_ID = {"id_year_if_undeclared", "id_sex_if_undeclared", "id_birth_year", "id_sex"}


@dataclass
class Pairs:
    """Scored candidate pairs; ``rule`` is the index of the first blocking rule that found it."""

    li: np.ndarray
    ri: np.ndarray
    rule: np.ndarray
    levels: np.ndarray
    weights: np.ndarray
    score: np.ndarray  # log2 odds, prior included

    def __len__(self) -> int:
        return len(self.li)

    def take(self, index: np.ndarray) -> Pairs:
        return Pairs(*(getattr(self, name)[index] for name in self.__dataclass_fields__))

    @staticmethod
    def concat(parts: list[Pairs]) -> Pairs:
        return Pairs(
            *(
                np.concatenate([getattr(p, name) for p in parts])
                for name in Pairs.__dataclass_fields__
            )
        )


def is_in(values: np.ndarray, members: np.ndarray) -> np.ndarray:
    """``np.isin(values, members)`` by hashing: ``np.isin`` sorts both when the values span a
    wide range (pair keys ``li * n + ri``), about 10 times slower on millions of pairs."""
    return pd.Series(values, copy=False).isin(members).to_numpy(dtype=bool)


def _best_first(by_row: np.ndarray, li: np.ndarray, score: np.ndarray) -> np.ndarray:
    """``np.lexsort((ri, -score, li))`` given ``by_row``, the pairs in (li, ri) order (a stable
    argsort): the scores are replaced by their dense rank, so that one stable sort of
    ``li * ranks + rank`` over ``by_row`` orders them, ties kept in ``ri`` order (2-3 times
    faster than the three passes of ``lexsort`` on millions of pairs)."""
    _, rank = np.unique(-score[by_row], return_inverse=True)
    key = li[by_row] * (int(rank.max(initial=0)) + 1) + rank.reshape(-1)
    return by_row[np.argsort(key, kind="stable")]


def _shares(score, order, starts, counts) -> tuple[np.ndarray, np.ndarray]:
    """Per pair, ``odds / (1 + sum of the row's odds)``; per row, the sum of those shares (the
    chance that the row is one of its candidates). ``order`` groups the rows, best first."""
    best = order[starts]
    top = np.repeat(score[best], counts)
    relative = np.exp2(score[order] - top)  # <= 1, the best is 1
    total = np.add.reduceat(relative, starts)
    # every odds divided by the best one's
    denominator = np.exp2(np.minimum(-score[best], 1000.0)) + total
    probability = np.empty(len(score))
    probability[order] = relative / np.repeat(denominator, counts)
    return probability, total / denominator


class Linker:
    def __init__(self, prep: Prepared, settings: LinkageSettings, model: Model):
        self.prep = prep
        self.settings = settings
        self.model = model
        self.comparer = Comparer(prep, settings.comparisons)
        self.tf = model.term_frequencies(prep)
        self.log2_prior = model.log2_prior(prep.n_right)
        self.rule_names = [rule.name for rule in settings.blocking_rules]
        self.id_comparison = next(
            (c for c, comp in enumerate(settings.comparisons) if comp.name == "id"), None
        )
        self.vetoes = [
            (c, len(comp.levels))
            for c, comp in enumerate(settings.comparisons)
            if comp.name in settings.veto_on_disagreement
        ]
        # Per veto comparison and level (-1 null, last else): an agreement on declared values.
        self.confirming = {
            c: np.array(
                [lv.left_column not in _FROM_ID for lv in settings.comparisons[c].levels]
                + [False, False]
            )
            for c, _ in self.vetoes
        }
        names = [comp.name for comp in settings.comparisons]
        self.explained = [names.index(name) for name in settings.relatives_explain]
        self.contest_needs = [names.index(name) for name in settings.contest_needs]
        self.housemate_contests = [names.index(name) for name in settings.housemate_contests]
        self.housemate_needs = [names.index(name) for name in settings.housemate_needs]
        self.block_stats: dict[str, dict[str, int]] = {}

    def candidates(
        self, rule_names: list[str], rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Deduplicated pairs of several rules for ``rows`` (first rule wins)."""
        lis, ris, rules = [np.empty(0, np.int64)], [np.empty(0, np.int64)], [np.empty(0, np.int8)]
        for name in rule_names:
            blocked = block(self.prep, self.settings.rule(name), rows)
            li, ri = blocked.left, blocked.right
            self.block_stats[name] = {
                "rows": int(len(rows)),
                "pairs": int(len(li)),
                "split_rows": blocked.split_rows,
                "skipped_rows": blocked.skipped_rows,
            }
            lis.append(li)
            ris.append(ri)
            rules.append(np.full(len(li), self.rule_names.index(name), dtype=np.int8))
        li, ri, rule = np.concatenate(lis), np.concatenate(ris), np.concatenate(rules)
        first = ~pd.Index(li * self.prep.n_right + ri).duplicated()
        return li[first], ri[first], rule[first]

    def score(self, li: np.ndarray, ri: np.ndarray, rule: np.ndarray) -> Pairs:
        levels = self.comparer.levels(li, ri)
        weights = self.model.weights(levels, self.prep, ri, self.tf)
        score = self.log2_prior + weights.sum(axis=1, dtype=np.float64)
        return Pairs(li, ri, rule, levels, weights, score)

    def rank(self, pairs: Pairs) -> dict[str, np.ndarray]:
        """Per extract row with candidates: best pair, count, decision; per pair its probability
        among the row's candidates (``pair_probability``) and the order (best first).

        Review rows are ranked again on the fields every candidate of the row can be compared
        on (``review_order``, ``review_probability``, ``review_score``): a field missing for one
        candidate (a child's register entry has no phone) must not rank its household's other
        members first, nor the owner of an ID the row borrowed."""
        raw_score = pairs.score
        pairs, outranked = self.explain_relatives(pairs)
        # a relative whose evidence was explained away is no rival for the decision
        score = np.where(outranked, -1e9, pairs.score)
        by_row = np.argsort(pairs.li * self.prep.n_right + pairs.ri, kind="stable")
        order = _best_first(by_row, pairs.li, score)
        rows = pairs.li[order]
        starts = np.nonzero(np.r_[True, rows[1:] != rows[:-1]])[0]
        counts = np.diff(np.r_[starts, len(rows)])
        best = order[starts]
        probability, total = _shares(score, order, starts, counts)
        if outranked.any():  # the relatives may still make the row worth a review
            _, kept = _shares(raw_score, _best_first(by_row, pairs.li, raw_score), starts, counts)
            total = np.maximum(total, kept)
        best_probability = probability[best]
        settings = self.settings
        housemate = self._housemate(pairs, order, starts, counts)
        vetoed = self._vetoed(pairs, best) | self._contested(pairs, order, starts, counts)
        vetoed |= housemate >= 0
        match = (best_probability >= settings.match_threshold) & ~vetoed
        # Review when the row is probably one of its candidates, even if no single one is.
        review = ~match & (total >= settings.review_threshold)
        missing = np.logical_or.reduceat(pairs.levels[order] < 0, starts, axis=0)
        common = np.empty(len(pairs))
        kept = ~np.repeat(missing, counts, axis=0)
        common[order] = self.log2_prior + (pairs.weights[order] * kept).sum(axis=1)
        review_order = _best_first(by_row, pairs.li, common)
        review_probability, _ = _shares(common, review_order, starts, counts)
        return {
            "row": rows[starts],
            "best": best,
            "count": counts,
            "probability": best_probability,
            "pair_probability": probability,
            "decision": np.where(match, MATCH, np.where(review, REVIEW, NO_MATCH)),
            "order": order,
            "starts": starts,
            "review_order": review_order,
            "review_probability": review_probability,
            "review_score": common,
            "housemate": housemate,
            "pairs": pairs,
        }

    def explain_relatives(self, pairs: Pairs) -> tuple[Pairs, np.ndarray]:
        """A *relative* is a candidate that disagrees on every veto comparison (another person:
        a parent for a child's row). When the row's value of a ``relatives_explain`` comparison
        (the ID, the phone) is a relative's, a candidate of the relative's household (same
        ``household_column``) that disagrees there gets weight 0 for it: the value is the
        household's, no evidence between its members. In a row where that happened the
        relatives are outranked (no rival for the decision; still candidates for review).
        Returns the pairs with those weights and scores, and the outranked pairs."""
        outranked = np.zeros(len(pairs), dtype=bool)
        if not self.explained or not len(pairs):
            return pairs, outranked
        relative = np.ones(len(pairs), dtype=bool)
        for c, else_level in self.vetoes:
            relative &= pairs.levels[:, c] == else_level
        if not relative.any():
            return pairs, outranked
        home = self.prep.right[self.settings.household_column][pairs.ri].astype(np.int64)
        key = pairs.li.astype(np.int64) * (int(home.max()) + 2) + home
        weights = pairs.weights.copy()
        changed = np.zeros(len(pairs), dtype=bool)
        for c in self.explained:
            carriers = key[relative & (pairs.weights[:, c] > 0) & (home >= 0)]
            hit = ~relative & (pairs.weights[:, c] < 0) & is_in(key, carriers)
            weights[hit, c] = 0
            changed |= hit
        if not changed.any():
            return pairs, outranked
        outranked = relative & np.isin(pairs.li, pairs.li[changed])
        score = self.log2_prior + weights.sum(axis=1, dtype=np.float64)
        return Pairs(pairs.li, pairs.ri, pairs.rule, pairs.levels, weights, score), outranked

    def _vetoed(self, pairs: Pairs, best: np.ndarray) -> np.ndarray:
        """Best pairs that disagree (else level) on a veto comparison; with the exact ID,
        ``id_exact_tolerates`` of them may (a slip on the ID owner's own record, where another
        person using the ID differs on both name and birth date)."""
        disagreements = np.zeros(len(best), dtype=np.int64)
        confirmed = np.zeros(len(best), dtype=np.int64)
        for c, else_level in self.vetoes:
            level = pairs.levels[best, c]
            disagreements += level == else_level
            confirmed += self.confirming[c][level] & (pairs.weights[best, c] > 0)
        tolerated = np.zeros(len(best), dtype=bool)
        if self.id_comparison is not None:
            # the other veto fields must agree on declared values, not on what the ID encodes
            tolerated = (pairs.levels[best, self.id_comparison] == 0) & (
                confirmed >= len(self.vetoes) - self.settings.id_exact_tolerates
            )
        return np.where(
            tolerated, disagreements > self.settings.id_exact_tolerates, disagreements > 0
        )

    def _contested(self, pairs: Pairs, order, starts, counts) -> np.ndarray:
        """Rows where another candidate agrees better than the best one on a veto comparison
        and no worse on the others (a twin named exactly, the best one only by a typo). When
        the best one disagrees nowhere (no else level) on the veto comparisons and on
        ``contest_needs``, the rival must also be no worse on ``contest_needs``: a twin has
        the family and middle names of the other; a stranger who happens to share the given
        name and the typed birth date does not. A best one that disagrees somewhere (a
        relative's ID with another name) is contested as before."""
        contested = np.zeros(len(starts), dtype=bool)
        several = counts > 1
        if not self.vetoes or not several.any():
            return contested
        n_vetoes = len(self.vetoes)
        columns = [c for c, _ in self.vetoes] + self.contest_needs
        levels = pairs.levels[order][:, columns].astype(np.int16)
        else_levels = np.array(
            [len(self.settings.comparisons[c].levels) for c in columns], dtype=np.int16
        )
        best = np.repeat(levels[starts], counts, axis=0)
        clean = np.repeat(~(levels[starts] == else_levels).any(axis=1), counts)
        known = (levels >= 0) & (best >= 0)
        better = (known & (levels < best))[:, :n_vetoes].any(axis=1)
        not_worse = ~known | (levels <= best)
        not_worse = np.where(clean, not_worse.all(axis=1), not_worse[:, :n_vetoes].all(axis=1))
        rival = (better & not_worse).astype(np.int8)
        return np.maximum.reduceat(rival, starts).astype(bool)

    def _housemate(self, pairs: Pairs, order, starts, counts) -> np.ndarray:
        """Per row, the ``housemate_contests`` comparison (its index there; -1 for none) on
        which the best candidate disagrees (else level: a typo's level is no disagreement)
        while another candidate of its household (same ``household_column`` in the register)
        agrees exactly, no worse than the best one on ``housemate_needs`` (the row's own sex
        and phone): one member's ID and name with another's birth date is either of them, so
        neither is linked."""
        found = np.full(len(starts), -1)
        if not self.housemate_contests or not (counts > 1).any():
            return found
        home = self.prep.right[self.settings.household_column][pairs.ri[order]]
        best = starts  # positions in ``order``
        rival = (home >= 0) & (home == np.repeat(home[best], counts))
        rival[best] = False
        for c in self.housemate_needs:
            level = pairs.levels[order, c]
            best_level = np.repeat(level[best], counts)
            rival &= (level < 0) | (best_level < 0) | (level <= best_level)
        for k, c in reversed(list(enumerate(self.housemate_contests))):
            level = pairs.levels[order, c]
            agrees = np.logical_or.reduceat(rival & (level == 0), starts)
            disagrees = level[best] == len(self.settings.comparisons[c].levels)  # not a typo
            found[disagrees & agrees] = k
        return found

    def settles(self, pairs: Pairs, best: np.ndarray) -> np.ndarray:
        """Best pairs of the ID pass sure enough to skip the other rules: every veto comparison
        agrees with positive weight or is missing (a twin's ID with a given name one typo from
        the owner's must meet the twin, whom only the other rules find)."""
        sure = np.ones(len(best), dtype=bool)
        for c, _ in self.vetoes:
            sure &= (pairs.levels[best, c] < 0) | (pairs.weights[best, c] > 0)
        return sure

    def is_id_pass(self, pairs: Pairs, index: np.ndarray) -> np.ndarray:
        if self.id_comparison is None:
            return np.zeros(len(index), dtype=bool)
        else_level = len(self.settings.comparisons[self.id_comparison].levels)
        level = pairs.levels[index, self.id_comparison]
        return (level >= 0) & (level < else_level)
