"""Evidence stage: the sentences that may answer a question, ranked.

Retrieve the best chunks (hybrid search) and the sentences nearest to the question anywhere in the
index, then rank those sentences by meaning (the question vector against the sentence vectors stored
at index time), by the question's words they contain (weighted by rarity) and by the names they
share with it. Everything here is bounded by the number of chunks and sentences asked for, never by
the size of the corpus.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from bot.engine.index import ChunkHit, IndexView
from bot.engine.question import Question
from bot.language.chunks import Chunk, noun_phrases, tag, verb_phrases
from bot.language.names import Name, find_names
from bot.language.quantities import Quantity, find_quantities
from bot.language.tokens import Token, key, tokenize
from bot.sentences import SentenceRecord

CHUNKS = 5
"""Chunks retrieved per question."""
NEAREST = 8
"""Sentences taken by vector search on top of those in the chunks."""
W_DENSE, W_LEXICAL, W_CHUNK, W_NAMES = 0.6, 0.4, 0.08, 0.15
WINDOW_BEFORE, WINDOW_AFTER = 600, 1500
"""Characters around the previous answer whose sentences a follow-up always considers."""
GUESSED_WEIGHT = 0.35
"""Weight, relative to a written name, of a name a follow-up's pronoun was resolved to (a guess)."""
NEAR_SAME_DOC, NEAR_CLOSE = 0.3, 0.15
"""Bonus of a follow-up's sentences in the previous answer's document, and close after it."""


@dataclass
class Parsed:
    """A sentence's tokens, names and quantities (cached per sentence); tags and phrases on demand."""

    tokens: list[Token]
    names: list[Name]
    quantities: list[Quantity]
    keys: set[str]
    _phrases: tuple[list[str], list[Chunk]] | None = None

    @property
    def tags(self) -> list[str]:
        """Coarse part-of-speech tags."""
        return self.phrases[0]

    @property
    def chunks(self) -> list[Chunk]:
        """Noun and verb phrases."""
        return self.phrases[1]

    @property
    def phrases(self) -> tuple[list[str], list[Chunk]]:
        """Tags and phrase chunks (computed once)."""
        if self._phrases is None:
            tags = tag(self.tokens)
            nps = noun_phrases(self.tokens, tags)
            self._phrases = (tags, nps + verb_phrases(self.tokens, tags, [c for c in nps]))
        return self._phrases


_CACHE: OrderedDict[str, Parsed] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 20000


def parse(record: SentenceRecord) -> Parsed:
    """Tokens, names and quantities of a sentence record (cached)."""
    with _CACHE_LOCK:
        hit = _CACHE.get(record.id)
        if hit is not None:
            _CACHE.move_to_end(record.id)
            return hit
    tokens = tokenize(record.text, record.start)
    quantities = find_quantities(record.text, record.start, tokens)
    names = [
        n for n in find_names(tokens, record.text, record.start)
        if not any(q.start <= n.start < q.end or n.start <= q.start < n.end for q in quantities)
    ]  # fmt: skip
    parsed = Parsed(tokens, names, quantities, {t.key for t in tokens if t.content})
    with _CACHE_LOCK:
        _CACHE[record.id] = parsed
        if len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return parsed


@dataclass
class Sentence:
    """One evidence sentence with its scores."""

    record: SentenceRecord
    vector: np.ndarray
    dense: float = 0.0
    lexical: float = 0.0
    names: float = 1.0
    chunk_rank: int | None = None
    score: float = 0.0
    matched: set[str] = field(default_factory=set)
    carried: set[str] = field(default_factory=set)  # the question's names it takes from the sentence before
    before_read: bool = False  # whether the sentence before it was gathered too (so ``carried`` is known)

    @property
    def parsed(self) -> Parsed:
        """Tokens, names and quantities."""
        return parse(self.record)

    @property
    def text(self) -> str:
        """The sentence as written."""
        return self.record.text


@dataclass
class Evidence:
    """The ranked sentences for one question (best first) and the chunks they came from."""

    query: str
    sentences: list[Sentence]
    chunks: list[ChunkHit]
    vector: np.ndarray

    def top(self, n: int) -> list[Sentence]:
        """The ``n`` best sentences."""
        return self.sentences[:n]

    def neighbour(self, s: Sentence, step: int = -1) -> Sentence | None:
        """The sentence just before (``step=-1``) or after ``s`` in its document, if gathered."""
        best = None
        for other in self.sentences:
            if other.record.source != s.record.source or other is s:
                continue
            gap = s.record.start - other.record.end if step < 0 else other.record.start - s.record.end
            if 0 <= gap <= 3 and (best is None or gap < best[0]):
                best = (gap, other)
        return best[1] if best else None


ADJACENT_WINDOW = 600
"""Characters read before or after a sentence to find its neighbour when the evidence lacks it."""


def adjacent(index: IndexView, ev: Evidence, s: Sentence, step: int) -> Sentence | None:
    """The sentence right before (``step=-1``) or after ``s`` in its document.

    Taken from the evidence when gathered, else found with one bounded read of the index.
    """
    near = ev.neighbour(s, step)
    if near is not None:
        return near
    r = s.record
    lo, hi = (max(0, r.start - ADJACENT_WINDOW), r.start) if step < 0 else (r.end, r.end + ADJACENT_WINDOW)
    found = None
    for rec, vec in index.sentences_between(r.source, lo, hi):
        gap = r.start - rec.end if step < 0 else rec.start - r.end
        if 0 <= gap <= 3:
            found = Sentence(rec, np.asarray(vec, dtype=np.float32))
            if step > 0:
                break
    return found


