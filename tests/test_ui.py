"""The Gradio chat UI: helpers in-process, and `bot chat` as a real server driven by gradio_client."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import ROOT, SEEDS, make_settings

pytest.importorskip("gradio")

HIMA_Q = "How many vehicles did HIMA deliver in November?"
TIER_ENV = {  # thresholds that force a tier whatever the confidence (a refusal is always an abstention)
    "sure": {"BOT_SURE_CONFIDENCE": "0", "BOT_LIKELY_CONFIDENCE": "0"},
    "likely": {"BOT_SURE_CONFIDENCE": "1", "BOT_LIKELY_CONFIDENCE": "0"},
    "abstain": {"BOT_SURE_CONFIDENCE": "1", "BOT_LIKELY_CONFIDENCE": "1"},
}


# -- helpers ------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "GRADIO_"))}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
    # the grounded engine unless a test names another (with the local model installed the default is ``auto``)
    env.update(BOT_LLM="grounded")
    env.update(GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1", **extra)
    return env


class Server:
    """A `bot chat` subprocess on a free port."""

    def __init__(self, workdir: Path, docs: Path, **env: str) -> None:
        self.workdir, self.docs, self.index = workdir, docs, workdir / "index"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = workdir / "server.log"
        bot_exe = Path(sys.executable).with_name("bot")
        cmd = [str(bot_exe), "chat", "--docs", str(docs), "--index", str(self.index), "--port", str(self.port)]
        self.proc = subprocess.Popen(
            cmd, cwd=workdir, env=server_env(**env), stdout=self.log.open("w"), stderr=subprocess.STDOUT
        )

    def wait(self, timeout: float = 300) -> Server:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"bot chat exited with {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                if httpx.get(self.url + "config", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        pytest.fail(f"bot chat did not start in {timeout} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def client(self):
        from gradio_client import Client

        return Client(self.url, verbose=False)

    def manifest(self) -> dict:
        return json.loads((self.index / "manifest.json").read_text())


def start_server(tmp: Path, **env: str) -> Server:
    docs = tmp / "docs"
    shutil.copytree(SEEDS, docs)
    return Server(tmp, docs, **env).wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One `bot chat` for this module, on a private copy of the seeds (uploads capped at 1 MB, answers said plainly)."""
    srv = start_server(tmp_path_factory.mktemp("chat"), BOT_UPLOAD_MAX_MB="1", **TIER_ENV["sure"])
    yield srv
    srv.stop()


@pytest.fixture(scope="module", params=["likely", "abstain"])
def tier_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Server]]:
    """`bot chat` whose thresholds make every answer found a hedged guess, or an abstention."""
    srv = start_server(tmp_path_factory.mktemp(f"tier-{request.param}"), **TIER_ENV[request.param])
    yield request.param, srv
    srv.stop()


# -- pure helpers -----------------------------------------------------------------------
def test_sanitize_filename_blocks_traversal_and_odd_names() -> None:
    from bot.ui import sanitize_filename

    assert sanitize_filename("../../etc/passwd.TXT") == "passwd.txt"
    assert sanitize_filename("..\\..\\windows\\evil.md") == "evil.md"
    assert sanitize_filename("/abs/path/report 2024 (final).pdf") == "report_2024_final.pdf"
    assert sanitize_filename(".hidden.txt") == "hidden.txt"
    assert sanitize_filename("..") == "upload"
    assert sanitize_filename("a\x00b<script>.html") == "a_b_script.html"
    assert len(sanitize_filename("x" * 500 + ".txt")) <= 120
    for name in ("../x.txt", "a/../../b.md", "~/.ssh/id_rsa"):
        assert "/" not in sanitize_filename(name) and not sanitize_filename(name).startswith(".")


def test_check_upload_type_and_size(tmp_path: Path) -> None:
    from bot.errors import InputError
    from bot.ui import check_upload

    s = make_settings(tmp_path, tmp_path / "index", upload_max_mb=0.001)
    ok = tmp_path / "ok.md"
    ok.write_text("small")
    assert check_upload(ok, "../ok.MD", s) == "ok.md"
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ")
    with pytest.raises(InputError, match=r"\.exe is not allowed"):
        check_upload(exe, exe.name, s)
    big = tmp_path / "big.txt"
    big.write_text("x" * 5000)
    with pytest.raises(InputError, match="too large"):
        check_upload(big, big.name, s)


