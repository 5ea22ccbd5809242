"""Word tables of question analysis: the nouns that say what kind of answer a question asks for.

Data, not code: ``bot.engine.question`` reads them to type a question ("what team" asks for a name,
"how many" for a count), and the extractors read them to fit candidates to the asked type.
"""

from __future__ import annotations

import re

from bot.language.quantities import CURRENCY_WORDS

# Nouns after "what/which" that ask for a kind of answer.
PERSON_NOUNS = frozenset(
    "person man woman people player coach actor actress author writer president leader chief director "
    "founder owner partner member official spokesman spokeswoman officer boy girl child son daughter "
    "father mother husband wife brother sister friend name character artist singer rapper musician "
    "manager executive ceo chairman governor senator candidate minister king queen prince princess judge "
    "lawyer doctor teacher student scientist professor reporter editor contributor settler resident "
    "citizen worker farmer soldier officer employee staff crew passenger victim survivor fan viewer voter "
    "buyer family journalist analyst historian economist spokesperson critic poet novelist composer producer "
    "photographer architect engineer designer researcher activist priest bishop".split()
)
PLACE_NOUNS = frozenset(
    "place city country state town village county region area province island continent street road "
    "building venue location neighborhood neighbourhood capital district nation site market markets".split()
)
TIME_NOUNS = frozenset("year date day month time century decade season period era week hour deadline".split())
# Nouns whose answers are proper names (organisations, works, products...).
NAME_NOUNS = frozenset(
    "company companies firm carmaker automaker maker manufacturer startup brand brands team club group "
    "organization organisation agency bank network channel show program programme series film movie book "
    "song album magazine newspaper paper publication website app product model party union alliance "
    "partner investor buyer seller supplier customer client rival competitor subsidiary unit division "
    "school university college hospital airline store shop restaurant hotel ship station court league "
    "tournament award prize festival band".split()
)
NUMERIC_NOUNS = frozenset(
    "sale sales traffic price cost subsidy median average number population rate record score salary "
    "revenue budget total amount circulation attendance figure percentage share age height weight "
    "distance speed value profit loss income wage fee fine toll count tally margin".split()
)
"""Nouns whose "what is X's <noun>?" asks for a number."""
SPAN_NOUNS = frozenset("range bracket band".split())
"""Nouns that, after a money word, ask for an amount or a range of amounts."""
# "how <adjective>" questions and the quantity kind they ask for.
HOW_ADJECTIVES = {
    "many": "count", "much": "amount", "long": "duration", "old": "age", "far": "distance", "big": "size",
    "large": "size", "tall": "size", "high": "size", "often": "frequency", "fast": "speed", "wide": "size",
    "deep": "size", "heavy": "size", "soon": "duration",
}  # fmt: skip
PERCENT_WORDS = frozenset({"percent", "percentage", "share", "proportion", "stake", "fraction", "ownership", "%"})
MONEY_WORDS = frozenset(
    "price cost costs pay paid worth value valuation money amount fee salary revenue budget invest "
    "investment spend spent raise raised fund funding".split()
) | frozenset(CURRENCY_WORDS)
# General English: question words and the words documents often use for them instead. Added to the
# question's terms at a lower weight; the sentence vectors carry the rest of the paraphrase.
RELATED = {
    "run": "chief executive ceo head lead leader president director manager founder chairman",
    "lead": "chief executive ceo head leader president director",
    "head": "chief executive ceo leader president director",
    "ceo": "chief executive", "boss": "chief executive ceo head",
    "buy": "acquire purchase", "purchase": "buy acquire", "acquire": "buy purchase",
    "car": "vehicle", "vehicle": "car", "sell": "deliver sale", "ship": "deliver shipment",
    "cost": "price", "price": "cost", "worth": "value valuation", "pay": "invest paid",
    "found": "establish", "start": "found launch", "die": "death kill", "kill": "death die",
    "partner": "with", "team": "with", "work": "with employ",
    "money": "invest raise fund", "write": "author writer", "author": "write wrote",
}  # fmt: skip
RELATED_WEIGHT = 0.5

COPULAS = frozenset({"is", "was", "are", "were", "'s", "’s", "'re", "’re"})
"""Forms of "be" after a question word, contracted ones included ("who's", "what're")."""

SOLD_FOR = re.compile(
    r"\b(?:sell|sells|sold|selling|go|goes|went|rent|rents|rented|auctioned|charge[ds]?)\s+for\b", re.I
)
"""How-much questions about a price without a money word ("How much do the posters sell for?")."""
NEEDED = re.compile(r"\b(?:needed|required|necessary|takes?|took|lasts?|lasted)\b", re.I)
"""Words that make a time noun ask for a length of time ("the time period needed")."""
KNOWN_FOR = re.compile(r"\b(?:known|famous|noted|remembered|renowned|celebrated)\s+for\s*[?.!]*\s*$", re.I)
"""Questions asking what someone did to be known ("What is X known for?")."""

DETERMINERS = frozenset("the a an this that his her their its my our your".split())
