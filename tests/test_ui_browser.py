"""The chat UI in headless Chromium (Debian's /usr/bin/chromium; never `playwright install`).

Set ``UI_SCREENSHOT=docs/ui.png`` to also refresh the README screenshot.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_ui import HIMA_Q, Server, start_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install -y chromium"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("browser"))
    yield srv
    srv.stop()


@pytest.fixture
def page(server: Server):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(120_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(server.url)
            page.wait_for_selector("#question textarea")
            yield page
            assert not [e for e in errors if "xss" in e.lower()]
        finally:
            browser.close()


def ask(page, question: str, turn: int) -> str:
    """Type a question, wait for the streamed answer's final rendering, return the answer's text."""
    page.fill("#question textarea", question)
    page.click("#ask-button")
    page.wait_for_selector(f"#sources-panel #turn-{turn}")
    bot_msgs = page.locator("#chat .message.bot, #chat [data-testid='bot']")
    if bot_msgs.count():
        return bot_msgs.last.inner_text()
    return page.inner_text("#chat")


def test_chat_citations_upload_and_screenshot(page, server: Server, tmp_path: Path) -> None:
    # empty chat: example questions generated from the indexed facts
    chat_text = page.inner_text("#chat")
    assert "Harmony Intelligent Mobility Alliance" in chat_text or "Changan" in chat_text

    answer = ask(page, HIMA_Q, 1)
    assert "81,864" in answer
    link = page.locator('#chat a.cite-link[href="#cite-1-1"]').first
    assert link.is_visible()
    cited = page.locator("#sources-panel #cite-1-1")
    assert cited.is_visible()
    assert "huawei_auto_brand_alliances.txt" in cited.inner_text()
    mark = cited.locator("mark")
    assert mark.is_visible() and "81,864" in mark.inner_text()
    link.click()
    assert page.evaluate("location.hash") == "#cite-1-1"
    screenshot = tmp_path / "ui_chat.png"
    page.screenshot(path=str(screenshot))
    if os.environ.get("UI_SCREENSHOT"):
        shutil.copyfile(screenshot, os.environ["UI_SCREENSHOT"])

    # upload a new document (with markup in it) from the Documents tab
    doc = tmp_path / "zorblat.md"
    doc.write_text(
        "Zorblat Industries delivered 4,321 hover-bikes in March.\n\n"
        "<script>window.__xss = 1</script><img src=x onerror='window.__xss=2'> Zorblat is based on Mars."
    )
    page.get_by_role("tab", name="Documents").click()
    page.locator("#upload input[type=file]").set_input_files(str(doc))
    page.wait_for_function("() => document.querySelector('#upload-status')?.innerText.includes('uploads/zorblat.md')")
    assert "indexed" in page.inner_text("#upload-status")
    page.wait_for_function("() => document.querySelector('#docs-table')?.innerText.includes('uploads/zorblat.md')")

    page.get_by_role("tab", name="Chat").click()
    answer = ask(page, "How many hover-bikes did Zorblat Industries deliver in March?", 2)
    assert "4,321" in answer
    cited = page.locator("#sources-panel #cite-2-1")
    assert "uploads/zorblat.md" in cited.inner_text() and "4,321" in cited.locator("mark").inner_text()

    answer = ask(page, "Where is Zorblat based?", 3)
    assert page.evaluate("window.__xss") is None
    panel = page.inner_text("#sources-panel")
    assert "<script>" in panel or "<img" in panel  # markup from the document shows as text
    assert page.locator("#sources-panel script, #chat script, #sources-panel img").count() == 0
    page.screenshot(path=str(tmp_path / "ui_upload.png"))
    print(f"screenshots: {tmp_path}")


def test_refusal_feedback_and_clear(page, server: Server) -> None:
    ask(page, "What is the boiling point of tungsten?", 1)
    msg = page.locator("#chat .answer").last
    assert "refused" in (msg.get_attribute("class") or "")
    assert "Not answered by the documents" in msg.inner_text()

    feedback = server.index / "feedback.jsonl"
    lines_before = feedback.read_text().count("\n") if feedback.exists() else 0
    page.get_by_label("Dislike", exact=True).last.click()
    page.wait_for_function("() => document.body.innerText.includes('feedback was saved')")
    lines = feedback.read_text().splitlines()
    assert len(lines) == lines_before + 1
    rec = json.loads(lines[-1])
    assert rec["question"] == "What is the boiling point of tungsten?" and rec["feedback"] == "down"
    assert rec["refused"] is True and "expected" not in rec

    page.click("#clear-button")
    page.wait_for_function("() => !document.querySelector('#sources-panel #turn-1')")
    assert page.locator("#chat .answer").count() == 0
