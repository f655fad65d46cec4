"""The stewards' workspace without a browser: access (log in, roles, CSRF), the pages over the
sample run, decisions and undo audited, reveal audited, exports formula-safe, and no personal
data in any URL the pages make."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3

import pytest
from conftest import copy_workdir
from fastapi.testclient import TestClient
from web_helpers import STEWARD, VIEWER, app_for, csrf_of, log_in

from popsync.core.privacy import mask_id


@pytest.fixture
def workdir(samples_workdir, tmp_path):
    return copy_workdir(samples_workdir, tmp_path / "work")


@pytest.fixture
def client(workdir):
    with TestClient(app_for(workdir)) as test_client:
        yield test_client


def _db(workdir, sql, params=()):
    with sqlite3.connect(workdir / "popsync.sqlite3") as db:
        return db.execute(sql, params).fetchall()


def test_every_page_needs_a_login_and_a_wrong_password_is_audited(client, workdir):
    for path in ("/batches", "/review", "/audit"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].endswith("/login")
    refused = log_in(client, (STEWARD[0], "wrong password"))
    assert refused.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu" in refused.text
    assert _db(workdir, "SELECT actor, action FROM steward_audit") == [("lan", "login_failed")]
    # no form without its CSRF token
    assert (
        client.post("/login", data={"username": STEWARD[0], "password": STEWARD[1]}).status_code
        == 403
    )
    assert log_in(client).status_code == 200
    assert ("lan", "login") in _db(workdir, "SELECT actor, action FROM steward_audit")


UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def test_the_pages_render_in_vietnamese_with_no_personal_data_in_urls(client):
    log_in(client)
    batches = client.get("/batches")
    assert "Các lô dữ liệu" in batches.text and "<svg" in batches.text
    runs = re.findall(r"/batches/([0-9a-f-]{36})", batches.text)
    assert len(set(runs)) == 3
    pages = [batches, client.get("/review"), client.get("/audit")]
    pages += [client.get(f"/batches/{run}") for run in set(runs)]
    pages.append(client.get(f"/batches/{runs[-1]}?district=271"))
    for page in pages:
        assert page.status_code == 200, page.text[:500]
        assert page.headers["content-security-policy"].startswith("default-src 'self'")
        for url in re.findall(r'(?:href|action|src)="([^"]*)"', page.text):
            # no ID or BHXH number (a run's UUID may hold 9 digits in a row by chance)
            assert not re.search(r"\d{9,}", re.sub(UUID, "", url)), url
            assert "%20" not in url.split("site=")[0]  # no names


def test_a_viewer_can_neither_decide_nor_reveal(client, workdir):
    log_in(client, VIEWER)
    page = client.get("/review")
    assert 'class="reveal"' not in page.text and 'action="/review/decide"' not in page.text
    assert "chỉ xem" in page.text
    csrf = csrf_of(page.text)
    assert (
        client.post("/review/decide", data={"csrf": csrf, "key": "x", "choice": "1"}).status_code
        == 403
    )
    assert client.post("/review/reveal", data={"key": "x", "side": "row", "field": "id"},
                       headers={"x-csrf-token": csrf}).status_code == 403  # fmt: skip
    assert client.get("/audit").status_code == 403
    assert not re.search(r"\d{12}", page.text)


def _waiting(page: str) -> int:
    """The count the queue's heading shows."""
    return int(re.search(r"Hàng chờ duyệt: (\d+) dòng", page).group(1))


def _first_row(page: str) -> tuple[str, str]:
    key = re.search(r'name="key" value="([^"]+)"', page).group(1)
    return key, csrf_of(page)