def _answer(text: str, quote: str, refused: bool = False):
    from bot.models import Answer, Citation

    cits = [] if refused else [Citation(n=1, source="a<b>.txt", start=0, end=len(quote), quote=quote)]
    return Answer(question="q", resolved_question="q", text=text, citations=cits, refused=refused)


def test_render_escapes_html_and_links_citations() -> None:
    from bot.ui import render_answer, render_sources, render_user

    ans = _answer("<script>alert(1)</script> Zorblat sold 7 boats. [1] [9]", "<img src=x onerror=alert(1)>")
    out = render_answer(ans, 3)
    assert "<script>" not in out and "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert 'href="#cite-3-1"' in out and "[9]" in out and "#cite-3-9" not in out
    turn = {
        "question": "<b>q</b>",
        "answer": ans.model_dump(mode="json"),
        "contexts": [("<i>", ans.citations[0].quote, "")],
    }
    panel = render_sources([turn])
    assert "<img" not in panel and "<i>" not in panel and "<b>q" not in panel
    assert 'id="cite-1-1"' in panel and "<mark>&lt;img src=x" in panel
    assert "<script" not in render_user("<script>x</script>")


def test_refusal_is_marked() -> None:
    from bot.ui import render_answer

    out = render_answer(_answer("The documents do not say.", "", refused=True), 1)
    assert "refused" in out and "Not answered by the documents" in out
    assert "refused" not in render_answer(_answer("Yes. [1]", "Yes."), 1)


def test_feedback_record_matches_question_set_format(tmp_path: Path) -> None:
    from gradio.events import LikeData

    from bot.ui import _Actions

    class FakeBot:
        settings = make_settings(tmp_path, tmp_path / "index")

    ans = _answer("HIMA delivered 81,864 vehicles. [1]", "HIMA delivered 81,864 vehicles.").model_dump(mode="json")
    turns = [
        {"question": "Q1?", "history": [], "answer": ans, "contexts": [("", "", "")]},
        {"question": "And in which month?", "history": ["Q1?"], "answer": ans, "contexts": [("", "", "")]},
    ]
    chat = [{"role": r, "content": "x"} for r in ("user", "assistant", "user", "assistant")]
    act = _Actions(FakeBot())  # type: ignore[arg-type]
    act.like(LikeData(None, {"index": 3, "value": "x", "liked": True}), chat, turns)
    act.like(LikeData(None, {"index": 1, "value": "x", "liked": False}), chat, turns)
    lines = [json.loads(line) for line in (tmp_path / "index" / "feedback.jsonl").read_text().splitlines()]
    assert [r["feedback"] for r in lines] == ["up", "down"]
    up, down = lines
    assert up["question"] == "And in which month?" and up["history"] == ["Q1?"]
    assert up["expected"] == "HIMA delivered 81,864 vehicles." and up["answerable"] is True
    assert up["citations"][0]["quote"] == "HIMA delivered 81,864 vehicles." and up["answer"].endswith("[1]")
    assert "expected" not in down and down["question"] == "Q1?" and down["id"] != up["id"]
    assert all({"id", "question", "history", "feedback", "answer", "citations", "time"} <= set(r) for r in lines)


def test_answer_text_leaves_the_quoted_source_to_the_sources_panel() -> None:
    """Item 9: "Source: [1] “…”" in an answer's text is not repeated in the chat, the copy text or the history."""
    import re

    from bot.ui import history_messages, plain_answer, render_answer

    quote = "Zorblat Industries delivered 4,321 hover-bikes in March."
    ans = _answer(f"4,321 hover-bikes [1].\n\nSource: [1] “{quote}”", quote)
    html = render_answer(ans, 1)
    shown = re.sub(r"<[^>]*>", "", html)  # the text a reader sees (the [1] link's tooltip may quote)
    assert quote not in shown and "Source:" not in shown and 'href="#cite-1-1"' in html
    inline = render_answer(_answer(f"The documents do not say. Closest passage: “{quote}” [1]", quote), 1)
    assert quote not in re.sub(r"<[^>]*>", "", inline) and "[1]" in inline
    turn = {"question": "How many?", "answer": ans.model_dump(mode="json")}
    assert plain_answer(turn["answer"]).count(quote) == 1  # listed once, under "Sources:"
    assert history_messages([turn]) == [
        {"role": "user", "content": "How many?"},
        # where the answer stood (for the follow-up), never the quoted words themselves
        {"role": "assistant", "content": "4,321 hover-bikes [1].",
         "citations": [{"source": "a<b>.txt", "start": 0, "end": len(quote)}]},
    ]  # fmt: skip


