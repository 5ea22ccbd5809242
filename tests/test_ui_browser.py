"""The chat UI in headless Chromium (Debian's /usr/bin/chromium; never `playwright install`).

Set ``UI_SCREENSHOT=docs/ui.png`` to also refresh the README screenshot.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import SEED_FILE
from test_ui import HIMA_Q, QUESTION_WORDS, TIER_ENV, Server, start_server

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
    """`bot chat` on a copy of the seeds, uploads capped at 1 MB, Gradio's upload cache in its own folder.

    Answers found are said plainly (tier ``sure``) whatever their confidence.
    """
    tmp = tmp_path_factory.mktemp("browser")
    srv = start_server(tmp, BOT_UPLOAD_MAX_MB="1", GRADIO_TEMP_DIR=str(tmp / "gradio-cache"), **TIER_ENV["sure"])
    yield srv
    srv.stop()


@contextmanager
def open_page(server: Server):
    """A headless Chromium page on the server's UI, ready for a question."""
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


@pytest.fixture
def page(server: Server):
    with open_page(server) as page:
        yield page


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
    badge = page.locator("#chat .answer").last.locator(".tier-badge")
    assert badge.get_attribute("class") == "tier-badge tier-sure" and re.fullmatch(r"Sure · \d+%", badge.inner_text())
    link = page.locator('#chat a.cite-link[href="#cite-1-1"]').first
    assert link.is_visible()
    cited = page.locator("#sources-panel #cite-1-1")
    assert cited.is_visible()
    assert "huawei_auto_brand_alliances.txt" in cited.inner_text()
    mark = cited.locator("mark").first
    assert mark.is_visible() and "81,864" in mark.inner_text()
    _check_answer_span(page, server, 1)
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
    assert "uploads/zorblat.md" in cited.inner_text() and "4,321" in cited.locator("mark").first.inner_text()

    answer = ask(page, "Where is Zorblat based?", 3)
    assert page.evaluate("window.__xss") is None
    panel = page.inner_text("#sources-panel")
    assert "<script>" in panel or "<img" in panel  # markup from the document shows as text
    assert page.locator("#sources-panel script, #chat script, #sources-panel img").count() == 0
    page.screenshot(path=str(tmp_path / "ui_upload.png"))
    print(f"screenshots: {tmp_path}")


def _check_answer_span(page, server: Server, turn: int) -> None:
    """The answer's own span is marked inside the quote of its first citation (when the engine gives it)."""
    cit = server.client().predict(HIMA_Q, [], api_name="/ask")["citations"][0]
    if cit["answer_start"] is None:  # the engine has not located the answer's span in this citation
        return
    text = (server.docs / cit["source"]).read_text(encoding="utf-8")
    span = page.locator(f"#sources-panel #cite-{turn}-1 mark > mark.answer-span")
    assert span.is_visible() and span.inner_text() == text[cit["answer_start"] : cit["answer_end"]]
    assert "81,864" in span.inner_text()


