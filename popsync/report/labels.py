"""The words of the stewards' reports and workspace, in Vietnamese, and how numbers, dates and
times are written for them (times in Asia/Ho_Chi_Minh)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from popsync.core.contracts import PILLAR_MEANING_VI

TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")

OUTCOMES = {
    "linked": "Đã liên kết",
    "not_linked": "Không liên kết được",
    "review": "Chờ duyệt",
    "quarantined": "Bị cách ly",
}
SEVERITIES = {"block": "Chặn lô", "quarantine": "Cách ly dòng", "warn": "Cảnh báo"}
PILLARS = {"dung": "Đúng", "du": "Đủ", "sach": "Sạch", "song": "Sống"}
PILLAR_MEANING = PILLAR_MEANING_VI
STATUSES = {
    "loaded": "Đã nạp",
    "blocked": "Bị chặn",
    "failed": "Lỗi",
    "running": "Đang chạy",
    "replaced": "Đã chạy lại",
    "superseded": "Đã có phiên bản mới",
}
STAGES = {"pre_link": "trước liên kết", "post_link": "sau liên kết", "recheck": "kiểm tra lại",
          "register": "CSDL dân cư"}  # fmt: skip
REVIEW_REASONS = {
    "several_candidates": "Nhiều ứng viên",
    "one_candidate": "Một ứng viên chưa chắc chắn",
    "no_candidate": "Không có ứng viên",
}
SEX = {"M": "Nam", "F": "Nữ", "O": "Khác"}
# What a batch changed in people's status (popsync.pipeline.status), in the report's order.
STATUS_CHANGES = {
    "people": "người được tính lại (có dòng trong lô)",
    "changed": "người thay đổi trạng thái (vào bản cập nhật gửi CSDL dân cư)",
    "new": "người lần đầu có trạng thái",
    "became_fully_vaccinated": "tiêm đủ liều cơ bản",
    "no_longer_fully_vaccinated": "không còn đủ liều cơ bản (dòng bị thay thế hoặc liên kết lại)",
    "got_booster": "tiêm thêm mũi nhắc lại",
    "new_f0_episode": "có thêm một lần mắc COVID-19 (F0)",
    "became_insured": "có bảo hiểm xã hội vào ngày chạy",
    "no_longer_insured": "không còn bảo hiểm xã hội vào ngày chạy",
    "with_pending_rows": "có dòng chờ duyệt, chưa liên kết hoặc bị cách ly có thể là của họ",
}


def number(value) -> str:
    """``6580`` -> ``6.580`` (Vietnamese thousands separator)."""
    if value is None:
        return "–"
    return f"{int(value):,}".replace(",", ".")


def percent(share) -> str:
    """``0.7985`` -> ``79,9%``."""
    if share is None:
        return "–"
    return f"{100 * float(share):.1f}".replace(".", ",") + "%"


def local_time(value) -> str:
    """An instant (ISO 8601 text or a datetime; naive means UTC) as ``dd/mm/yyyy HH:MM`` in
    Asia/Ho_Chi_Minh."""
    if value in (None, ""):
        return ""
    if not isinstance(value, dt.datetime):
        try:
            value = dt.datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(TIMEZONE).strftime("%d/%m/%Y %H:%M")


def local_date(value) -> str:
    """A date (ISO text, a date or a datetime) as ``dd/mm/yyyy``."""
    if value in (None, ""):
        return ""
    text = str(value)[:10]
    try:
        return dt.date.fromisoformat(text).strftime("%d/%m/%Y")
    except ValueError:
        return text


def unit_name(code) -> str:
    """The name of a province, district or ward code (GSO, scheme 2008 first, then 2025)."""
    if code in (None, ""):
        return "(không rõ)"
    return _unit_names().get(str(code), str(code))


def _unit_names() -> dict[str, str]:
    global _NAMES
    if _NAMES is None:
        from popsync.core import domain

        names: dict[str, str] = {}
        for scheme in ("2025", "2008"):
            names.update({row["code"]: row["name"] for row in domain.admin_units(scheme)})
        _NAMES = names
    return _NAMES


_NAMES: dict[str, str] | None = None
