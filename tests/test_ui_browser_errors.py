"""The chat UI's error state and repeats in headless Chromium (issue 21, item 4).

An empty question does nothing, a question with no words is one message (no red "Error" on every
component), a passage cited again is quoted once, a refusal carries its "engine · time" line, and a
UTF-16 upload without a byte-order mark says what it is. Screenshots go to ``$UI_SHOTS`` (default
/tmp/ui-issue21).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_ui import HIMA_Q, TIER_ENV, Server, start_server
from test_ui_browser import CHROMIUM, ask, open_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install -y chromium"),
]

SHOTS = Path(os.environ.get("UI_SHOTS", "/tmp/ui-issue21"))
ERROR_BADGES = ".wrap .error"
"""Gradio's status tracker on a component whose event failed (the red "Error" pill)."""
PASSAGE = "delivered 81,864 vehicles in November"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("browser-errors")
    srv = start_server(tmp, BOT_UPLOAD_MAX_MB="1", GRADIO_TEMP_DIR=str(tmp / "gradio-cache"), **TIER_ENV["sure"])
    yield srv
    srv.stop()


@pytest.fixture
def page(server: Server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with open_page(server) as page:
        yield page


def _toasts(page) -> list[str]:
    return [t.strip() for t in page.locator(".toast-body, [data-testid='toast-body']").all_inner_texts()]


def test_an_empty_question_does_nothing_and_one_without_words_is_one_message(page) -> None:
    empty_hint = page.inner_text("#sources-panel")
    page.click("#ask-button")
    page.press("#question textarea", "Enter")
    page.wait_for_timeout(2500)
    page.screenshot(path=str(SHOTS / "empty_question.png"))
    assert page.locator(ERROR_BADGES).count() == 0, "an empty question painted error badges"
    assert _toasts(page) == []
    assert page.locator("#chat .message").count() == 0 and page.inner_text("#sources-panel") == empty_hint

    page.fill("#question textarea", "???")
    page.click("#ask-button")
    page.wait_for_function("() => document.body.innerText.includes('The question has no words in it')")
    page.wait_for_timeout(1000)
    page.screenshot(path=str(SHOTS / "question_without_words.png"))
    toasts = _toasts(page)
    assert len(toasts) == 1 and "The question has no words in it" in toasts[0], toasts
    assert page.locator(ERROR_BADGES).count() == 0, "a rejected question painted error badges"
    assert page.input_value("#question textarea") == "???"  # kept, to be corrected
    assert page.locator("#chat .message").count() == 0 and page.inner_text("#sources-panel") == empty_hint


def test_a_passage_is_quoted_once_and_a_refusal_carries_its_meta_line(page) -> None:
    ask(page, HIMA_Q, 1)
    ask(page, HIMA_Q, 2)  # the same passage again
    panel = page.inner_text("#sources-panel")
    assert panel.count(PASSAGE) == 1, panel  # the newer answer quotes it; the older one points there
    repeat = page.locator("#sources-panel #cite-1-1")
    assert "cite-repeat" in (repeat.get_attribute("class") or "")
    assert "the same passage as Answer 2 [1]" in repeat.inner_text()
    assert repeat.locator("a").get_attribute("href") == "#cite-2-1"
    page.locator('#chat a.cite-link[href="#cite-1-1"]').first.click()  # the older marker still reaches its entry
    assert page.evaluate("location.hash") == "#cite-1-1" and repeat.is_visible()
    page.screenshot(path=str(SHOTS / "sources_once.png"))

    ask(page, "What is the boiling point of tungsten?", 3)
    refusal = page.locator("#chat .answer").last
    assert "refused" in (refusal.get_attribute("class") or "")
    meta = refusal.locator(".answer-meta")
    assert meta.count() == 1 and re.fullmatch(r"grounded( · \d+\.\d s)?", meta.inner_text().strip()), meta.inner_text()
    answered = page.locator("#chat .answer").nth(0).locator(".answer-meta").inner_text().strip()
    assert answered.startswith("grounded")
    page.screenshot(path=str(SHOTS / "sources_once_and_refusal_meta.png"), full_page=True)


def test_a_utf16_upload_without_a_byte_order_mark_says_to_save_it_as_utf8(page, tmp_path: Path) -> None:
    doc = tmp_path / "notes.txt"
    doc.write_bytes("Zorblat Industries delivered 4,321 hover-bikes in March.\n".encode("utf-16-le"))
    page.get_by_role("tab", name="Documents").click()
    page.locator("#upload input[type=file]").set_input_files(str(doc))
    page.wait_for_function("() => document.querySelector('#upload-status')?.innerText.includes('notes.txt')")
    status = page.inner_text("#upload-status")
    page.screenshot(path=str(SHOTS / "utf16_upload.png"))
    assert "notes.txt was not added: UTF-16 text (little-endian) without a byte-order mark; save it as UTF-8" in status
    assert "binary" not in status
