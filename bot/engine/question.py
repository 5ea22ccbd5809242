"""Analyse stage: what a question asks for.

The answer type comes from the question word and the noun it governs ("how many vehicles", "what
team", "which city", "when"), yes/no and either/or questions from a leading auxiliary, summaries and
lists from their verbs. Arithmetic (differences, sums, complements, time between two events) is read
by :mod:`bot.engine.operations`. The word tables are data at the top of this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.engine.question_forms import acronym_asked, either_or, stranded_preposition, summary_scope_of
from bot.engine.vocabulary import (
    COPULAS,
    HOW_ADJECTIVES,
    KNOWN_FOR,
    MONEY_WORDS,
    NAME_NOUNS,
    NEEDED,
    NUMERIC_NOUNS,
    PERCENT_WORDS,
    PERSON_NOUNS,
    PLACE_NOUNS,
    RELATED,
    RELATED_WEIGHT,
    SOLD_FOR,
    SPAN_NOUNS,
    TIME_NOUNS,
)
from bot.language.names import find_names
from bot.language.quantities import TIME_UNITS
from bot.language.tokens import AUXILIARIES, NEGATIONS, STOPWORDS, WH_WORDS, Token, key, tokenize

SUMMARY_RE = re.compile(
    r"^\s*(?:please\s+)?(?:summari[sz]e|give (?:me )?(?:a |an )?(?:summary|overview|gist)|sum up|"
    r"what (?:is|are) (?:the|this|these) (?:document|article|text|report|story|passage)s? about|"
    r"what (?:is|are) the main (?:points?|ideas?|takeaways?)|tl;?dr)\b",
    re.IGNORECASE,
)
LIST_VERBS = frozenset({"list", "name", "enumerate"})


NUMERIC_TYPES = frozenset(
    {"count", "amount", "money", "percent", "duration", "age", "distance", "size", "number", "frequency", "speed"}
)


@dataclass
class Term:
    """A content word of the question, with its matching key and weight."""

    key: str
    text: str
    weight: float = 1.0
    name: bool = False
    related: bool = False  # added from RELATED, not written in the question


@dataclass
class Question:
    """What a question asks: its words, its names and the kind of answer that fits."""

    text: str
    tokens: list[Token]
    wh: str | None
    atype: str
    head: str | None = None  # the asked noun's lemma ("team", "vehicle", "year")
    terms: list[Term] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    negated: bool = False
    options: list[str] = field(default_factory=list)  # "Is it X or Y?"
    wh_index: int = -1
    subject_wh: bool = False  # the question word is the subject ("Who bought X?")
    summary_scope: str = ""  # "the part about X" of a summary request
    weights: dict[str, float] = field(default_factory=dict)  # term key -> weight x rarity (set by evidence)
    soft_names: bool = False  # names filled in from an earlier turn (a guess, not the user's words)
    guessed: frozenset[str] = frozenset()  # keys of those filled-in name words: they rank evidence softly
    list_of: str = ""  # for a list question, the type of its items
    acronym: str = ""  # "What does X stand for?" -> "X"
    stranded: str | None = None  # the preposition the question ends with ("What was the flat near?" -> "near")

    def modifier(self, name: str) -> bool:
        """Whether a name of the question modifies a noun ("the Nordic market", "EV startups", "US dollars")."""
        at = self.text.find(name)
        if at < 0:
            return False
        rest, before = self.text[at + len(name) :].split(), self.text[:at].split()
        if not (rest and rest[0].isalpha() and rest[0].islower() and rest[0] not in STOPWORDS):
            return False
        adjectival = name.endswith(("ic", "ian", "ese", "ish", "an")) or (name.isupper() and len(name) <= 3)
        return adjectival or bool(before and before[-1].lower() in ("the", "a", "an", "its", "their", "his", "her"))

    @property
    def name_keys(self) -> set[str]:
        """Matching keys of the words of the question's names."""
        return {t.key for t in self.terms if t.name}

    @property
    def keys(self) -> set[str]:
        """Matching keys of the question's own terms."""
        return {t.key for t in self.terms if not t.related}

    @property
    def all_keys(self) -> set[str]:
        """Matching keys of the question's terms and their related words."""
        return {t.key for t in self.terms}

    @property
    def numeric(self) -> bool:
        """Whether the answer is a quantity."""
        return self.atype in NUMERIC_TYPES