ZORBLAT = "Zorblat <Industries> delivered 4,321 hover-bikes in March, a record."


def _claimed(confidence: float, sure_at: float, likely_at: float):
    """The engine's answer ``4,321 hover-bikes [1].`` said by the verdict's own words for a tier."""
    from bot.models import Answer, Citation
    from bot.verdict import settle

    start = 100
    at = start + ZORBLAT.index("4,321")
    cit = Citation(n=1, source="z.txt", start=start, end=start + len(ZORBLAT), quote=ZORBLAT,
                   answer_start=at, answer_end=at + len("4,321 hover-bikes"))  # fmt: skip
    found = Answer(question="q", resolved_question="q", text="4,321 hover-bikes [1].", citations=[cit])
    return settle(found, confidence, sure_at, likely_at)


def _shown(html: str) -> str:
    """What a reader sees of rendered HTML (tags dropped, entities read)."""
    import html as h
    import re

    return h.unescape(re.sub(r"<[^>]*>", "", html))


def test_each_tier_renders_with_its_badge_and_evidence() -> None:
    """Issue 19.2: a badge per tier with its confidence; a guess and an abstention show their quoted passage."""
    from bot.ui import history_messages, plain_answer, render_answer
    from bot.verdict import settle

    sure, likely, unsure = _claimed(0.93, 0.8, 0.4), _claimed(0.61, 0.8, 0.4), _claimed(0.22, 0.8, 0.4)
    assert (sure.assertion, likely.assertion, unsure.assertion) == ("sure", "likely", "abstain")

    html = render_answer(sure, 1)
    assert 'class="tier-badge tier-sure"' in html and "Sure · 93%" in html
    assert "tier-likely" not in html and "tier-abstain" not in html and "refused" not in html
    assert "Probably" not in _shown(html) and "Zorblat" not in _shown(html)

    html = render_answer(likely, 1)
    assert 'class="tier-badge tier-likely"' in html and "Likely — a guess, check the passage · 61%" in html
    assert 'class="answer likely"' in html and 'href="#cite-1-1"' in html
    seen = _shown(html)
    assert seen.split("· 61%", 1)[1].startswith("Probably 4,321 hover-bikes [1] — the passage: “"), seen
    assert ZORBLAT in seen  # the evidence is in the bubble, not only behind the [1] link
    assert "<Industries>" not in html and "&lt;Industries&gt;" in html  # escaped as strictly as ever

    html = render_answer(unsure, 1)
    assert 'class="answer refused"' in html and 'class="refused-tag tier-abstain"' in html
    assert "Not sure — not answered · 22%" in html and "tier-sure" not in html
    seen = _shown(html)
    assert "I can't tell for sure from the documents. The closest passage [1]: “" in seen and ZORBLAT in seen
    assert "4,321 hover-bikes [1]." not in seen.replace(ZORBLAT, "")  # the claim itself is withheld

    refusal = _answer("The documents do not say.", "", refused=True).model_copy(update={"assertion": "abstain"})
    html = render_answer(refusal, 1)
    assert 'class="refused-tag tier-abstain"' in html and "Not answered by the documents" in html and "%" not in html
    nearby = likely.model_copy(update={"text": "The documents do not say. The closest passage [1].", "claim": None})
    nearby = nearby.model_copy(update={"refused": True, "assertion": "sure", "confidence": 0.0})
    nearby = settle(nearby, 0.0, 0.8, 0.4)  # a refusal, said with the passage it points at quoted
    html = render_answer(nearby, 1)
    assert "Not answered by the documents" in html and ZORBLAT in _shown(html), html

    # copy text: the tier line under the answer; history: what was said, never the quoted words
    assert plain_answer(likely.model_dump(mode="json")).splitlines()[1] == "Likely (a guess) · confidence 61%"
    copied = plain_answer(sure.model_dump(mode="json")).splitlines()
    assert copied[:2] == ["4,321 hover-bikes [1].", "Sure · confidence 93%"]
    turns = [{"question": "How many?", "answer": a.model_dump(mode="json")} for a in (likely, unsure)]
    said = [m["content"] for m in history_messages(turns) if m["role"] == "assistant"]
    assert said == ["4,321 hover-bikes [1].", "I can't tell for sure from the documents. The closest passage [1]."]