def test_a_steward_decides_undoes_and_reveals_and_all_of_it_is_audited(client, workdir):
    log_in(client)
    page = client.get("/review?source=tiem_chung&reason=several_candidates")
    waiting = _waiting(page.text)  # the sample run's rows with several candidates
    assert waiting >= 2
    key, csrf = _first_row(page.text)
    revealed = client.post("/review/reveal", data={"key": key, "side": "1", "field": "id"},
                           headers={"x-csrf-token": csrf})  # fmt: skip
    assert revealed.status_code == 200
    value = revealed.json()["value"]
    assert re.fullmatch(r"\d{12}", value)
    # without the CSRF header, nothing is revealed
    assert (
        client.post("/review/reveal", data={"key": key, "side": "1", "field": "id"}).status_code
        == 403
    )
    done = client.post("/review/decide", data={"csrf": csrf, "key": key, "choice": "1",
                                                "note": "cùng ngày sinh", "back": "?source=tiem_chung"})  # fmt: skip
    assert done.status_code == 200 and f"liên kết với ứng viên #1 {mask_id(value)}" in done.text
    assert _waiting(done.text) == waiting - 1
    ((decision_id,),) = _db(workdir, "SELECT decision_id FROM review_decision")
    undone = client.post("/review/undo", data={"csrf": csrf, "decision_id": decision_id,
                                                "back": "?source=tiem_chung"})  # fmt: skip
    assert "trở lại hàng chờ duyệt" in undone.text and _waiting(undone.text) == waiting
    audit = _db(workdir, "SELECT actor, role, via, action, field, detail FROM steward_audit "
                "WHERE action <> 'login' ORDER BY at")  # fmt: skip
    assert [row[3] for row in audit] == ["reveal", "decide", "undo"]
    assert audit[0][:5] == ("lan", "steward", "web", "reveal", "id")
    assert value not in json.dumps(audit)  # a revealed value is never written down
    assert "Nhật ký của cán bộ" in client.get("/audit").text


def test_bulk_decisions_need_a_note(client, workdir):
    log_in(client)
    page = client.get("/review")
    keys = re.findall(r'name="keys" value="([^"]+)"', page.text)[:2]
    csrf = csrf_of(page.text)
    refused = client.post("/review/bulk", data={"csrf": csrf, "keys": keys, "action": "none"})
    assert "cần một ghi chú" in refused.text
    done = client.post("/review/bulk", data={"csrf": csrf, "keys": keys, "action": "none",
                                              "note": "không phải người trong CSDL"})  # fmt: skip
    assert "Đã quyết định 2 dòng" in done.text
    assert _db(workdir, "SELECT count(*), min(note) FROM review_decision WHERE decision = 'no_match'") == [
        (2, "không phải người trong CSDL")]  # fmt: skip


def test_exports_are_formula_safe_and_masked_for_a_viewer(client, workdir):
    ((run_id, record_id, data),) = _db(
        workdir, "SELECT run_id, record_id, row_data FROM quarantine WHERE source = 'tiem_chung' "
        "ORDER BY src_row LIMIT 1")  # fmt: skip
    data = json.loads(data)
    data["raw_full_name"] = '=HYPERLINK("http://x","bấm")'
    _db(workdir, "UPDATE quarantine SET row_data = ? WHERE record_id = ?",
        (json.dumps(data, ensure_ascii=False), record_id))  # fmt: skip
    log_in(client)
    page = client.get(f"/batches/{run_id}?district={data['district_code']}")
    exported = client.post(f"/batches/{run_id}/export", data={
        "csrf": csrf_of(page.text), "format": "csv", "district": data["district_code"]})  # fmt: skip
    assert exported.status_code == 200
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Dòng trong tệp", "Mã bản ghi", "Quy tắc vi phạm", "Lý do"]
    cells = [cell for row in rows[1:] for cell in row]
    assert '\'=HYPERLINK("http://x","bấm")' in cells
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)
    xlsx = client.post(
        f"/batches/{run_id}/export", data={"csrf": csrf_of(page.text), "format": "xlsx"}
    )
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.cell(1, 1).value == "Dòng trong tệp" and sheet.max_row > 1
    # a viewer's export is masked
    client.post("/logout", data={"csrf": csrf_of(page.text)})
    log_in(client, VIEWER)
    page = client.get(f"/batches/{run_id}")
    masked = client.post(
        f"/batches/{run_id}/export", data={"csrf": csrf_of(page.text), "format": "csv"}
    )
    assert not re.search(
        r"\d{12}", re.sub("000000000000|123456789012", "", masked.content.decode("utf-8-sig"))
    )
    actions = _db(
        workdir, "SELECT actor, action, detail FROM steward_audit WHERE action = 'export'"
    )
    assert [(a, json.loads(d)["masked"]) for a, _, d in actions] == [
        ("lan", False),
        ("lan", False),
        ("minh", True),
    ]


