"""The stewards' workspace in a real browser: Debian's Chromium driven by Playwright (never
``playwright install``: the machine is offline). A steward logs in, filters the queue, compares,
reveals one field, decides from the keyboard, undoes, exports a unit's rows; a viewer can
neither decide nor reveal. Every page is photographed into ``build/screenshots/`` (or
``$POPSYNC_SCREENSHOTS``); the server's log holds no personal data."""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

import pytest
from conftest import copy_workdir
from web_helpers import STEWARD, VIEWER, Served, app_for

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--disable-dev-shm-usage", "--lang=vi-VN"]  # fmt: skip
SHOTS = Path(os.environ.get("POPSYNC_SCREENSHOTS",
                            Path(__file__).resolve().parents[1] / "build" / "screenshots"))  # fmt: skip


@pytest.fixture(scope="module")
def served(samples_workdir, tmp_path_factory):
    workdir = copy_workdir(samples_workdir, tmp_path_factory.mktemp("browser") / "work")
    with Served(app_for(workdir)) as server:
        server.workdir = workdir
        yield server


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium fonts-noto-core")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, served):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="vi-VN",
                                  timezone_id="Asia/Ho_Chi_Minh", accept_downloads=True)  # fmt: skip
    # offline: nothing but the workspace may load
    context.route("**/*", lambda route: route.continue_()
                  if route.request.url.startswith(served.url) else route.abort())  # fmt: skip
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    yield tab
    context.close()


def shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page, served, who) -> None:
    page.goto(served.url + "/login")
    page.fill("input[name=username]", who[0])
    page.fill("input[name=password]", who[1])
    page.click("button[type=submit]")
    page.wait_for_url("**/batches")


def waiting(page) -> int:
    return int(re.search(r"Hàng chờ duyệt: (\d+) dòng", page.inner_text("h1")).group(1))


def test_a_steward_works_the_batches_and_the_queue(page, served, tmp_path):
    page.goto(served.url + "/batches")
    page.wait_for_url("**/login")
    shot(page, "01_login")
    log_in(page, served, STEWARD)
    assert page.locator("#runs tr.status-loaded").count() == 3
    shot(page, "02_batches")
    page.select_option("#batch-filters select[name=source]", "tiem_chung")
    page.click("#batch-filters button[type=submit]")
    page.wait_for_url("**source=tiem_chung**")
    assert page.locator("#runs tr.status-loaded").count() == 1
    page.locator("#runs a").first.click()
    page.wait_for_selector("#verdict")
    assert "đã liên kết với CSDL dân cư" in page.inner_text("#verdict")
    shot(page, "03_batch")
    page.screenshot(path=str(SHOTS / "03b_batch_top.png"))
    page.locator("#drill-units a").first.click()
    page.wait_for_url("**district=**")
    shot(page, "04_batch_district")
    with page.expect_download() as download:
        page.click("form.export button[value=xlsx]")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    from openpyxl import load_workbook

    sheet = load_workbook(saved).active
    assert sheet.cell(1, 3).value == "Quy tắc vi phạm" and sheet.max_row > 1
    assert download.value.suggested_filename.endswith(".xlsx")

    # the queue, filtered by reason; compare; reveal one field
    page.goto(served.url + "/review")
    page.select_option("#review-filters select[name=reason]", "several_candidates")
    page.click("#review-filters button[type=submit]")
    page.wait_for_url("**reason=several_candidates**")
    before = waiting(page)  # the sample run's rows with several candidates
    assert before >= 2
    first = page.locator("article.review-row").first
    assert first.locator("td.agree-full").count() > 0 and first.locator("td.agree-none").count() > 0
    assert first.locator("svg.waterfall").count() == 2
    cell = first.locator("td.cell[data-side='1'][data-field='id']")
    assert re.fullmatch(r"\d{3}\*+\d{3}", cell.locator(".value").inner_text())
    cell.locator("button.reveal").click()
    page.wait_for_selector("td.cell[data-side='1'][data-field='id'] .value.revealed")
    assert re.fullmatch(r"\d{12}", cell.locator(".value").inner_text())
    shot(page, "05_review_compare")
    first.screenshot(path=str(SHOTS / "05b_review_row.png"))

    # decide from the keyboard: focus the row, 1 picks candidate #1, Enter records it
    first.focus()
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    page.wait_for_selector(".flash")
    assert "liên kết với ứng viên #1" in page.inner_text(".flash")
    assert waiting(page) == before - 1
    shot(page, "06_review_decided")
    page.screenshot(path=str(SHOTS / "06b_review_decided_top.png"))
    # undo from the keyboard
    page.keyboard.press("u")
    page.wait_for_selector(".flash >> text=trở lại hàng chờ duyệt")
    assert waiting(page) == before
    assert page.locator("#recent tr.undone").count() == 1
    shot(page, "07_review_undone")

    page.click("nav >> text=Nhật ký")
    page.wait_for_selector("#audit")
    actions = page.locator("#audit td:nth-child(5)").all_inner_texts()
    assert {"login", "export", "reveal", "decide", "undo"} <= set(actions)
    shot(page, "08_audit")
    run_id = _tiem_chung_run(served.workdir)
    page.goto(f"{served.url}/batches/{run_id}/docs/index.html")
    assert "Đúng, đủ, sạch, sống" in page.inner_text("h1")
    shot(page, "09_data_docs")


def test_a_viewer_can_neither_decide_nor_reveal(page, served):
    log_in(page, served, VIEWER)
    page.goto(served.url + "/review")
    assert page.locator("form.decide").count() == 0
    assert page.locator("button.reveal").count() == 0
    assert page.locator("input[name=keys]").count() == 0
    assert "chỉ xem" in page.inner_text("main")
    body = page.inner_text("main")
    assert not re.search(r"\d{12}", body)
    assert re.search(r"\*\*/\*\*/\d{4}", body)  # birth dates down to the year
    status = page.evaluate("""async () => {
        const csrf = document.body.dataset.csrf;
        const form = new URLSearchParams({key: "x", side: "row", field: "id"});
        const reveal = await fetch("/review/reveal", {method: "POST", body: form,
                                   headers: {"X-CSRF-Token": csrf}});
        const decide = await fetch("/review/decide", {method: "POST",
                                   body: new URLSearchParams({csrf, key: "x", choice: "1"})});
        return [reveal.status, decide.status];
    }""")
    assert status == [403, 403]
    shot(page, "10_review_viewer")
    page.locator("article.review-row").first.screenshot(
        path=str(SHOTS / "10b_review_row_viewer.png")
    )
    page.goto(served.url + "/audit")
    assert "Chỉ cán bộ duyệt" in page.inner_text("main")


def test_the_server_log_holds_no_personal_data(served):
    with sqlite3.connect(served.workdir / "popsync.sqlite3") as db:
        people = db.execute("SELECT so_dinh_danh, ho_ten FROM person p WHERE so_dinh_danh IN "
                            "(SELECT so_dinh_danh FROM review_candidate)").fetchall()  # fmt: skip
    log = "\n".join(served.lines)
    assert "GET /review" in log  # the access log is there
    # Run ids in the URLs are UUIDs: one hex group may hold nine digits in a row by chance.
    without_run_ids = re.sub(r"[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}", "<run>", log)
    assert not re.search(r"\d{9,}", without_run_ids)
    for person_id, name in people:
        assert person_id not in log and name not in log


def _tiem_chung_run(workdir) -> str:
    with sqlite3.connect(workdir / "popsync.sqlite3") as db:
        return db.execute("SELECT run_id FROM run WHERE source = 'tiem_chung'").fetchone()[0]