def _asked_noun(tokens: list[Token], k: int, counted: bool = False) -> tuple[str | None, int]:
    """The noun a question word governs ("what [type of] trajectory", "how many [more] vehicles").

    ``counted``: the word after "how many" is a noun even when the lexicon knows it as a verb ("carries").
    """
    j = k
    while j < len(tokens) and j < k + 4:
        t = tokens[j]
        if t.kind != "word" or t.low in AUXILIARIES or (t.verb and not (counted and j == k)):
            return None, j
        if t.low in ("more", "fewer", "less", "additional", "other", "different", "exact", "total", "of") or (
            t.kind == "num" or t.low in ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
        ):
            j += 1
            continue
        if t.lemma in ("kind", "type", "sort", "form") and j + 2 < len(tokens) and tokens[j + 1].low == "of":
            j += 2
            continue
        if t.low in STOPWORDS:
            return None, j
        # the noun may be preceded by adjectives: take the last word of a run of non-verbs
        end = j
        while (
            end + 1 < len(tokens)
            and tokens[end + 1].kind == "word"
            and tokens[end + 1].noun
            and ("NOUN" in tokens[end + 1].pos or not tokens[end + 1].pos)
            and "ADV" not in tokens[end + 1].pos  # "which brands now compete"
            and tokens[end + 1].low not in AUXILIARIES
            and end + 1 < k + 4
            and not _verb_form_after(tokens[end], tokens[end + 1], tokens[end + 2] if end + 2 < len(tokens) else None)
        ):
            end += 1
        return tokens[end].lemma, end + 1
    return None, j


def _verb_form_after(noun: Token, t: Token, following: Token | None = None) -> bool:
    """Whether a word that may be a noun or a verb is the verb after a noun: "area fell", "company makes"."""
    if "VERB" not in t.pos:
        return False
    if t.low == t.lemma:  # "rivers meet": a plural noun, then a verb that agrees with it
        return noun.low != noun.lemma and noun.low.endswith("s") and "NOUN" in noun.pos
    if not t.low.endswith("s"):
        return True  # a past form ("fell", "raised"), not a noun
    if following is not None and following.low in AUXILIARIES:
        return False  # "how many car brands are ...": a compound noun, its verb comes next
    # "company makes": a singular noun, then a verb that agrees with it ("overseas markets" is a noun phrase)
    return noun.low == noun.lemma and "NOUN" in noun.pos and not noun.pos & {"ADJ", "ADV"}


def _type_of_noun(noun: str | None) -> str:
    if not noun:
        return "entity"
    if noun in PERSON_NOUNS:
        return "person"
    if noun in NAME_NOUNS or noun in ("name", "title"):
        return "name"
    if noun in PLACE_NOUNS:
        return "place"
    if noun in TIME_NOUNS:
        return "date" if noun not in ("time", "hour") else "time"
    if noun in PERCENT_WORDS:
        return "percent"
    if noun in ("price", "cost", "amount", "value", "valuation", "salary", "fee", "revenue", "budget"):
        return "money"
    if noun in ("number", "count", "total"):
        return "count"
    if noun in ("reason", "cause", "purpose"):
        return "reason"
    return "entity"


