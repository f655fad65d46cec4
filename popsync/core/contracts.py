"""The columns the parts exchange, written once: findings, review candidates, linkage decisions,
provenance, and the words of the quality report (pillars, severities, stages, decisions).

Column types are the warehouse's (``TEXT`` ...), so a frame can be checked and stored from the
same list. docs/DESIGN.md describes what each column holds.
"""

from __future__ import annotations

TEXT, INT, SMALLINT, FLOAT, DATE, TIMESTAMP, JSON, BOOL = (
    "text", "int", "smallint", "float", "date", "timestamp", "json", "bool",
)  # fmt: skip

# Where a read row came from (``read_error``: why it could not be parsed; the row is kept).
PROVENANCE = ("source", "record_id", "src_file", "src_sha256", "src_row")
READ_PROVENANCE = (*PROVENANCE, "read_error")

DECISIONS = ("match", "review", "no_match")
# One row per extract row: the linker's decision.
DECISION_COLUMNS = ("record_id", "so_dinh_danh", "decision", "score", "explanation")
# The link columns a stored extract row carries.
LINK_COLUMNS = {"so_dinh_danh": TEXT, "decision": TEXT, "score": FLOAT, "explanation": JSON}
# A row waiting for review: its ranked register candidates.
CANDIDATE_COLUMNS = {
    "source": TEXT, "delivery": TEXT, "record_id": TEXT, "rank": INT, "so_dinh_danh": TEXT, "score": FLOAT,
    "explanation": JSON, "run_id": TEXT,
}  # fmt: skip
# What the linker writes of a candidate (the warehouse adds source, delivery and run_id).
LINKER_CANDIDATE_COLUMNS = ("record_id", "so_dinh_danh", "score", "rank", "explanation")

# One row per (row, rule broken); ``record_id`` is null for a batch-level rule.
FINDING_COLUMNS = {
    "source": TEXT, "delivery": TEXT, "record_id": TEXT, "stage": TEXT, "rule": TEXT, "pillar": TEXT,
    "severity": TEXT, "observed": TEXT, "reason": TEXT, "run_id": TEXT,
}  # fmt: skip
# What a validation stage writes of a finding (the warehouse adds the delivery and the run).
VALIDATION_FINDING_COLUMNS = tuple(c for c in FINDING_COLUMNS if c not in ("delivery", "run_id"))
# A quarantined row, whole (``row_data``: every column as JSON), with the rules it broke.
QUARANTINE_COLUMNS = {
    "source": TEXT, "delivery": TEXT, "record_id": TEXT, "src_file": TEXT, "src_sha256": TEXT, "src_row": INT,
    "row_data": JSON, "rules": TEXT, "run_id": TEXT,
}  # fmt: skip

# Validation stages (``register``: the dan_cu snapshot itself; ``recheck``: a link checked
# again after a register change).
VALIDATION_STAGES = ("pre_link", "post_link", "register")
FINDING_STAGES = (*VALIDATION_STAGES, "recheck")
SEVERITIES = ("block", "quarantine", "warn")
PILLARS = {"dung": "Đúng", "du": "Đủ", "sach": "Sạch", "song": "Sống"}
PILLAR_MEANING = {
    "dung": "correct: agrees with the source documents and the register",
    "du": "complete: every required field, every person",
    "sach": "clean: standardized, no duplicates, no conflicts",
    "song": "live: current, deaths and ID changes applied",
}
PILLAR_MEANING_VI = {
    "dung": "khớp giấy tờ gốc và CSDL dân cư",
    "du": "đủ trường bắt buộc, đủ người",
    "sach": "chuẩn hóa, không trùng, không mâu thuẫn",
    "song": "cập nhật khai tử, đổi số định danh",
}
SEVERITIES_VI = {"block": "chặn lô", "quarantine": "cách ly dòng", "warn": "cảnh báo"}

# The person-describing columns every stored extract row has, whatever its source: what the
# linker compares and a steward reads. Source-specific columns come from the source's
# declaration (``popsync.core.sources``).
PERSON_ROW_COLUMNS = {
    "full_name": TEXT, "name_key": TEXT, "birth_date": DATE, "birth_date_precision": TEXT,
    "sex": TEXT, "id_number": TEXT, "id_kind": TEXT, "phone": TEXT, "address": TEXT,
    "province_code": TEXT, "district_code": TEXT, "ward_code": TEXT, "admin_scheme": TEXT,
    "flags": TEXT, "repairs": TEXT,
}  # fmt: skip


def quarantine_rules(findings):
    """Record id -> the ``;``-joined, sorted names of the quarantine-severity rules the row
    broke (a ``pandas.Series``; empty when none): the rows a batch sets aside, and why.

    ``findings`` has at least ``record_id``, ``rule`` and ``severity`` (any frame when empty);
    batch-level findings (``record_id`` null) set no row aside."""
    import pandas as pd

    if not len(findings):
        return pd.Series(dtype="str")
    held = findings[findings["severity"].eq("quarantine") & findings["record_id"].notna()]
    held = held[["record_id", "rule"]].drop_duplicates().sort_values(["record_id", "rule"])
    # Most rows break one rule: only the others are joined in Python (a call per row is 8 s
    # at a million rows).
    alone = ~held["record_id"].duplicated(keep=False)
    single = pd.Series(held["rule"].to_numpy()[alone.to_numpy()], name="rule",
                       index=pd.Index(held["record_id"][alone], name="record_id"))  # fmt: skip
    several = held[~alone].groupby("record_id")["rule"].agg(";".join)
    return pd.concat([single, several]).sort_index()