def test_a_blocked_run_shows_the_rule_that_blocked_it(client, workdir):
    """The run record a blocked batch leaves (status blocked, the error naming the rule) is on
    the batches page and has its own page."""
    _db(workdir, "INSERT INTO run (run_id, source, delivery, version, input_file, input_sha256, "
        "run_date, started_at, finished_at, rows_read, status, error) VALUES ('blocked-1', "
        "'bhxh', 'bhxh_hn.csv', 1, '/in/bhxh_hn.csv', 'ab', '2023-01-16', "
        "'2023-01-16T02:00:00+00:00', '2023-01-16T02:00:05+00:00', 40, 'blocked', "
        "'bhxh pre_link: batch blocked by names_mostly_present (40 rows)')")  # fmt: skip
    log_in(client)
    page = client.get("/batches")
    row = re.search(r'<tr class="status-blocked">.*?</tr>', page.text, re.S).group(0)
    assert "Bị chặn" in row and "names_mostly_present" in row and "bhxh_hn.csv" in row
    assert "16/01/2023 09:00" in row  # started at 02:00 UTC, shown in Asia/Ho_Chi_Minh
    batch = client.get("/batches/blocked-1")
    assert batch.status_code == 200 and "Lô bị chặn" in batch.text
    assert "names_mostly_present" in batch.text


@pytest.mark.postgres
def test_the_workspace_works_over_postgresql(pg_url, tmp_path):
    from click.testing import CliRunner
    from conftest import SAMPLES
    from web_helpers import prepare

    from popsync.cli import main
    from popsync.resources import Resources
    from popsync.web.app import create_app

    workdir = tmp_path / "work"
    ran = CliRunner().invoke(main, ["run", "all", "--samples", str(SAMPLES), "--workdir",
                                    str(workdir), "--database-url", pg_url])  # fmt: skip
    assert ran.exit_code == 0, ran.output
    _, settings = prepare(workdir)
    res = Resources.from_environment(workdir=workdir, database_url=pg_url)
    with TestClient(create_app(res, settings)) as client:
        log_in(client)
        batches = client.get("/batches?district=271")
        assert batches.status_code == 200 and "Các lô dữ liệu" in batches.text
        run_id = re.findall(r"/batches/([0-9a-f-]{36})", client.get("/batches").text)[-1]
        for path in (f"/batches/{run_id}", f"/batches/{run_id}?district=271",
                     "/review?reason=several_candidates", "/audit"):  # fmt: skip
            assert client.get(path).status_code == 200, path
        page = client.get("/review")
        waiting = _waiting(page.text)
        key, csrf = _first_row(page.text)
        done = client.post("/review/decide", data={"csrf": csrf, "key": key, "choice": "none"})
        assert "không khớp" in done.text and _waiting(done.text) == waiting - 1
        decision_id = re.search(r'name="decision_id" value="([^"]+)"', done.text).group(1)
        undone = client.post("/review/undo", data={"csrf": csrf, "decision_id": decision_id})
        assert _waiting(undone.text) == waiting
        export = client.post(f"/batches/{run_id}/export", data={"csrf": csrf, "format": "csv"})
        assert export.status_code == 200 and len(export.content.splitlines()) > 1