def test_sources_panel_marks_the_answer_span_inside_the_quote() -> None:
    """Issue 19.2: the answer's own span is marked inside the cited quote; escaping stays strict."""
    from bot.ui import render_sources

    ans = _claimed(0.93, 0.8, 0.4).model_dump(mode="json")
    turn = {"question": "q", "answer": ans, "contexts": [("Before <b>it</b>. ", ZORBLAT, " After.")]}
    panel = render_sources([turn])
    assert (
        '<mark>Zorblat &lt;Industries&gt; delivered <mark class="answer-span">4,321 hover-bikes</mark>'
        " in March, a record.</mark>" in panel
    ), panel
    assert "<b>it" not in panel and "&lt;b&gt;it&lt;/b&gt;" in panel
    withheld = _claimed(0.22, 0.8, 0.4).model_dump(mode="json")  # an abstention does not point at its claim
    assert "answer-span" not in render_sources([{**turn, "answer": withheld}])
    no_context = render_sources([{**turn, "contexts": [("", "", "")]}])  # the quote alone
    assert '<mark class="answer-span">4,321 hover-bikes</mark>' in no_context
    cit = ans["citations"][0]
    for a, b in ((None, None), (cit["start"] - 5, cit["start"] + 3), (cit["end"] - 2, cit["end"] + 9)):
        odd = {**ans, "citations": [{**cit, "answer_start": a, "answer_end": b}]}
        panel = render_sources([{**turn, "answer": odd}])
        assert "answer-span" not in panel and "<mark>Zorblat &lt;Industries&gt; delivered 4,321" in panel


def _fact(**kw):
    from bot.models import Fact

    base = {
        "id": "f1",
        "source": "a.txt",
        "text": "x",
        "start": 10,
        "end": 20,
        "quantity_text": "x",
        "sentence": "Zorblat Industries invested billions of yuan in new plants.",
        "sentence_start": 0,
        "sentence_end": 60,
    }
    return Fact(**{**base, **kw})


def test_fact_values_show_only_what_the_document_says() -> None:
    """Item 11: no made-up range for an open-ended quantity; values with units; percent as written."""
    from bot.ui import fact_rows, fact_value, render_facts

    billions = _fact(
        text="billions", quantity_text="billions of yuan", low=1e9, kind="money", unit="yuan", approximate=True
    )
    assert fact_value(billions) == ""  # not "1,000,000,000–"
    lineup_from = _fact(
        text="five", quantity_text="five to seven brands", value=5, kind="count", unit="brand", role="from"
    )
    lineup_to = _fact(
        text="seven", quantity_text="five to seven brands", value=7, kind="count", unit="brand", role="to"
    )
    stake = _fact(text="10 percent", quantity_text="10 percent", value=10, kind="percent", subject="Zorblat")
    price = _fact(text="x", quantity_text="about 28-42 dollars", low=28, high=42, kind="money", unit="dollars")
    assert fact_value(lineup_from) == "5 brands" and fact_value(lineup_to) == "7 brands"
    assert fact_value(stake) == "10%" and fact_value(price) == "28–42 dollars"
    rows = fact_rows([billions, lineup_from, lineup_to, stake])
    assert [r[0] for r in rows] == ["—", "—", "—", "Zorblat"]  # no subject: an honest blank
    assert [r[3] for r in rows] == ["", "from", "to", ""]
    assert [r[4] for r in rows][:2] == ["billions of yuan", "five to seven brands"]
    html = render_facts([billions, lineup_from])
    assert 'title="Zorblat Industries invested billions of yuan in new plants."' in html
    assert 'class="fact-detail"' in html and "<mark>" in html