@pytest.fixture(scope="module")
def likely_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`bot chat` whose every answer found is a hedged guess."""
    srv = start_server(tmp_path_factory.mktemp("browser-likely"), **TIER_ENV["likely"])
    yield srv
    srv.stop()


def test_likely_answer_shows_its_badge_and_passage(likely_server: Server) -> None:
    """Issue 19.2: a guess says so in its badge, and its passage is in the chat bubble, no click needed."""
    with open_page(likely_server) as page:
        answer = ask(page, HIMA_Q, 1)
        msg = page.locator("#chat .answer").last
        assert msg.get_attribute("class") == "answer likely"
        badge = msg.locator(".tier-badge")
        assert badge.get_attribute("class") == "tier-badge tier-likely" and badge.is_visible()
        assert re.fullmatch(r"Likely — a guess, check the passage · \d+%", badge.inner_text())
        assert "%" in (badge.get_attribute("title") or "")
        said = msg.inner_text()
        assert "Probably 81,864 vehicles [1] — the passage: “" in said and "Probably" in answer
        quoted = re.search(r"“([^”]+)”", said)
        assert quoted and "81,864 vehicles in November" in quoted.group(1), said
        assert page.get_by_text(quoted.group(0), exact=False).first.is_visible()
        assert "(a guess)" in page.inner_text("#sources-panel #turn-1 h4")
        _check_answer_span(page, likely_server, 1)


def test_refusal_feedback_and_clear(page, server: Server) -> None:
    ask(page, "What is the boiling point of tungsten?", 1)
    msg = page.locator("#chat .answer").last
    assert "refused" in (msg.get_attribute("class") or "")
    assert "Not answered by the documents" in msg.inner_text()
    assert msg.locator(".refused-tag.tier-abstain").is_visible() and msg.locator(".tier-badge").count() == 0

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


def _log_since(server: Server, start: int) -> str:
    with server.log.open("rb") as fh:
        fh.seek(start)
        return fh.read().decode("utf-8", "replace")


def test_rejected_upload_is_deleted_from_the_upload_cache(page, server: Server, tmp_path: Path) -> None:
    """Item 3 (and 6): a rejected upload no longer serves from Gradio's cache; an accepted one moved out of it."""
    import httpx

    # The cache serves what is in it: a file posted to the upload route is there for whoever has its path.
    probe = httpx.post(server.url + "gradio_api/upload", files={"files": ("probe.txt", b"probe text", "text/plain")})
    probe_path = probe.json()[0]
    assert httpx.get(server.url + "gradio_api/file=" + probe_path).status_code == 200

    bad = tmp_path / "photo.txt"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)
    good = tmp_path / "rockets.md"
    good.write_text("Quuxco sold 99 rockets in May.\n")
    log_start = server.log.stat().st_size
    page.get_by_role("tab", name="Documents").click()
    cached: dict[str, str] = {}
    for f in (bad, good):
        with page.expect_response(lambda r: "/gradio_api/upload" in r.url and r.request.method == "POST") as info:
            page.locator("#upload input[type=file]").set_input_files(str(f))
        cached[f.name] = info.value.json()[0]
        page.wait_for_function(
            "(n) => document.querySelector('#upload-status')?.innerText.includes(n)", arg=f.name, timeout=120_000
        )
    status = page.inner_text("#upload-status")
    assert "rockets.md" in status and "indexed" in status
    for name, path in cached.items():
        assert Path(path).is_relative_to(server.workdir / "gradio-cache")
        assert not Path(path).exists(), f"{name} is still in the upload cache"
        r = httpx.get(server.url + "gradio_api/file=" + path)
        assert r.status_code != 200 and b"IHDR" not in r.content and b"Quuxco" not in r.content, (name, r.status_code)
    assert (server.index / "uploads" / "rockets.md").read_text() == good.read_text()
    assert not (server.index / "uploads" / "photo.txt").exists()
    new_log = _log_since(server, log_start)
    assert "Traceback" not in new_log
    assert len([line for line in new_log.splitlines() if "photo.txt" in line]) == 1, new_log


def _rects_overlap(a: dict, b: dict) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