def analyse(text: str) -> Question:
    """Work out what a question asks for.

    Args:
        text: The (resolved) question.

    Returns:
        The analysis: answer type, asked noun, weighted content terms, names, options.

    """
    tokens = tokenize(text)
    words = [t for t in tokens if t.kind in ("word", "num")]
    lows = [t.low for t in words]
    names = [n.text for n in find_names(tokens, text)]
    wh_i = next((i for i, t in enumerate(tokens) if t.low in WH_WORDS), -1)
    wh = tokens[wh_i].low if wh_i >= 0 else None
    head: str | None = None
    atype = "other"
    subject_wh = False
    plural = False
    stranded = stranded_preposition(words)
    if SUMMARY_RE.search(text):
        atype = "summary"
    elif lows and lows[0] in LIST_VERBS:
        atype, head = "list", _asked_noun(tokens, 1)[0]
    elif wh in ("who", "whom", "whose"):
        atype = "person"
        if wh_i + 2 < len(tokens) and tokens[wh_i + 1].low in COPULAS:
            head = _noun_after_copula(tokens, wh_i + 2)
        subject_wh = wh == "who" and wh_i + 1 < len(tokens) and tokens[wh_i + 1].low not in AUXILIARIES | COPULAS
        if wh_i > 0 and tokens[wh_i - 1].low in ("from", "to", "with", "by", "for", "against", "of", "about"):
            subject_wh = False  # "From who received a note?": the one it came from, not the one receiving
    elif wh == "when":
        atype = "date"
    elif wh == "where":
        atype = "place"
    elif wh == "why":
        atype = "reason"
    elif wh == "how":
        nxt = tokens[wh_i + 1].low if wh_i + 1 < len(tokens) else ""
        if nxt in HOW_ADJECTIVES:
            atype = HOW_ADJECTIVES[nxt]
            head, _ = _asked_noun(tokens, wh_i + 2, counted=nxt in ("many", "much"))
            if nxt in ("many", "much") and head in PERCENT_WORDS:
                atype = "percent"
            elif nxt == "much" and (head in MONEY_WORDS or set(lows) & MONEY_WORDS or SOLD_FOR.search(text)):
                atype = "money"
            elif nxt == "many" and head in TIME_UNITS:
                atype = "duration"
            if atype in ("size", "amount", "count") and any(t.lemma in PERCENT_WORDS - {"share"} for t in tokens):
                atype = "percent"  # "How big is X's stake?"
        else:
            atype = "manner"
    elif wh in ("what", "which"):
        head, after = _asked_noun(tokens, wh_i + 1)
        atype = _type_of_noun(head)
        if head in SPAN_NOUNS and any(t.lemma in MONEY_WORDS for t in tokens[wh_i + 1 : after]):
            atype = "money"  # "what price range", "what salary bracket"
        noun_tok = tokens[after - 1] if head and after - 1 < len(tokens) else None
        if noun_tok is not None and noun_tok.low != noun_tok.lemma and noun_tok.low.endswith("s"):
            plural = True
        if head is None and wh_i + 2 < len(tokens) and tokens[wh_i + 1].low in COPULAS and not stranded:
            # "What is the name of X's subsidiary?", "Who is the CEO of X?": the asked noun follows
            # (not in "What was X's flat near?": there the noun is the subject and "what" the object of "near")
            head = _noun_after_copula(tokens, wh_i + 2)
            if head in SPAN_NOUNS and any(t.lemma in MONEY_WORDS for t in tokens[wh_i + 2 :]):
                atype = "money"  # "What is the price bracket for X?"
            elif _type_of_noun(head) != "entity":
                atype = _type_of_noun(head)
            elif head in NUMERIC_NOUNS:
                atype = "number"  # "What was X's delivery total?"
            named = _named_noun(tokens, wh_i + 2) if head in ("name", "title") else None
            if named:  # "the name of the harbour authority" asks for a group's name, not a person's
                head = named
                atype = _type_of_noun(named) if _type_of_noun(named) in ("person", "place") else "name"
        if head is None:
            nxt = tokens[wh_i + 1].low if wh_i + 1 < len(tokens) else ""
            subject_wh = nxt not in AUXILIARIES | COPULAS
            does = [t for t in tokens[wh_i + 2 :] if t.low in ("do", "doing", "done")]
            atype = "action" if does or re.search(r"\b(?:do|did|does)\s*\??\s*$", text, re.I) else "entity"
        elif after < len(tokens) and tokens[after].low not in AUXILIARIES:
            subject_wh = True
    elif lows and lows[0] in AUXILIARIES:
        atype = "yesno"
    if atype == "date" and head in ("period", "time") and NEEDED.search(text):
        atype = "duration"  # "What is the time period needed to ...?" asks how long
    if wh == "what" and KNOWN_FOR.search(text):
        atype, head, subject_wh = "action", None, False  # "What is X known for?": what X did
    if atype == "other" or (atype == "entity" and head is None):
        # a telegraphic question ("changan investment amount?", "What will X cost?"): its words say what it wants
        lemmas = {t.lemma for t in tokens}
        if lemmas & MONEY_WORDS:
            atype = "money"
        elif lemmas & (PERCENT_WORDS - {"share"}):
            atype = "percent"
        elif lemmas & NUMERIC_NOUNS and re.match(r"(?i)\s*what\b", text):
            atype = "number"  # "What was X's delivery total?"
    kind_of = re.search(r"(?i)\b(?:kind|type|sort)s?\s+of\b", text)
    if plural and atype in ("name", "place", "entity", "person") and not kind_of:  # "what kinds of jobs": a kind
        atype, list_of = "list", atype
    else:
        list_of = ""
    options = either_or(text) if atype in ("yesno", "entity", "other") else []
    if options and atype == "yesno":
        atype = "choice"
    asked = {head} if head else set()
    terms = []
    name_words = {w.lower() for n in names for w in n.split()}
    for i, t in enumerate(tokens):
        after_how = i > 0 and tokens[i - 1].low == "how" and t.low in HOW_ADJECTIVES
        if not t.content or t.low in WH_WORDS or t.low in AUXILIARIES or after_how:
            continue
        is_name = t.low in name_words
        weight = 1.6 if is_name else (0.6 if t.lemma in asked else 1.0)
        terms.append(Term(t.key, t.text, weight, is_name))
        for word in RELATED.get(t.lemma, "").split():
            terms.append(Term(key(word), word, RELATED_WEIGHT, related=True))
    return Question(
        text=text,
        tokens=tokens,
        wh=wh,
        atype=atype,
        head=head,
        terms=terms,
        names=names,
        negated=any(t.low in NEGATIONS for t in tokens),
        options=options,
        wh_index=wh_i,
        subject_wh=subject_wh,
        summary_scope=summary_scope_of(text) if atype == "summary" else "",
        list_of=list_of,
        acronym=acronym_asked(text),
        stranded=stranded,
    )