def test_api_history_is_validated() -> None:
    """Item 5, in-process: history items must be questions or role/content messages."""
    from bot.errors import InputError
    from bot.history import check_history

    ok = ["Q1?", {"role": "user", "content": "Q2?"}, {"role": "assistant", "content": "A [1].", "metadata": None}]
    assert check_history(ok) == ["Q1?", {"role": "user", "content": "Q2?"}, {"role": "assistant", "content": "A [1]."}]
    assert check_history(None) == []
    for bad, message in [
        ([[1, 2], [3]], r"history\[0\] is a list: each item must be an earlier question"),
        (["ok", 5], r"history\[1\] is a number"),
        ([{"role": "robot", "content": "x"}], r"history\[0\] has role 'robot'"),
        ([{"role": "user", "content": ["x"]}], r"history\[0\] has content that is a list"),
        ("just a string", r"history must be a list"),
        ({"role": "user"}, r"history must be a list .* got an object"),
    ]:
        with pytest.raises(InputError, match=message):
            check_history(bad)


# -- in-process with a real index ----------------------------------------------------------
def test_example_questions_come_from_the_indexed_facts(tmp_path: Path, embeddings) -> None:
    from bot.indexer import sync_index
    from bot.service import Bot
    from bot.store import Store
    from bot.ui import example_questions

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "zorblat.md").write_text(
        "Zorblat Industries delivered 4,321 hover-bikes in March. "
        "Quuxco holds a 12 percent stake in Zorblat Industries."
    )
    s = make_settings(docs, tmp_path / "index")
    store = Store.open(s)
    sync_index(s, store=store, embedder=embeddings)
    bot = Bot(s, store=store, embeddings=embeddings)
    examples = example_questions(bot.facts())
    assert examples, bot.facts()
    assert any("Zorblat" in q for q in examples)
    assert not any("HIMA" in q or "Huawei" in q or "Harmony" in q for q in examples)

    # the chat handler streams into the chat and keeps per-session turns (prefs come from gr.State)
    from bot.ui import _Actions

    act = _Actions(bot)
    prefs = {"engine": "grounded", "top_k": 1}
    steps = list(act.respond("How many hover-bikes did Zorblat Industries deliver in March?", [], [], prefs))
    assert "Searching the documents" in steps[0][1][-1]["content"]
    textbox, chat, turns, sources, copy_text = steps[-1]
    assert textbox == "" and [m["role"] for m in chat] == ["user", "assistant"]
    assert "4,321" in chat[-1]["content"] and 'href="#cite-1-1"' in chat[-1]["content"]
    assert turns[0]["history"] == [] and 'id="cite-1-1"' in sources and "4,321" in copy_text
    *_, (_, chat2, turns2, _, _) = act.respond("And in which month?", chat, turns, prefs)
    assert len(chat2) == 4 and turns2[1]["history"] == [turns[0]["question"]]
    chat3, turns3, question, _ = act.undo(chat2, turns2)
    assert chat3 == chat and len(turns3) == 1 and question == "And in which month?"


GRAMMAR_CORPUS = (
    "Fjordline Nord cancelled 42 sailings in January.\n"
    "Kestrel Batteries hired 1,500 engineers in November.\n"
    "Orvane shipped 9,000 cells to Lumeo in March.\n"
    "Halvard Motors paid €1.2 billion for a 15 percent stake in Nordvolt Energy.\n"
    "Brightcell stopped 3 production lines in May.\n"
    "Nordvolt Energy expanded from three to five plants in 2024.\n"
    "Quuxco carried 12,000 passengers in the third quarter.\n"
)
QUESTION_WORDS = {"how", "many", "much", "what", "which", "who", "is", "are", "was", "were", "did", "do", "does"}
QUESTION_WORDS |= {"by", "in", "the", "of", "s", "say", "about", "documents"}


def test_example_questions_are_grammatical(tmp_path: Path, embeddings) -> None:
    """Item 12: every word of an example is a question word or written in the documents (no "cancell")."""
    import re

    from _corpora import SEED_TEXT

    from bot.indexer import sync_index
    from bot.service import Bot
    from bot.store import Store
    from bot.ui import example_questions

    for name, text in (("seed", SEED_TEXT), ("made-up", GRAMMAR_CORPUS)):
        docs = tmp_path / name
        docs.mkdir()
        (docs / "doc.txt").write_text(text)
        settings = make_settings(docs, tmp_path / f"index-{name}")
        store = Store.open(settings)
        sync_index(settings, store=store, embedder=embeddings)
        examples = example_questions(Bot(settings, store=store, embeddings=embeddings).facts())
        print(name, examples)
        assert len(examples) >= 2, examples
        vocabulary = {w.lower() for w in re.findall(r"[^\W\d_]+", text)}
        for q in examples:
            assert q[0].isupper() and q.endswith("?") and "  " not in q, q
            unknown = [w for w in re.findall(r"[^\W\d_]+", q) if w.lower() not in vocabulary | QUESTION_WORDS]
            assert not unknown, (q, unknown)
            assert not re.search(r"\b(cancell|shipp|stopp)\b", q), q