def test_sources_panel_scrolls_within_its_cap_and_nothing_covers_the_chat(page, server: Server) -> None:
    """Items 9, 10, 12: sources in the panel only, its cap holds, no label covers the chat, examples read well."""
    seed_words = {w.lower() for w in re.findall(r"[^\W\d_]+", SEED_FILE.read_text())}
    examples = page.locator("#chat .example, #chat button.example").all_inner_texts()
    examples = [e.strip() for e in examples if e.strip()]
    assert examples, page.inner_text("#chat")
    for q in examples:  # item 12
        assert q.endswith("?"), q
        unknown = [w for w in re.findall(r"[^\W\d_]+", q) if w.lower() not in seed_words | QUESTION_WORDS]
        assert not unknown, (q, unknown)

    questions = [
        HIMA_Q,
        "What is Yinwang responsible for?",
        "How much did Changan invest in Yinwang?",
        "What stake does Seres have in Yinwang?",
        "Which automaker is Huawei's partner for Yijing?",
    ]
    for turn, q in enumerate(questions, 1):
        answer = ask(page, q, turn)
        if turn == 1:
            quote = page.inner_text("#sources-panel #cite-1-1 mark")
            assert "81,864" in quote and quote not in answer and "Source:" not in answer  # item 9
            box = page.evaluate(
                """() => {
                  const chat = document.querySelector('#chat');
                  const r = (e) => { const b = e.getBoundingClientRect();
                                     return {top: b.top, bottom: b.bottom, left: b.left, right: b.right}; };
                  const named = [...document.querySelectorAll('body *')]
                    .filter(e => e.innerText && e.innerText.trim() === 'Conversation');
                  const labels = named.filter(e => ![...e.children].some(c => named.includes(c))).map(r);
                  let area = chat.querySelector('.message');
                  while (area && area !== chat && !['auto', 'scroll'].includes(getComputedStyle(area).overflowY)) {
                    area = area.parentElement;
                  }
                  return {labels, first: area ? r(area) : null};
                }"""
            )
            assert box["first"], "no message area in the chat"
            # nothing may lie over the area the messages scroll in (a floating label covers the top message)
            assert not any(_rects_overlap(lab, box["first"]) for lab in box["labels"]), box  # item 10

    m = page.evaluate(
        """() => {
          const panel = document.querySelector('#sources-panel');
          const boxes = [panel, ...panel.querySelectorAll('*')];
          const scroller = boxes.find(e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowY)
                                           && e.scrollHeight > e.clientHeight + 1);
          const content = Math.max(...[...panel.querySelectorAll('.turn')].map(t => t.getBoundingClientRect().bottom))
                          - panel.getBoundingClientRect().top;
          const footer = document.querySelector('footer');
          return {
            scroller: scroller ? {client: scroller.clientHeight, scroll: scroller.scrollHeight,
                                  bottom: scroller.getBoundingClientRect().bottom} : null,
            panel: panel.getBoundingClientRect().height, content,
            footerTop: footer ? footer.getBoundingClientRect().top : null,
          };
        }"""
    )
    from bot.ui.render import SOURCES_MAX_PX

    assert m["content"] > SOURCES_MAX_PX, m  # enough sources to need the cap
    assert m["scroller"] is not None, m  # the panel scrolls...
    assert m["scroller"]["client"] <= SOURCES_MAX_PX + 1 and m["panel"] <= SOURCES_MAX_PX + 60, m  # ...within its cap
    assert m["footerTop"] is None or m["scroller"]["bottom"] <= m["footerTop"], m
    page.locator('#chat a.cite-link[href="#cite-1-1"]').first.click()  # a marker still reaches its source
    assert page.locator("#sources-panel #cite-1-1").is_visible()


