"""``bench/match.py``'s table: each contender's time, memory, pairs and quality, the ratios
Splink/popsync and issue 10's targets."""

from __future__ import annotations


def print_report(results: list[dict]) -> None:
    header = (
        f"{'people':>10} {'rows':>10} {'contender':<24} {'wall s':>8} {'CPU s':>7} {'peak MB':>8} "
        f"{'pairs':>12} "
        f"{'precision':>9} {'recall':>7} {'F1':>7} {'review':>7} {'wrong':>6}"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for result in results:
        people, runs, metrics = result["people"], result["runs"], result["metrics"]
        rows_n = result["rows"]
        rows = [("popsync", runs["popsync"], metrics.get("popsync"))]
        if "splink" in runs:
            for point in ("best F1", "high precision"):
                rows.append((f"Splink 5, {point}", runs["splink"], metrics.get(point)))
        for name, run, metric in rows:
            if "error" in run:
                print(f"{people:>10,} {rows_n:>10,} {name:<24} {run['error']}")
                continue
            print(
                f"{people:>10,} {rows_n:>10,} {name:<24} {run['wall_seconds']:>8.1f} "
                f"{run['cpu_seconds']:>7.1f} {run['peak_mb']:>8,} {run['candidate_pairs']:>12,} {metric['precision']:>9.5f} "
                f"{metric['recall']:>7.4f} {metric['f1']:>7.4f} {metric['review_share']:>7.2%} "
                f"{metric['wrong_links']:>6,}"
            )
        splink = runs.get("splink", {})
        if "splink" in runs and "error" not in splink and "error" not in runs["popsync"]:
            pop, sp = runs["popsync"], metrics["popsync"]
            pop_link = sum(pop["timings"].values())
            sp_link = splink["seconds_train"] + splink["seconds_predict"]
            print(
                f"{'':>21} ratios Splink/popsync: end to end time "
                f"{splink['wall_seconds'] / pop['wall_seconds']:.1f}x wall, "
                f"{splink['cpu_seconds'] / pop['cpu_seconds']:.1f}x CPU, memory "
                f"{splink['peak_mb'] / pop['peak_mb']:.1f}x; linkage only (after the same "
                f"standardization) {sp_link:.1f} s / {pop_link:.1f} s = {sp_link / pop_link:.1f}x "
                f"(Splink train {splink['seconds_train']} s, predict {splink['seconds_predict']} s)"
            )
            ratio = splink["wall_seconds"] / pop["wall_seconds"]
            print(
                f"{'':>21} issue 10's targets: popsync {pop['wall_seconds']:.1f} s <= 60 s and "
                f"{pop['peak_mb']:,} MB < 6 GB: {_met(pop['wall_seconds'] <= 60 and pop['peak_mb'] < 6000)}"
                f"; >= 10x faster than Splink end to end ({ratio:.1f}x): {_met(ratio >= 10)}"
            )
            if splink["rules_not_in_splink"]:
                print(
                    f"{'':>21} popsync blocking rules Splink cannot express (not given to it): "
                    + ", ".join(splink["rules_not_in_splink"])
                )
            for point in ("best F1", "high precision"):
                other = metrics[point]
                print(
                    f"{'':>21} popsync vs Splink {point}: precision "
                    f"{sp['precision'] / other['precision']:.4f}x, recall "
                    f"{sp['recall'] / other['recall']:.4f}x, wrong links {sp['wrong_links']:,}"
                    f" vs {other['wrong_links']:,}"
                )


def _met(ok: bool) -> str:
    return "met" if ok else "NOT MET"