def test_upload_validation_and_removal_keep_the_index_intact(seed_settings, embeddings, tmp_path: Path) -> None:
    from bot.indexer import sync_index
    from bot.service import Bot
    from bot.store import Store
    from bot.ui import _Actions

    settings = seed_settings.model_copy(update={"upload_max_mb": 0.01})
    store = Store.open(settings)
    sync_index(settings, store=store, embedder=embeddings)
    bot = Bot(settings, store=store, embeddings=embeddings)
    act = _Actions(bot)
    before = [d.source for d in bot.documents()]
    fp = store.fingerprint()

    incoming = tmp_path / "incoming"
    incoming.mkdir()
    exe = incoming / "tool.exe"
    exe.write_bytes(b"MZ\x90\x00")
    big = incoming / "big.txt"
    big.write_text("Big text. " * 2000)
    binary = incoming / "photo.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)
    status, *_ = act.upload([str(exe), str(big), str(binary)])
    assert "tool.exe** was not added: file type .exe is not allowed" in status
    assert "big.txt** was not added: too large" in status
    assert "photo.txt** was not added: binary file" in status
    assert [d.source for d in bot.documents()] == before and store.fingerprint() == fp
    assert not list(settings.uploads_dir.glob("*")) if settings.uploads_dir.exists() else True

    good = incoming / "..%2Fzorblat notes.md"
    good.write_text("Zorblat Industries delivered 4,321 hover-bikes in March.\n\n<script>alert(1)</script>")
    status, *_ = act.upload([str(good)])
    assert "✓" in status and "uploads/2Fzorblat_notes.md" in status, status
    assert (settings.uploads_dir / "2Fzorblat_notes.md").is_file()
    assert "uploads/2Fzorblat_notes.md" in [d.source for d in bot.documents()]
    ans = bot.ask("How many hover-bikes did Zorblat Industries deliver in March?")
    assert "4,321" in ans.text and ans.citations[0].source == "uploads/2Fzorblat_notes.md"
    _, span, after_ctx = bot.passage(ans.citations[0].source, ans.citations[0].start, ans.citations[0].end)
    assert "4,321" in span and "<script>" in after_ctx

    import gradio as gr

    with pytest.raises(gr.Error, match="Only uploaded"):
        act.remove("huawei_auto_brand_alliances.txt")
    act.remove("uploads/2Fzorblat_notes.md")
    assert [d.source for d in bot.documents()] == before
    assert not (settings.uploads_dir / "2Fzorblat_notes.md").exists()


# -- `bot chat` as a real server -------------------------------------------------------------
def test_api_answers_with_citations_and_follow_up(server: Server) -> None:
    client = server.client()
    first = client.predict(HIMA_Q, [], api_name="/ask")
    assert "81,864" in first["text"]
    assert first["citations"] and "81,864" in first["citations"][0]["quote"]
    assert first["citations"][0]["source"] == "huawei_auto_brand_alliances.txt"
    assert not first["refused"]
    # issue 19.2: the verdict is in the API; a sure answer is stated plainly, the claim is its text
    assert first["assertion"] == "sure" and 0.0 <= first["confidence"] <= 1.0 and first["claim"] == first["text"]
    assert "Probably" not in first["text"] and "“" not in first["text"]
    nothing = client.predict("What is the boiling point of tungsten?", [], api_name="/ask")
    assert nothing["refused"] and nothing["assertion"] == "abstain" and nothing["confidence"] == 0.0

    month = client.predict("And in which month?", [HIMA_Q], api_name="/ask")
    assert "November" in month["text"] and month["citations"], month
    alliance = client.predict(
        "Which alliance was that?",
        [{"role": "user", "content": HIMA_Q}, {"role": "assistant", "content": first["text"]}],
        api_name="/ask",
    )
    assert "Harmony Intelligent Mobility Alliance" in alliance["text"] and alliance["citations"], alliance