def _noun_after_copula(tokens: list[Token], k: int) -> str | None:
    """The noun of "<wh> is the CEO of ...": skip determiners, take the first noun."""
    while k < len(tokens) and tokens[k].low in (
        "the",
        "a",
        "an",
        "this",
        "that",
        "his",
        "her",
        "their",
        "its",
        "my",
        "our",
        "your",
    ):
        k += 1
    n = k
    while n + 1 < len(tokens) and tokens[n].cap and tokens[n + 1].cap:
        n += 1  # "Ms. Hale's occupation": the whole name owns it
    if n + 1 < len(tokens) and tokens[n + 1].low in ("'s", "’s", "'", "’"):
        k = n + 2  # "X's delivery total", "the Joneses' brand": the owner is not the asked noun
    while k + 1 < len(tokens) and tokens[k + 1].kind == "word" and "NOUN" in tokens[k + 1].pos and tokens[k].noun:
        k += 1  # the last noun of "delivery total"
    while k + 1 < len(tokens) and (
        ("ADJ" in tokens[k].pos and "NOUN" not in tokens[k].pos) or _participle_before_noun(tokens[k], tokens[k + 1])
    ):
        k += 1  # "the strongest influence", "the combined stake"
    t = tokens[k] if k < len(tokens) else None
    if (
        t is not None
        and t.kind == "word"
        and t.low not in STOPWORDS
        and (not t.cap or (t.text.isupper() and len(t.text) <= 4))
    ):
        return t.lemma  # "the CEO", "the goalie"
    return None


def _participle_before_noun(t: Token, nxt: Token) -> bool:
    """Whether ``t`` is a participle that describes the noun after it ("the combined stake", "the expected price")."""
    return "VERB" in t.pos and t.low.endswith(("ed", "ing")) and nxt.kind == "word" and "NOUN" in nxt.pos


def _named_noun(tokens: list[Token], k: int) -> str | None:
    """The noun of "the name of the <noun>", or None."""
    lows = [t.low for t in tokens]
    for i in range(k, min(len(tokens) - 2, k + 4)):
        if lows[i] in ("name", "title") and lows[i + 1] == "of":
            return _noun_after_copula(tokens, i + 2)
    return None