def test_facts_tab_shows_values_units_roles_and_sentences(page, server: Server) -> None:
    """Item 11: value with unit, the subject or an honest blank, the role, the sentence in a detail row and on hover."""
    page.get_by_role("tab", name="Facts").click()
    page.wait_for_selector("#facts-table tr.fact-row")
    rows = page.evaluate(
        """() => [...document.querySelectorAll('#facts-table tr.fact-row')].map(tr => ({
              cells: [...tr.querySelectorAll('td')].map(td => td.innerText.trim()),
              title: tr.getAttribute('title'),
              detail: tr.nextElementSibling && tr.nextElementSibling.classList.contains('fact-detail')
                      ? tr.nextElementSibling.innerText.trim() : null,
              mark: tr.nextElementSibling ? (tr.nextElementSibling.querySelector('mark') || {}).innerText : null,
           }))"""
    )
    headers = page.locator("#facts-table th").all_inner_texts()
    assert [h.strip().lower() for h in headers][:5] == ["subject", "measure", "value", "role", "as written"]
    assert rows
    seed = SEED_FILE.read_text()
    for row in rows:
        subject, _measure, value, _role, written = row["cells"][:5]
        assert not re.search(r"\d–$|^–", value), row  # no made-up open range
        assert subject, row  # a name or the honest blank
        from_seed = row["cells"][7].startswith(SEED_FILE.name)
        assert row["detail"] and (row["detail"] in seed or not from_seed) and row["title"] == row["detail"], row
        assert row["mark"] and row["mark"] in written, row
    lineup = [r for r in rows if r["cells"][4] == "five to seven brands"]
    assert sorted(r["cells"][3] for r in lineup) == ["from", "to"]
    assert {r["cells"][2] for r in lineup} == {"5 brands", "7 brands"}
    assert any(r["cells"][0] == "—" for r in rows)
    assert any(r["cells"][2] == "81,864 vehicles" for r in rows)
    fewer = "(n) => document.querySelectorAll('#facts-table tr.fact-row').length < n"
    for attempt in range(3):  # the page's initial refresh may still be on its way and redraw the full table
        page.fill("#facts-filter textarea, #facts-filter input", "" if attempt else "Changan")
        page.fill("#facts-filter textarea, #facts-filter input", "Changan")
        try:
            page.wait_for_function(fewer, arg=len(rows), timeout=10_000)
            break
        except Exception:
            if attempt == 2:
                raise
    filtered = page.locator("#facts-table tr.fact-row").evaluate_all(
        "rows => rows.map(r => r.innerText + ' ' + r.getAttribute('title'))"
    )
    assert filtered and all("Changan" in r for r in filtered), filtered


def test_size_error_matches_the_label_and_replaces_the_old_status(page, server: Server, tmp_path: Path) -> None:
    """Item 13: the size error uses the label's unit and rounding; a new upload clears the old status."""
    page.get_by_role("tab", name="Documents").click()
    label = page.inner_text("#upload")
    limit = re.search(r"up to (\S+ MB) each", label)
    assert limit and limit.group(1) == "1 MB", label
    small = tmp_path / "kiel.md"
    small.write_text("The Globex yard in Kiel employs 1,300 people.\n")
    page.locator("#upload input[type=file]").set_input_files(str(small))
    page.wait_for_function("() => document.querySelector('#upload-status')?.innerText.includes('kiel.md')")
    assert "indexed" in page.inner_text("#upload-status")

    big = tmp_path / "big.txt"
    big.write_text("Big text. " * 150_000)  # 1.5 MB
    page.locator("#upload input[type=file]").set_input_files(str(big))
    page.wait_for_function("() => document.body.innerText.includes('big.txt was not added')")
    shown = page.inner_text("body")  # what is on screen (hidden elements are left out)
    assert "kiel.md indexed" not in shown, "the old status stayed on screen"
    assert "big.txt was not added: too large (1.5 MB; the limit is 1 MB)" in shown
    toasts = " ".join(page.locator(".toast-body, [data-testid='toast-body']").all_inner_texts())
    assert not re.search(r"Kb|Mb|\d\.\d \w?b\b", toasts), toasts  # no other unit or rounding anywhere
    assert not (server.index / "uploads" / "big.txt").exists()

    again = tmp_path / "kiel2.md"  # the next accepted upload replaces the size error
    again.write_text("The Globex yard in Kiel built 12 ships in 2024.\n")
    page.locator("#upload input[type=file]").set_input_files(str(again))
    page.wait_for_function("() => document.querySelector('#upload-status')?.innerText.includes('kiel2.md')")
    shown = page.inner_text("body")
    assert "kiel2.md indexed" in shown and "big.txt was not added" not in shown