def test_api_says_each_tier_in_its_words(tier_server: tuple[str, Server]) -> None:
    """Issue 19.2: ``assertion``, ``confidence`` and ``claim`` in the /ask answer agree with its text."""
    import re

    tier, srv = tier_server
    got = srv.client().predict(HIMA_Q, [], api_name="/ask")
    text, claim, cit = got["text"], got["claim"], got["citations"][0]
    assert got["assertion"] == tier and 0.0 <= got["confidence"] < 1.0, got
    assert claim and "81,864" in claim and "[1]" in claim and not claim.startswith(("Probably", "I can't")), got
    quoted = re.findall(r"“([^”]+)”", text)
    assert quoted and "81,864" in cit["quote"], got
    if tier == "likely":
        assert text.startswith("Probably 81,864 vehicles [1] — the passage: “") and not got["refused"], got
        assert "81,864" in quoted[0] and quoted[0].strip("…") in " ".join(cit["quote"].split()), got
    else:
        assert text.startswith("I can't tell for sure from the documents. The closest passage [1]: “"), got
        assert got["refused"] and "81,864" in quoted[0], got


def test_api_errors_are_one_line_messages(server: Server) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="The question is empty") as err:
        server.client().predict("   ", [], api_name="/ask")
    assert "Traceback" not in str(err.value)


def test_api_validates_its_inputs(server: Server) -> None:
    """Item 5: a malformed history or question is a clear error naming what is wrong."""
    from gradio_client.exceptions import AppError

    client = server.client()
    cases = [
        ((HIMA_Q, [[1, 2], [3]]), r"history\[0\] is a list: each item must be an earlier question"),
        ((HIMA_Q, [{"role": "robot", "content": "hi"}]), r"history\[0\] has role 'robot'"),
        ((HIMA_Q, [{"role": "user", "content": 7}]), r"history\[0\] has content that is a number"),
        ((HIMA_Q, "not a list"), r"history must be a list"),
        ((42, []), r"The question must be text"),
    ]
    for args, message in cases:
        with pytest.raises(AppError, match=message) as err:
            client.predict(*args, api_name="/ask")
        assert "unexpectedly" not in str(err.value)
    ok = client.predict(
        HIMA_Q, ["Which alliance is it?", {"role": "assistant", "content": "HIMA [1]."}], api_name="/ask"
    )
    assert "81,864" in ok["text"]


def test_user_errors_are_one_line_in_the_server_log(server: Server) -> None:
    """Item 6: an empty or too long question, or a bad history, logs one line - no traceback."""
    from gradio_client.exceptions import AppError

    client = server.client()
    start = server.log.stat().st_size
    for question, history in (("   ", []), ("x" * 5000, []), (HIMA_Q, [[1, 2]])):
        with pytest.raises(AppError):
            client.predict(question, history, api_name="/ask")
    time.sleep(0.5)
    with server.log.open("rb") as fh:
        fh.seek(start)
        new = fh.read().decode("utf-8", "replace")
    assert "Traceback" not in new, new
    for needle in ("The question is empty", "The question is too long", "history[0] is a list"):
        lines = [line for line in new.splitlines() if needle in line]
        assert len(lines) == 1, (needle, new)


@pytest.mark.server
def test_chat_says_when_the_chroma_server_is_down(tmp_path: Path, embeddings) -> None:
    """Item 7: with the index server down, the UI says it cannot be reached (and recovers when it is back)."""
    import gradio as gr
    from chroma_server import ChromaServer
    from gradio_client.exceptions import AppError

    from bot.service import Bot
    from bot.ui import _Actions

    chroma = ChromaServer(tmp_path / "chroma-data").start()
    workdir = tmp_path / "chat"
    workdir.mkdir()
    srv = None
    try:
        srv = start_server(workdir, BOT_CHROMA_URL=chroma.url)
        client = srv.client()
        assert "81,864" in client.predict(HIMA_Q, [], api_name="/ask")["text"]
        settings = make_settings(srv.docs, tmp_path / "index", chroma_url=chroma.url)
        act = _Actions(Bot(settings, embeddings=embeddings))  # the chat handler, in-process, same server
        chroma.stop()
        question = "How much did Changan invest in Yinwang?"
        with pytest.raises(AppError, match=rf"^Cannot reach the Chroma server at {chroma.url}") as err:
            client.predict(question, [], api_name="/ask")
        assert "unexpectedly" not in str(err.value)
        with pytest.raises(gr.Error) as ui_err:
            list(act.respond(question, [], [], {"engine": "grounded", "top_k": 4}))
        assert ui_err.value.message.startswith(f"Cannot reach the Chroma server at {chroma.url}")
        assert "Traceback" not in srv.log.read_text()
        chroma.start()  # same path and port: answering works again
        assert "11.5 billion" in client.predict(question, [], api_name="/ask")["text"]
    finally:
        if srv is not None:
            srv.stop()
        chroma.stop()


