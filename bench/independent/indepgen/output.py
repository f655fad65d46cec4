"""The files of a run: register and extract writers (CSV and xlsx, each file with its own
style drawn from the seed), the truth files, and the counts the manifest reports."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from .contract import HEADERS, SOURCES, XLSX_DATE_COLS, XLSX_ID_COLS, XLSX_KEEP_TEXT
from .noise import Conditions
from .sources.shared import Rows
from .util import hashed, rng_for, salt
from .writers import CsvOut, TruthOut, XlsxOut, header_variant


def _choice(rng, opts, p):
    return opts[int(rng.choice(len(opts), p=np.array(p) / sum(p)))]


def file_style(seed: int, source: str, noise: float) -> dict:
    rng = rng_for(seed, "style", source)
    st = {
        "encoding": _choice(rng, ["utf-8", "utf-8-sig", "cp1258"], [0.5, 0.3, 0.2]),
        "separator": _choice(rng, [",", ";"], [0.65, 0.35]),
        "line_terminator": _choice(rng, ["\n", "\r\n"], [0.6, 0.4]),
        "header_variant": "exact",
    }
    if noise > 0 and source != "dan_cu":
        st["header_variant"] = _choice(
            rng,
            ["exact", "upper", "no_diacritics", "padded", "lower"],
            [0.7, 0.08, 0.1, 0.07, 0.05],
        )
    return st


def xlsx_policy(seed: int, source: str, noise: float):
    def pol(part: int) -> dict:
        rng = rng_for(seed, "xlsx", source, part)
        if noise <= 0:
            return {
                "ids": "text",
                "dates": "text",
                "leading_blank_rows": 0,
                "seed": int(rng.integers(2**31)),
            }
        return {
            "ids": _choice(rng, ["text", "all", "some"], [0.4, 0.3, 0.3]),
            "dates": _choice(
                rng, ["text", "datecell", "serial", "some_serial"], [0.4, 0.3, 0.15, 0.15]
            ),
            "leading_blank_rows": _choice(rng, [0, 1, 2], [0.8, 0.12, 0.08]),
            "seed": int(rng.integers(2**31)),
        }

    return pol


def _style_json(st: dict) -> dict:
    return {
        "encoding": st["encoding"],
        "separator": st["separator"],
        "line_terminator": "CRLF" if st["line_terminator"] == "\r\n" else "LF",
        "header_variant": st["header_variant"],
    }


def _write_entries(writer: TruthOut, source: str, rid, entries, counter: Counter, keep=None):
    """One truth row (source, record id, kind) per logged row of each kind."""
    for k, idx in entries:
        if keep is not None:
            idx = idx[keep[idx]]
        if len(idx):
            writer.write_cols(
                [
                    np.full(len(idx), source, dtype=object),
                    rid[idx],
                    np.full(len(idx), k, dtype=object),
                ]
            )
            counter[k] += len(idx)


class Outputs:
    def __init__(self, out: Path, seed: int, noise: float, formats, xlsx_max_rows: int | None):
        self.seed = seed
        self.xlsx_max_rows = xlsx_max_rows
        self.styles = styles = {s: file_style(seed, s, noise) for s in ["dan_cu"] + SOURCES}
        self.csv_on = "csv" in formats
        self.xlsx_on = "xlsx" in formats
        self.reg = CsvOut(
            out / "dan_cu.csv",
            HEADERS["dan_cu"],
            styles["dan_cu"]["encoding"],
            styles["dan_cu"]["separator"],
            styles["dan_cu"]["line_terminator"],
        )
        self.csvs, self.xlsxs, self.links = {}, {}, {}
        for s in SOURCES:
            hdr = header_variant(HEADERS[s], styles[s]["header_variant"])
            if self.csv_on:
                self.csvs[s] = CsvOut(
                    out / f"{s}.csv",
                    hdr,
                    styles[s]["encoding"],
                    styles[s]["separator"],
                    styles[s]["line_terminator"],
                )
            if self.xlsx_on:
                self.xlsxs[s] = XlsxOut(
                    out,
                    s,
                    hdr,
                    xlsx_policy(seed, s, noise),
                    XLSX_ID_COLS[s],
                    XLSX_DATE_COLS[s],
                    XLSX_KEEP_TEXT[s],
                    xlsx_max_rows,
                )
            self.links[s] = TruthOut(
                out / "truth" / f"{s}_links.csv", ["source", "record_id", "true_so_dinh_danh"]
            )
        self.noise_out = TruthOut(out / "truth" / "noise.csv", ["source", "record_id", "kind"])
        self.cond_out = TruthOut(
            out / "truth" / "conditions.csv", ["source", "record_id", "condition"]
        )
        self.noise_counts = {s: Counter() for s in SOURCES}
        self.cond_counts = {s: Counter() for s in ["dan_cu"] + SOURCES}
        self.stats = {
            s: {"rows": 0, "linked": 0, "not_in_register": 0, "dropped_duplicate_ids": 0}
            for s in SOURCES
        }

    def register(self, cols, sdd, cond: Conditions) -> None:
        self.reg.write_cols(cols)
        _write_entries(self.cond_out, "dan_cu", sdd, cond.entries, self.cond_counts["dan_cu"])

    def extract(self, s: str, rows: Rows) -> None:
        """Writes a chunk's rows of source s in a deterministic shuffled order, with its truth."""
        st = self.stats[s]
        P = rows.P
        n = len(rows.person)
        rid = rows.record_ids
        # record ids must be unique: drop a later row that repeats one (rare, bhxh only)
        keep = np.ones(n, dtype=bool)
        if n:
            o = np.argsort(rid, kind="stable")
            srt = rid[o]
            dup = np.zeros(n, dtype=bool)
            dup[o[1:][srt[1:] == srt[:-1]]] = True
            keep &= ~dup
            st["dropped_duplicate_ids"] += int(dup.sum())
        # shuffle rows (deterministic)
        ordk = np.argsort(
            hashed(
                np.arange(n, dtype=np.uint64) + np.uint64(st["rows"]), salt(self.seed, s, "order")
            )
        )
        ordk = ordk[keep[ordk]]
        cols = [c[ordk] for c in rows.cols]
        if s in self.csvs:
            self.csvs[s].write_cols(cols)
        if s in self.xlsxs:
            self.xlsxs[s].write_cols(cols)
        pi = rows.person[ordk]
        inreg = P.in_reg[pi]
        truth = np.array(
            [
                f"{x:012d}" if ok else ""
                for x, ok in zip(P.pid[pi].tolist(), inreg.tolist(), strict=True)
            ],
            dtype=object,
        )
        self.links[s].write_cols([np.full(len(ordk), s, dtype=object), rid[ordk], truth])
        st["rows"] += len(ordk)
        st["linked"] += int(inreg.sum())
        st["not_in_register"] += int((~inreg).sum())
        _write_entries(self.noise_out, s, rid, rows.ctx.entries, self.noise_counts[s], keep)
        _write_entries(self.cond_out, s, rid, rows.cond.entries, self.cond_counts[s], keep)

    def close(self) -> tuple[dict, dict]:
        """Closes every file; returns the manifest's "sources" and "truth" entries."""
        self.reg.close()
        sources = {
            "dan_cu": {
                "file": "dan_cu.csv",
                "rows": self.reg.rows,
                "files": ["dan_cu.csv"],
                **_style_json(self.styles["dan_cu"]),
            }
        }
        for s in SOURCES:
            entry = {"rows": self.stats[s]["rows"], "files": []}
            if self.csv_on:
                self.csvs[s].close()
                entry["file"] = f"{s}.csv"
                entry["files"].append(f"{s}.csv")
                entry.update(_style_json(self.styles[s]))
            if self.xlsx_on:
                parts = self.xlsxs[s].close()
                entry["files"].extend(p["file"] for p in parts)
                entry["xlsx"] = {
                    "parts": parts,
                    "split": len(parts) > 1,
                    "max_data_rows_per_file": (self.xlsx_max_rows or XlsxOut.MAX_SHEET_ROWS) - 1,
                    "header_variant": self.styles[s]["header_variant"],
                }
                if not self.csv_on:
                    entry["file"] = parts[0]["file"]
                    entry["header_variant"] = self.styles[s]["header_variant"]
            self.links[s].close()
            sources[s] = entry
        self.noise_out.close()
        self.cond_out.close()
        truth = {
            "links": {s: f"truth/{s}_links.csv" for s in SOURCES},
            "noise": "truth/noise.csv",
            "conditions": "truth/conditions.csv",
            "counts": self.stats,
            "noise_rows": sum(sum(v.values()) for v in self.noise_counts.values()),
            "noise_by_kind": {s: dict(sorted(self.noise_counts[s].items())) for s in SOURCES},
            "conditions_by_kind": {
                s: dict(sorted(self.cond_counts[s].items())) for s in self.cond_counts
            },
        }
        return sources, truth