def term_weights(q: Question, index: IndexView) -> dict[str, float]:
    """Weight of each question term: its own weight times its rarity in the index."""
    out: dict[str, float] = {}
    for t in q.terms:
        idf = index.idf(t.key)
        if idf <= 0:
            idf = 0.5  # a word the index never uses still counts a little (it may be a typo)
        out[t.key] = max(out.get(t.key, 0.0), t.weight * idf)
    return out


def gather(
    index: IndexView,
    q: Question,
    query: str,
    extra_terms: dict[str, float] | None = None,
    near: tuple[str, int] | None = None,
    chunks: int = CHUNKS,
) -> Evidence:
    """Collect and rank the evidence sentences for a question.

    Args:
        index: The index.
        q: The analysed question.
        query: The retrieval query (the question, or a follow-up filled in from earlier turns).
        extra_terms: Words from earlier turns, with (small) weights.
        near: ``(source, offset)`` of the previous answer: sentences of that document, and close to
            it, get a bonus (a conversation moves through a document).
        chunks: Chunks to retrieve.

    Returns:
        Evidence, best sentence first.

    """
    vector = np.asarray(index.embed(query), dtype=np.float32)
    hits = index.search(query, chunks)
    rank_of = {}
    found: dict[str, tuple[SentenceRecord, list[float]]] = {}
    for rec, vec in index.sentences_of(hits):
        found.setdefault(rec.id, (rec, vec))
        for h in hits:
            if h.source == rec.source and h.start <= rec.start and rec.end <= h.end:
                rank_of[rec.id] = min(rank_of.get(rec.id, h.rank), h.rank)
    for rec, vec in index.nearest_sentences(vector.tolist(), NEAREST):
        found.setdefault(rec.id, (rec, vec))
    if near:  # a follow-up: the sentences around the previous answer, wherever retrieval went
        for rec, vec in index.sentences_between(near[0], max(0, near[1] - WINDOW_BEFORE), near[1] + WINDOW_AFTER):
            found.setdefault(rec.id, (rec, vec))
    weights = term_weights(q, index)
    q.weights = dict(weights)
    for k in q.guessed:  # a referent guessed for "he"/"it" must not outweigh what the user wrote
        if k in weights:
            weights[k] *= GUESSED_WEIGHT
    for k, w in (extra_terms or {}).items():
        weights.setdefault(k, w)
    total = sum(weights.values()) or 1.0
    name_sets = [{w.lower() for w in n.split()} for n in q.names if not {key(w) for w in n.split()} <= q.guessed]
    name_keys = {key(w) for ns in name_sets for w in ns}
    before = _previous_of(found)
    sentences = []
    for rec, vec in found.values():
        s = Sentence(rec, np.asarray(vec, dtype=np.float32), chunk_rank=rank_of.get(rec.id))
        p = s.parsed
        s.dense = float(np.dot(vector, s.vector))
        s.matched = {k for k in weights if k in p.keys}
        prev = before.get(rec.id)
        carried: set[str] = set()
        if prev is not None and name_keys and (_refers_back(p.tokens) or not p.names):
            carried = (name_keys & parse(prev).keys) - s.matched  # "The group filed ..." after "the Harbour Union said"
        s.carried, s.before_read = carried, prev is not None
        lexical = sum(weights[k] for k in s.matched) + CARRIED * sum(weights.get(k, 0.0) for k in carried)
        s.lexical = lexical / total
        if name_sets:
            lows = {t.low for t in p.tokens} | ({t.low for t in parse(prev).tokens} if carried else set())
            s.names = sum(bool(ns & lows) for ns in name_sets) / len(name_sets)
        chunk_prior = 1.0 / (2 + s.chunk_rank) if s.chunk_rank is not None else 0.0
        s.score = W_DENSE * s.dense + W_LEXICAL * s.lexical + W_CHUNK * chunk_prior + W_NAMES * s.names
        if near and rec.source == near[0]:
            offset = rec.start - near[1]  # conversations move forward through a document
            distance = offset if offset >= 0 else -2 * offset
            s.score += NEAR_SAME_DOC + NEAR_CLOSE / (1 + distance / 300)
        sentences.append(s)
    sentences.sort(key=lambda s: (-s.score, s.record.source, s.record.start))
    return Evidence(query, sentences, hits, vector)


CARRIED = 0.7
"""Weight of a question's name that a sentence refers back to ("The group", "He") from the sentence before."""
_BACK = frozenset("he she it they his her its their this these the that those such".split())


def _refers_back(tokens: list[Token]) -> bool:
    """Whether a sentence opens on a pronoun or a definite noun phrase, so its subject is named before it."""
    words = [t for t in tokens[:3] if t.kind == "word"]
    return bool(words) and words[0].low in _BACK


def _previous_of(found: dict[str, tuple[SentenceRecord, list[float]]]) -> dict[str, SentenceRecord]:
    """For each gathered sentence, the gathered sentence right before it in its document (if any)."""
    by_doc: dict[str, list[SentenceRecord]] = {}
    for rec, _vec in found.values():
        by_doc.setdefault(rec.source, []).append(rec)
    out: dict[str, SentenceRecord] = {}
    for recs in by_doc.values():
        recs.sort(key=lambda r: r.start)
        for a, b in itertools.pairwise(recs):
            if 0 <= b.start - a.end <= 3:
                out[b.id] = a
    return out