def test_only_ask_is_a_public_endpoint(server: Server) -> None:
    api = server.client().view_api(print_info=False, return_format="dict")
    assert list(api["named_endpoints"]) == ["/ask"]
    assert not api["unnamed_endpoints"]


@pytest.mark.parametrize(
    "path",
    [
        "/etc/passwd",
        str(ROOT / "pyproject.toml"),
        "{index}/manifest.json",
        "{docs}/huawei_auto_brand_alliances.txt",
        "../../../../../../etc/passwd",
        "%2Fetc%2Fpasswd",
        "..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    ],
)
def test_file_routes_refuse_paths_outside_allowed_folders(server: Server, path: str) -> None:
    import httpx

    path = path.format(index=server.index, docs=server.docs)
    for route in ("gradio_api/file=", "file=", "gradio_api/file/"):
        r = httpx.get(server.url + route + path, timeout=10)
        assert r.status_code in (403, 404), (route, path, r.status_code)
        assert "root:" not in r.text and "[project]" not in r.text and "HIMA" not in r.text


def test_server_rejects_oversize_upload(server: Server) -> None:
    import httpx

    before = server.manifest()
    r = httpx.post(
        server.url + "gradio_api/upload",
        files={"files": ("big.txt", b"Big text. " * 150_000, "text/plain")},  # 1.5 MB > 1 MB cap
        timeout=30,
    )
    assert r.status_code == 413, (r.status_code, r.text[:200])
    assert "1000000" in r.text or "size" in r.text.lower()
    assert server.manifest() == before
    assert not (server.index / "uploads").exists() or not any((server.index / "uploads").iterdir())


CONCURRENT_QUESTIONS = [
    HIMA_Q,
    "How much did Changan invest in Yinwang?",
    "What stake does Seres have in Yinwang?",
    "How many brands are in Huawei's auto lineup now?",
    "Which automaker is Huawei's partner for Yijing?",
    "Which company announced Qijing with Huawei?",
    "What price range are the Yijing models expected to have?",
    "How much has Dongfeng invested in the Yijing project?",
    "What is Yinwang responsible for?",
    "Which markets should Seres expand into?",
    "What should Avatr emphasize?",
    "Which segment is essential for Deepal?",
    "Who manages investment and staffing in the Yijing partnership?",
    "How will Yijing vehicles be distributed?",
    "What dual advantage do Changan and Seres have?",
    "Which NEV startups did HIMA surpass?",
    "What does Huawei provide in the Yijing partnership?",
    "What risks does the growing number of Jing brands bring for Huawei?",
    "Where are the automakers Seres and Changan based?",
    "What is the Harmony Intelligent Mobility Alliance?",
]


def test_twenty_concurrent_sessions_get_their_own_answers(server: Server) -> None:
    assert len(set(CONCURRENT_QUESTIONS)) == 20
    serial_client = server.client()
    expected = {q: serial_client.predict(q, [], api_name="/ask") for q in CONCURRENT_QUESTIONS}

    def ask(q: str) -> tuple[str, dict]:
        return q, server.client().predict(q, [], api_name="/ask")

    t0 = time.monotonic()
    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(ask, CONCURRENT_QUESTIONS))
    elapsed = time.monotonic() - t0
    assert len(results) == 20
    for q, got in results:
        assert got["question"] == q
        assert got["text"] == expected[q]["text"], q
        assert got["citations"] == expected[q]["citations"], q
    assert elapsed < 240


def test_queue_does_not_summarise_past_events_for_monitoring() -> None:
    """Monitoring is off, so Gradio's per-event pandas summary of every past event is switched off too."""
    import gradio as gr

    from bot.ui.app import _no_monitoring_summary

    with gr.Blocks() as app:
        gr.Markdown("x")
    app.queue()
    _no_monitoring_summary(app)
    frequency = app._queue.ANAYLTICS_CACHE_FREQUENCY  # Gradio's spelling
    assert frequency == sys.maxsize
