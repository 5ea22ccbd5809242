"""Numeric facts with provenance: every quantity in a document, what it measures and whose it is.

:func:`extract_facts` turns a document into :class:`~bot.models.Fact` records: the value
normalised (``12,345`` -> 12345, ``2.5 billion`` -> 2.5e9, ``five`` -> 5, ``10 percent`` ->
0.10, ``200,000–300,000`` -> low/high), its kind and unit/currency, the clause subject it
belongs to, the measure (a lemma such as ``deliver``, ``stake``, ``invest``), the object
(``stake in X``), the stated period, exact character spans, and links between the two halves
of a currency pair (``100 euros (about 86 pounds)``).

Library choice
--------------
* **Numbers written as words** (``five``, ``twenty-one``, ``two million``) are parsed with
  `number-parser <https://pypi.org/project/number-parser/>`_ (pure Python, maintained by
  Scrapinghub, tiny install, already in the environment). Plain words up to ninety-nine use a
  tiny table; only compounds (``two million``) call number-parser, lazily imported and cached,
  because each new phrase costs it ~2 ms.
* **Everything else is a regex + lexicon extractor written here**, because no well-kept library
  gives what the contract needs - exact spans, ranges, currency pairs *and* clause-level
  subject attribution - at an acceptable cost:

  - ``quantulum3``'s bundled classifier no longer unpickles with current scikit-learn
    (``No module named '_loss'``); it also pulls scikit-learn/inflect and knows nothing about
    whose quantity a number is.
  - spaCy would give a real dependency parse, but the English model ``en_core_web_sm`` is only
    on PyPI as an unofficial re-upload (supply-chain risk) and loading it costs ~0.5 s and
    ~50 MB per process, far above the indexing budget (< 50 ms per document).
  - ``word2number`` handles only English words and raises on anything else; number-parser
    returns ``None`` instead, which suits scanning.

  The extractor is deliberately *generic*: the lexicons below hold only general English
  (measure verbs/nouns, prepositions, time words) and general currency knowledge. No entity,
  figure or unit from any particular document is encoded.

Subject attribution is heuristic and clause-level: sentences are split into clauses at
``;`` / ``, and|but|while ...`` (when the remainder looks like a clause) and after reporting
verbs (``sources say ...``); the subject is the first capitalised noun phrase of the clause that
is not governed by a preposition, after dropping introductory phrases (``In 2024, ...``),
datelines (``BEIJING - ...``), parentheticals (kept as aliases: ``Alliance (ABC)``) and
appositives (``X, through the Y brand, ...`` -> alias Y). Further general rules:

* A capitalised *common* word opening a clause is not a name (``Average cell prices fell ...``,
  ``Grid-scale battery storage grew ...``, ``Developers have ...``): an English word (the embedding
  model's WordPiece vocabulary, :func:`bot.understand.english_words`) never capitalised mid-sentence in
  the document, when it is a plural noun or the next word is a lower-case non-verb. The subject is then
  None rather than a wrong name. Leading months are skipped (``In September Kestrel raised ...``).
* ``, which/who <verb> N`` starts a clause whose subject is the name just before the comma; a
  ``by X`` agent counts only when no preposition separates it from the quantity (``1,500 engineers
  were hired by X``, not ``raised 3 billion in a round led by X``); ``X, a 420 MWh plant`` -> X;
  ``compared with N for X's ...`` -> X with the compared figure's measure; ``a stake in the company``
  -> the object is the sentence's (or previous sentence's) main subject.
* Changes: ``rose to X from Y``, ``X ..., up/down from Y``, ``from Y ... to X`` -> roles ``to`` / ``from``
  with the same subject, measure and unit (the halves of a currency pair share the role); a relative
  period after the older value (``a year earlier``) is not given to the newer one.
* Units: spelled-out energy/power units map to their symbols (``megawatt-hours`` -> ``MWh``, kind
  ``other`` like every physical unit), compound units are kept (``watt-hours per kilogram`` ->
  ``Wh/kg``), and a unit followed by a parenthesised abbreviation (``flight-hours (FH)``) is written as
  that abbreviation throughout the document, so both halves of a change compare.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass, field
from difflib import get_close_matches
from functools import lru_cache

from bot.models import Fact, FactKind
from bot.split import sentence_spans

# --------------------------------------------------------------------------- lexicons


def _split(words: str, sep: str | None = None) -> list[str]:
    return words.split(sep)


_SCALES = {
    "thousand": 1e3,
    "k": 1e3,
    "lakh": 1e5,
    "million": 1e6,
    "mn": 1e6,
    "m": 1e6,
    "crore": 1e7,
    "billion": 1e9,
    "bn": 1e9,
    "b": 1e9,
    "trillion": 1e12,
    "tn": 1e12,
}
_SHORT_SCALES = {"k", "m", "b"}  # only trusted right after a currency symbol ("$5m")

_NUMBER_WORDS = _split(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety "
    "hundred thousand million billion trillion"
)

# Symbol or code written before the number -> (ISO code, plain unit word).
_CURRENCY_PREFIXES: dict[str, tuple[str, str]] = {
    "US$": ("USD", "U.S. dollars"),
    "U.S.$": ("USD", "U.S. dollars"),
    "HK$": ("HKD", "Hong Kong dollars"),
    "NT$": ("TWD", "New Taiwan dollars"),
    "A$": ("AUD", "Australian dollars"),
    "C$": ("CAD", "Canadian dollars"),
    "S$": ("SGD", "Singapore dollars"),
    "R$": ("BRL", "reais"),
    "$": ("USD", "dollars"),
    "€": ("EUR", "euros"),
    "£": ("GBP", "pounds"),
    "¥": ("CNY", "yuan"),  # re-mapped to JPY when a document talks about yen and not yuan
    "₹": ("INR", "rupees"),
    "₩": ("KRW", "won"),
    "₽": ("RUB", "rubles"),
    "Rs.": ("INR", "rupees"),
    "Rs": ("INR", "rupees"),
}
_ISO_CODES = {
    "USD": "U.S. dollars",
    "EUR": "euros",
    "GBP": "pounds",
    "CNY": "yuan",
    "RMB": "yuan",
    "JPY": "yen",
    "KRW": "won",
    "INR": "rupees",
    "CHF": "Swiss francs",
    "HKD": "Hong Kong dollars",
    "AUD": "Australian dollars",
    "CAD": "Canadian dollars",
    "SGD": "Singapore dollars",
    "TWD": "New Taiwan dollars",
    "RUB": "rubles",
    "BRL": "reais",
    "SEK": "kronor",
    "NOK": "kroner",
    "DKK": "kroner",
    "PLN": "zloty",
    "TRY": "lira",
    "ZAR": "rand",
    "MXN": "pesos",
    "AED": "dirhams",
    "SAR": "riyals",
    "THB": "baht",
    "MYR": "ringgit",
    "IDR": "rupiah",
    "VND": "dong",
}
# Currency names written after the number (longest first when compiled) -> ISO code.
_CURRENCY_NAMES: dict[str, str] = {
    "u.s. dollars": "USD",
    "u.s. dollar": "USD",
    "us dollars": "USD",
    "us dollar": "USD",
    "american dollars": "USD",
    "dollars": "USD",
    "dollar": "USD",
    "hong kong dollars": "HKD",
    "australian dollars": "AUD",
    "canadian dollars": "CAD",
    "singapore dollars": "SGD",
    "new taiwan dollars": "TWD",
    "chinese yuan": "CNY",
    "yuan": "CNY",
    "renminbi": "CNY",
    "euros": "EUR",
    "euro": "EUR",
    "pounds sterling": "GBP",
    "british pounds": "GBP",
    "pounds": "GBP",
    "pound": "GBP",
    "sterling": "GBP",
    "japanese yen": "JPY",
    "yen": "JPY",
    "south korean won": "KRW",
    "korean won": "KRW",
    "won": "KRW",
    "indian rupees": "INR",
    "rupees": "INR",
    "rupee": "INR",
    "swiss francs": "CHF",
    "francs": "CHF",
    "rubles": "RUB",
    "roubles": "RUB",
    "reais": "BRL",
    "kronor": "SEK",
    "krona": "SEK",
    "zloty": "PLN",
    "lira": "TRY",
    "pesos": "MXN",
    "dirhams": "AED",
    "riyals": "SAR",
    "baht": "THB",
    "ringgit": "MYR",
    "rupiah": "IDR",
}
_CURRENCY_ALIASES = {"rmb": "CNY", "cny": "CNY", "¥": "CNY", "$": "USD", "us$": "USD", "€": "EUR", "£": "GBP"}

# Physical / technical units (case-sensitive where case matters: MW vs mW).
_MEASUREMENT_UNITS = _split(
    "TWh|GWh|MWh|kWh|Wh|TW|GW|MW|kW|mAh|Ah|km/h|mph|km|kilometres|kilometers|kilometre|kilometer|miles|mile|"
    "square metres|square meters|sq ft|hectares|acres|tonnes|tons|tonne|ton|kg|kilograms|grams|litres|liters|"
    "gallons|barrels|bpd|cubic metres|cubic meters|nanometres|nanometers|nm",
    "|",
)
# Spelled-out energy and power units -> their usual symbol, so that "1,450 megawatt-hours" and "900 MWh"
# carry the same unit (general SI knowledge, like the currency tables above).
_UNIT_SYMBOLS: dict[str, str] = {
    f"{prefix}{base}{plural}": f"{symbol}{base_symbol}"
    for prefix, symbol in (("", ""), ("kilo", "k"), ("mega", "M"), ("giga", "G"), ("tera", "T"))
    for base, base_symbol in (("watt-hour", "Wh"), ("watt hour", "Wh"), ("watt", "W"))
    for plural in ("s", "")
}
_UNIT_SYMBOLS.update({"watt-hours": "Wh", "watt-hour": "Wh"})
# Denominators of compound units ("watt-hours per kilogram", "Wh/kg").
_PER_UNITS: dict[str, str] = {
    "kg": "kg",
    "kilogram": "kg",
    "km": "km",
    "kilometre": "km",
    "kilometer": "km",
    "h": "h",
    "hour": "h",
    "l": "L",
    "L": "L",
    "litre": "L",
    "liter": "L",
    "m2": "m2",
    "m²": "m²",
}
_TIME_UNITS = _split("years year months month weeks week days day hours hour minutes minute decades decade quarters")

_MONTHS = _split(
    "January February March April May June July August September October November December "
    "Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec"
)
_WEEKDAYS = _split("Monday Tuesday Wednesday Thursday Friday Saturday Sunday")

# Surface form -> measure lemma. General business English, nothing document-specific.
_MEASURE_FORMS: dict[str, tuple[str, ...]] = {
    "deliver": ("deliver", "delivers", "delivered", "delivering", "delivery", "deliveries"),
    "ship": ("ship", "ships", "shipped", "shipping", "shipment", "shipments"),
    "sell": ("sell", "sells", "sold", "selling", "sale", "sales"),
    "produce": (
        "produce",
        "produces",
        "produced",
        "producing",
        "production",
        "output",
        "manufacture",
        "manufactured",
        "manufactures",
        "manufacturing",
        "make",
        "makes",
        "made",
    ),
    "invest": ("invest", "invests", "invested", "investing", "investment", "investments", "inject", "injected"),
    "pay": ("pay", "pays", "paid", "paying", "payment", "payments", "spend", "spends", "spent", "spending"),
    "acquire": (
        "acquire",
        "acquires",
        "acquired",
        "acquisition",
        "buy",
        "buys",
        "bought",
        "purchase",
        "purchased",
        "purchases",
    ),
    "price": ("price", "prices", "priced", "pricing", "cost", "costs", "costing", "segment"),
    "revenue": ("revenue", "revenues", "turnover"),
    "profit": ("profit", "profits", "earnings", "earned", "earn", "earns"),
    "stake": (
        "stake",
        "stakes",
        "ownership",
        "equity",
        "holding",
        "holdings",
        "share",
        "shares",
        "own",
        "owns",
        "owned",
        "hold",
        "holds",
        "held",
    ),
    "market share": ("market share",),
    "employ": ("employ", "employs", "employed", "employees", "employee", "staff", "workforce", "headcount", "workers"),
    "capacity": ("capacity", "capacities"),
    "valuation": ("valuation", "valued"),
    "value": ("value", "worth"),
    "raise": ("raise", "raises", "raised", "raising", "funding", "financing"),
    "increase": (
        "increase",
        "increases",
        "increased",
        "grow",
        "grows",
        "grew",
        "growth",
        "rise",
        "rises",
        "rose",
        "risen",
        "gain",
        "gained",
        "gains",
        "jump",
        "jumped",
        "climb",
        "climbed",
        "surge",
        "surged",
        "up",
        "expand",
        "expanded",
        "expands",
        "expanding",
        "expansion",
        "boost",
        "boosted",
        "double",
        "doubled",
    ),
    "decrease": (
        "decrease",
        "decreases",
        "decreased",
        "decline",
        "declined",
        "declines",
        "fall",
        "falls",
        "fell",
        "drop",
        "dropped",
        "drops",
        "cut",
        "cuts",
        "reduce",
        "reduced",
        "shrank",
        "down",
    ),
    "build": ("build", "builds", "built", "construct", "constructed", "open", "opened", "opens"),
    "operate": ("operate", "operates", "operated", "run", "runs"),
}
_LEMMA: dict[str, str] = {form: lemma for lemma, forms in _MEASURE_FORMS.items() for form in forms}
_CHANGE_MEASURES = {"increase", "decrease"}
# Words that name a price band rather than a quantity of their own.
_PRICE_BAND_NOUNS = {"segment", "range", "bracket", "band", "class", "tier"}

_PREPOSITIONS = set(
    _split(
        "in of to with through from by for at on into onto than as like including between among under against over "
        "via across about within without toward towards behind beyond per versus vs after before during since until "
        "around near alongside amid despite unlike besides except upon"
    )
)
_DETERMINERS = set(_split("the a an its their his her our this that these those such"))
_STOPWORDS = (
    _PREPOSITIONS
    | _DETERMINERS
    | set(
        _split(
            "and or but nor so yet is are was were be been being has have had will would can could may might "
            "must should shall do does did not no which who whom whose what when where while that than also just "
            "only even more most less least each every all some any both either neither other another it they he "
            "she we you i them him percent per cent"
        )
    )
)
# Capitalised words that start sentences but are not names.
_NON_NAMES = {w.capitalize() for w in _STOPWORDS} | set(
    _split(
        "However Still Meanwhile Instead Also Although While Though Because Since If When After Before As Once Unless "
        "Whereas Both Many Most Some All Each Every Other Another Further Furthermore Moreover Additionally Overall "
        "Now Then Today Yesterday Tomorrow Last Next First Second Third Finally Here There We They It He She I You "
        "Yes No Not Despite Given Under Against Across Following According Amid Like Unlike Including Industry "
        "Analysts Experts Sources Officials Consumers Customers Investors Shareholders"
    )
)
_DETERMINERS_CAP = {w.capitalize() for w in _DETERMINERS}
_REPORTING = r"(?:says?|said|reported|reports|noted|notes|stated|states|estimated|estimates|believes?|added|adds)"
_SUBORDINATORS = "While|Although|Though|Because|Since|If|When|Whereas|After|Before|Once|Unless"
_BOUND_LOWER = r"(?:more than|over|above|at least|exceeding|in excess of|upwards of|no less than|north of)"
_BOUND_UPPER = r"(?:less than|fewer than|under|below|up to|at most|no more than|as much as|as many as)"
_APPROX = r"(?:about|approximately|approx\.|around|roughly|nearly|almost|some|close to|an estimated|estimated|~|≈)"

# --------------------------------------------------------------------------- regexes

_DIG = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_WORD = "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
_WORDNUM = rf"(?i:\b(?:{_WORD})(?:(?:-|\s+)(?:{_WORD}))*\b)"
_CUR_PRE = (
    "(?:"
    + "|".join(re.escape(k) for k in sorted(_CURRENCY_PREFIXES, key=len, reverse=True))
    + "|(?:"
    + "|".join(_ISO_CODES)
    + r")\s?)"
)
_SCALE = r"(?:\s*(?:thousand|million|billion|trillion|lakh|crore)\b|\s?(?:bn|mn|tn)\b|(?:k|m|b)\b)"
_ATOM = rf"(?:{_CUR_PRE})?(?:{_DIG}|{_WORDNUM})(?:{_SCALE})?"
_ATOM_RE = re.compile(rf"(?P<cur>{_CUR_PRE})?(?P<num>{_DIG}|{_WORDNUM})(?P<scale>{_SCALE})?")
_MENTION_RE = re.compile(
    rf"""(?<![\w.,$€£¥/])
    (?:
        (?P<between>between\s+)(?P<a1>{_ATOM})(?:\s*%)?\s+and\s+(?P<b1>{_ATOM})
      | (?P<a2>{_ATOM})(?P<apct>\s*%)?(?P<conn>\s*[–—]\s*|(?<=\d)\s*-\s*(?=[\d$€£¥])|\s+to\s+)
        (?(apct)(?!{_CUR_PRE}))(?P<b2>{_ATOM})
      | (?P<a3>{_ATOM})
    )(?![\w])""",
    re.VERBOSE,
)
_VAGUE_RE = re.compile(
    r"\b(?P<mult>(?:tens|hundreds)\s+of\s+)?(?P<num>thousands|millions|billions|trillions)\s+of\b", re.IGNORECASE
)
_PCT_RE = re.compile(
    r"\s*(?P<u>%|percent\b|per\s+cent\b|pct\b|percentage\s+points?\b|basis\s+points?\b|bps\b)", re.IGNORECASE
)
_CUR_SUFFIX_RE = re.compile(
    r"\s*(?:of\s+)?(?P<u>"
    + "|".join(re.escape(k) for k in sorted(_CURRENCY_NAMES, key=len, reverse=True))
    + r")(?![\w])|\s*(?P<code>"
    + "|".join(_ISO_CODES)
    + r")\b",
    re.IGNORECASE,
)
_MEAS_UNIT_RE = re.compile(
    r"\s*-?\s*(?:of\s+)?(?P<u>"
    + "|".join(re.escape(u) for u in sorted([*_MEASUREMENT_UNITS, *_UNIT_SYMBOLS], key=len, reverse=True))
    + r")(?![\w-])(?:(?:\s*/\s*|\s+per\s+)(?P<den>"
    + "|".join(re.escape(u) for u in sorted(_PER_UNITS, key=len, reverse=True))
    + r")(?![\w/]))?"
)
# "1,450 megawatt-hours (MWh)": a parenthesised abbreviation right after a unit names the same unit.
_UNIT_ABBR_RE = re.compile(r"\s*\((?P<abbr>[A-Za-z][\w/²³]{0,7})\)")
_TIME_UNIT_RE = re.compile(r"\s*-?\s*(?P<u>" + "|".join(_TIME_UNITS) + r")\b", re.IGNORECASE)
_RATIO_RE = re.compile(r"\s*(?P<u>times\b|-?fold\b|x\b)", re.IGNORECASE)
_WORD_RE = re.compile(r"\s+(?P<w>[A-Za-z][A-Za-z’'-]*)")

_MONTH_ALT = "|".join(_MONTHS)
_PERIOD_RE = re.compile(
    rf"""\b(?P<p>
        (?:first|second|third|fourth|1st|2nd|3rd|4th|final|last)\s+quarter(?:\s+of\s+(?:19|20)\d\d)?
      | Q[1-4](?:\s*(?:19|20)\d\d)?
      | (?:first|second)\s+half(?:\s+of\s+(?:19|20)\d\d)?
      | H[12](?:\s*(?:19|20)\d\d)?
      | first\s+\w+\s+months(?:\s+of\s+(?:19|20)\d\d)?
      | (?:{_MONTH_ALT})\.?(?:\s+\d{{1,2}})?(?:,?\s+(?:19|20)\d\d)?
      | (?:fiscal\s+(?:year\s+)?|FY\s?)(?:19|20)?\d\d
      | (?:last|this|next|previous|past)\s+(?:year|quarter|month|week)
      | year[- ]to[- ]date
      | (?:a\s+)?year\s+(?:earlier|ago|before)
      | (?:19|20)\d\d
    )\b""",
    re.VERBOSE,
)
_NAME_TOKEN = r"[“\"‘]?(?:[A-Z][\w&.’'-]*|\d+[A-Z][\w-]*)[”\"’]?"
_NP_RE = re.compile(rf"{_NAME_TOKEN}(?:\s+(?:(?:of|de|and|&)\s+)?{_NAME_TOKEN})*")
_VERBISH_RE = re.compile(
    r"\b(?:is|are|was|were|be|been|has|have|had|will|would|can|could|may|might|must|should|shall|do|does|did|"
    r"[a-z]{3,}ed)\b"
)
_CLAUSE_START_RE = re.compile(rf"[“\"]?[A-Z][\w’'-]*(?:\s+(?:[A-Z][\w’'-]*|{_DIG}))*\s+(?:also\s+)?[a-z]")
_COORD_RE = re.compile(r";\s+|,\s+(?:and|but|while|whereas|yet|so|although|though)\s+")
_REPORT_RE = re.compile(rf"\b{_REPORTING}\s+(?:that\s+)?(?=[“\"]?[A-Z])")
_DATELINE_RE = re.compile(r"^[A-Z][\w.’'-]*(?:[ ,]+[A-Z][\w.’'-]*)*\s*(?:\([^)]*\)\s*)?[-–—]+\s+")
_INTRO_RE = re.compile(
    r"\s*(?:(?:in|on|at|for|under|against|with|by|as|from|during|after|before|despite|unlike|like|amid|among|"
    r"following|according\s+to|meanwhile|however|still|instead|also|overall|moreover|furthermore|additionally|"
    r"for\s+instance|for\s+example|in\s+addition|as\s+for|regarding)\b[^,;]*?),\s+",
    re.IGNORECASE,
)
_ORG_NOUNS = (
    r"company|firm|group|carmaker|automaker|maker|manufacturer|producer|supplier|business|startup|brand|"
    r"bank|lender|insurer|retailer|operator|developer|conglomerate|corporation|giant|unit|subsidiary"
)
_PRONOUN_RE = re.compile(
    rf"\s*(?:it|its|they|their|he|she|(?-i:[Tt]he)\s+(?:[A-Za-z-]+\s+){{0,3}}?(?:{_ORG_NOUNS}))\b", re.IGNORECASE
)
_MAY_HAVE_NUMBER_RE = re.compile(rf"\d|(?i:\b(?:{_WORD})\b|illions\s+of)")
_FIRST_VERB_RE = re.compile(
    _VERBISH_RE.pattern
    + "|"
    + r"\b(?:"
    + "|".join(sorted((w for w in _LEMMA if " " not in w), key=len, reverse=True))
    + r")\b"
)
_DATE_CONTEXT_RE = re.compile(
    r"(?:\b(?:in|since|by|from|to|until|through|during|of|for|early|late|mid|fiscal|FY|year|before|after|"
    + "|".join(_MONTHS)
    + r")|,|-)\s*$",
    re.IGNORECASE,
)
_APPROX_BEFORE_RE = re.compile(rf"(?:\b|^|\(){_APPROX}\s*$", re.IGNORECASE)
_LOWER_BEFORE_RE = re.compile(rf"\b{_BOUND_LOWER}\s*$", re.IGNORECASE)
_UPPER_BEFORE_RE = re.compile(rf"\b{_BOUND_UPPER}\s*$", re.IGNORECASE)
_ABOUT_RE = re.compile(rf"\s*(?i:for|as\s+for|regarding)\s+({_NP_RE.pattern}),\s+")
_BY_AGENT_RE = re.compile(rf"\bby\s+(?:the\s+)?({_NP_RE.pattern})")
_OBJECT_RE = re.compile(rf"\b(?:in|of|into|for)\s+(?:the\s+|a\s+|an\s+)?({_NP_RE.pattern})")
_PAIR_GAP_RE = re.compile(
    rf"\s*(?:\(|\[|,|/|or\b|or\s+)?\s*(?:or\s+)?(?:{_APPROX}|equivalent\s+to|equal\s+to)?\s*", re.IGNORECASE
)
_RELATIVE_RE = re.compile(r",\s+(?=(?:which|who)\s)")
_RELATIVE_START_RE = re.compile(r"(?:which|who)\s")
_APPOSITIVE_RE = re.compile(rf"(?<![\w’'-])(?:{_NP_RE.pattern}),\s+an?\s+(?:(?i:{_APPROX})\s+)?$")
_ORG_OBJECT_RE = re.compile(
    rf"\b(?:in|of|into)\s+(?:the|its|their)\s+(?:[a-z-]+\s+){{0,2}}?(?:{_ORG_NOUNS})\b", re.IGNORECASE
)
_ADVERBS = set(_split("now still also already recently currently previously then again once jointly together"))
_IRREGULAR_PAST = set(
    _split(
        "sold grew fell rose made held built paid spent bought won lost took gave kept began became ran led set hit "
        "put sent lent brought told found got saw said left meant cut shrank sank swung drew threw wrote bore"
    )
)
_FROM_BEFORE_RE = re.compile(rf"\bfrom\s+(?:{_APPROX}\s+)?$", re.IGNORECASE)
_TO_BEFORE_RE = re.compile(rf"\bto\s+(?:{_APPROX}\s+)?$", re.IGNORECASE)
_CHANGE_FROM_RE = re.compile(
    rf"\b(?:up|down|higher|lower|rising|falling|increasing|decreasing|growing|shrinking|climbing|dropping)"
    rf"\s+from\s+(?:{_APPROX}\s+)?$",
    re.IGNORECASE,
)
_COMPARED_BEFORE_RE = re.compile(rf"\b(?:compared\s+(?:with|to)|versus|vs\.?)\s+(?:{_APPROX}\s+)?$", re.IGNORECASE)
_PAST_PERIOD_RE = re.compile(r"\b(?:earlier|ago|before|previous|prior|last)\b", re.IGNORECASE)
_NOUN_OF_RE = re.compile(rf"\b([a-z][a-z-]+)\s+of\s+(?:{_APPROX}\s+)?$")
_QUANTIFIER_NOUNS = set(
    _split("total number sum amount figure tally count one none all most some each many part majority minority lot")
)
_TAIL_WORD_RE = re.compile(r"\s+([a-z][a-z-]*)\b")
_TAIL_STOPS = set(
    _split("last next this year years quarter quarters month months week weeks ago earlier later today alone")
)
_MID_CAP_RE = re.compile(r"(?<=[a-z0-9,;:%)]) +([A-Z][A-Za-z-]*)")


# --------------------------------------------------------------------------- data


@dataclass
class _Mention:
    """A quantity found in a sentence, offsets relative to the sentence."""

    start: int
    end: int
    qstart: int
    qend: int
    value: float | None
    low: float | None = None
    high: float | None = None
    kind: FactKind = "other"
    unit: str | None = None
    currency: str | None = None
    role: str | None = None
    approximate: bool = False
    measure: str | None = None
    subject: str | None = None
    aliases: list[str] = field(default_factory=list)
    object: str | None = None
    period: str | None = None
    paired: int | None = None


@dataclass
class _Doc:
    """Document-level context shared while scanning sentences."""

    text: str
    source: str
    lower_words: set[str]
    yen_not_yuan: bool
    sentences: list[tuple[int, int]] = field(default_factory=list)
    index: int = 0  # sentence being read
    subjects: dict[int, str | None] = field(default_factory=dict)  # memo of main subjects, by sentence
    mid_caps: set[str] = field(default_factory=set)  # lower-cased words written capitalised mid-sentence
    unit_abbr: dict[str, str] = field(default_factory=dict)  # unit as written -> its abbreviation, "foo-hours": "FH"
    abbr_kinds: dict[str, FactKind] = field(default_factory=dict)  # abbreviation -> kind of its unit


# --------------------------------------------------------------------------- public API


def extract_facts(text: str, source: str) -> list[Fact]:
    """Extract every quantity mentioned in a document as a :class:`Fact`.

    Args:
        text: The full document text; all offsets index into it.
        source: The document's name, stored on each fact and hashed into its id.

    Returns:
        Facts in document order. ``text[f.start:f.end] == f.text`` and
        ``text[f.sentence_start:f.sentence_end] == f.sentence`` for every fact.

    Example:
        >>> [f.value for f in extract_facts("Acme sold 1,200 cars in May.", "a.txt")]
        [1200.0]

    """
    if not text or not text.strip():
        return []
    lowered = text.lower()
    doc = _Doc(
        text=text,
        source=source,
        lower_words=set(re.findall(r"\b[a-z][a-z’'-]*\b", text)),
        yen_not_yuan="yen" in lowered and "yuan" not in lowered and "rmb" not in lowered,
        mid_caps={m.group(1).lower() for m in _MID_CAP_RE.finditer(text)},
    )
    doc.sentences = sentence_spans(text)
    found: list[tuple[int, int, list[_Mention]]] = []
    for i, (s_start, s_end) in enumerate(doc.sentences):
        doc.index = i
        found.append((s_start, s_end, _sentence_mentions(doc, s_start, s_end)))
    facts: list[Fact] = []
    for s_start, s_end, mentions in found:
        sent = text[s_start:s_end]
        if doc.unit_abbr:
            _apply_abbreviations(doc, sent, mentions)
        facts.extend(_to_facts(doc, sent, s_start, s_end, mentions))
    return facts


def currency_code(name: str) -> str | None:
    """Map a currency name, symbol or code to its ISO 4217 code.

    Args:
        name: E.g. ``"yuan"``, ``"RMB"``, ``"U.S. dollars"``, ``"$"``, ``"eur"``.

    Returns:
        The ISO code, or None when the name is not a known currency.

    """
    key = " ".join(name.strip().lower().replace("us.", "u.s.").split())
    if not key:
        return None
    if key.upper() in _ISO_CODES:
        return "CNY" if key.upper() == "RMB" else key.upper()
    if key in _CURRENCY_ALIASES:
        return _CURRENCY_ALIASES[key]
    if key in _CURRENCY_NAMES:
        return _CURRENCY_NAMES[key]
    if key.endswith("s") and key[:-1] in _CURRENCY_NAMES:
        return _CURRENCY_NAMES[key[:-1]]
    if key + "s" in _CURRENCY_NAMES:
        return _CURRENCY_NAMES[key + "s"]
    for prefix, (code, _) in _CURRENCY_PREFIXES.items():
        if key == prefix.lower():
            return code
    return None


def measure_lemma(word: str, fuzzy: bool = False) -> str:
    """Reduce a measure word to its lemma: ``deliveries``/``delivered`` -> ``deliver``.

    Known business words map through a small lexicon; other words get a light
    suffix-stripping so that the same function normalises facts and queries alike.

    Args:
        word: A word or short phrase.
        fuzzy: Also map near-misses of lexicon words (``delivries``), for user queries.

    Returns:
        The lemma (lower case); the input lower-cased when nothing applies.

    """
    w = " ".join(word.lower().strip().split())
    if w in _LEMMA:
        return _LEMMA[w]
    for suffix, repl in (("ies", "y"), ("ied", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            stem = w[: -len(suffix)] + repl
            for cand in (stem, stem + "e", stem[:-1] if len(stem) > 3 and stem[-1] == stem[-2] else stem):
                if cand in _LEMMA:
                    return _LEMMA[cand]
            if suffix == "s" and w.endswith(("ss", "us", "is")):
                return w
            return _close_lemma(w) if fuzzy else stem
    return _close_lemma(w) if fuzzy else w


def _close_lemma(word: str) -> str:
    close = get_close_matches(word, _LEMMA.keys(), n=1, cutoff=0.85) if len(word) >= 5 else []
    return _LEMMA[close[0]] if close else measure_lemma(word)


# --------------------------------------------------------------------------- sentences


# --------------------------------------------------------------------------- mentions


_SMALL_NUMBERS = {w: i for i, w in enumerate(_NUMBER_WORDS[:20])} | {
    w: 20 + 10 * i for i, w in enumerate(_NUMBER_WORDS[20:28])
}


@lru_cache(maxsize=4096)
def _word_number(words: str) -> float | None:
    low = words.lower()
    parts = low.split("-")
    # Fast path for "five", "twenty-one" (number-parser costs ~2 ms per new phrase).
    if len(parts) == 1 and low in _SMALL_NUMBERS:
        return float(_SMALL_NUMBERS[low])
    if len(parts) == 2 and parts[0] in _SMALL_NUMBERS and parts[1] in _SMALL_NUMBERS and _SMALL_NUMBERS[parts[1]] < 10:
        return float(_SMALL_NUMBERS[parts[0]] + _SMALL_NUMBERS[parts[1]])
    try:
        from number_parser import parse_number  # lazy: only compound phrases ("two million") pay the import
    except ImportError:  # optional at run time: without it such phrases are simply not extracted
        return None
    value = parse_number(low)
    return float(value) if value is not None else None


def _atom_value(atom: str, has_currency_context: bool) -> tuple[float | None, bool]:
    """Value of one number atom and whether it carried a scale word."""
    m = _ATOM_RE.fullmatch(atom)
    if not m:
        return None, False
    num = m.group("num")
    if num[0].isdigit():
        value: float | None = float(num.replace(",", ""))
    else:
        value = _word_number(num)
    scale = (m.group("scale") or "").strip().lower()
    if value is None:
        return None, False
    if scale:
        if scale in _SHORT_SCALES and not (m.group("cur") or has_currency_context):
            return None, False
        value *= _SCALES[scale]
    return value, bool(scale)


def _find_mentions(doc: _Doc, sent: str) -> list[_Mention]:
    out: list[_Mention] = []
    pos = 0
    while (m := _MENTION_RE.search(sent, pos)) is not None:
        mention = _mention_from_match(doc, sent, m)
        if mention is None and m.group("a2"):
            # not a range after all ("from 3 plants in 2023 to 5 plants"): read the first number alone
            m = _MENTION_RE.match(sent, m.start(), m.end("a2")) or m
            mention = _mention_from_match(doc, sent, m)
        if mention is not None:
            out.extend(mention)
        pos = max(m.end(), pos + 1)
    taken = [(x.qstart, x.qend) for x in out]
    for m in _VAGUE_RE.finditer(sent):
        if not any(a <= m.start() < b for a, b in taken):
            vague = _vague_mention(doc, sent, m)
            if vague:
                out.append(vague)
    out.sort(key=lambda x: x.start)
    return out


def _mention_from_match(doc: _Doc, sent: str, m: re.Match[str]) -> list[_Mention] | None:
    if m.group("a1"):
        a, b, a_key, b_key = m.group("a1"), m.group("b1"), "a1", "b1"
    elif m.group("a2"):
        a, b, a_key, b_key = m.group("a2"), m.group("b2"), "a2", "b2"
    else:
        a, b, a_key, b_key = m.group("a3"), None, "a3", None
    a_start = m.start(a_key)
    a_cur = _ATOM_RE.fullmatch(a)
    num_start = a_start + (len(a_cur.group("cur")) if a_cur and a_cur.group("cur") else 0)
    prefix = sent[:a_start]
    hyphen_word = re.search(r"([A-Za-z]+)-$", prefix)
    if hyphen_word and hyphen_word.group(1).lower() not in {"sub", "mid", "pre", "post", "over", "under"}:
        return None  # part of an identifier such as COVID-19
    if re.search(r"(?:No\.|#)\s*$", prefix):
        return None
    if b is None:
        single = _single_mention(doc, sent, m, a, num_start, m.end(a_key))
        return [single] if single else None
    return _range_mentions(doc, sent, m, a, b, num_start, b_key)


def _single_mention(doc: _Doc, sent: str, m: re.Match[str], atom: str, num_start: int, end: int) -> _Mention | None:
    cur_code, cur_unit = _prefix_currency(doc, atom)
    value, scaled = _atom_value(atom, cur_code is not None)
    if value is None:
        return None
    parts = _ATOM_RE.fullmatch(atom)
    number = parts.group("num") if parts else atom
    word_form = not number[:1].isdigit()
    mention = _Mention(start=num_start, end=end, qstart=m.start(), qend=end, value=value)
    _attach_unit(doc, sent, mention, cur_code, cur_unit)
    if word_form and not _keep_word_number(sent, m.start(), number, mention):
        return None
    if _looks_like_identifier(sent, mention, number, scaled):
        return None
    _maybe_year(sent, mention, number, scaled)
    _qualify(sent, mention)
    return mention


def _range_mentions(
    doc: _Doc, sent: str, m: re.Match[str], a: str, b: str, num_start: int, b_key: str
) -> list[_Mention] | None:
    a_code, a_unit = _prefix_currency(doc, a)
    b_code, b_unit = _prefix_currency(doc, b)
    code, unit = (a_code, a_unit) if a_code else (b_code, b_unit)
    lo, lo_scaled = _atom_value(a, code is not None)
    hi, hi_scaled = _atom_value(b, code is not None)
    if lo is None or hi is None:
        return None
    if hi_scaled and not lo_scaled:
        scale = (_ATOM_RE.fullmatch(b).group("scale") or "").strip().lower()  # type: ignore[union-attr]
        if lo * _SCALES[scale] <= hi:
            lo *= _SCALES[scale]
    end = m.end(b_key)
    from_to = bool(re.search(r"\bfrom\s+$", sent[: m.start()], re.IGNORECASE)) and not m.group("between")
    if from_to:
        first = _Mention(start=num_start, end=m.end("a2"), qstart=m.start(), qend=m.end("a2"), value=lo, role="from")
        b_cur = _ATOM_RE.fullmatch(b)
        b_num = m.start(b_key) + (len(b_cur.group("cur")) if b_cur and b_cur.group("cur") else 0)
        second = _Mention(start=b_num, end=end, qstart=m.start(b_key), qend=end, value=hi, role="to")
        for part in (first, second):
            _attach_unit(doc, sent, part, code, unit, unit_from=end)
            if m.group("apct"):
                part.kind, part.unit = "percent", "percent"
            _qualify(sent, part)
        return [first, second]
    mention = _Mention(start=num_start, end=end, qstart=m.start(), qend=end, value=None, low=lo, high=hi)
    _attach_unit(doc, sent, mention, code, unit)
    if lo >= 1800 and hi <= 2100 and float(lo).is_integer() and mention.unit is None and mention.currency is None:
        mention.kind = "date"
    if lo > hi:  # "2023-24" style or not a range at all: keep the first number only
        return None
    _qualify(sent, mention)
    return [mention]


def _prefix_currency(doc: _Doc, atom: str) -> tuple[str | None, str | None]:
    m = _ATOM_RE.fullmatch(atom)
    if not m or not m.group("cur"):
        return None, None
    cur = m.group("cur").strip()
    if cur in _CURRENCY_PREFIXES:
        code, unit = _CURRENCY_PREFIXES[cur]
    else:
        code, unit = ("CNY" if cur == "RMB" else cur), _ISO_CODES.get(cur, cur)
    if cur == "¥" and doc.yen_not_yuan:
        code, unit = "JPY", "yen"
    return code, unit


def _attach_unit(
    doc: _Doc,
    sent: str,
    mention: _Mention,
    cur_code: str | None,
    cur_unit: str | None,
    unit_from: int | None = None,
) -> None:
    """Read the unit after the number (percent, currency, measurement, time, noun) and set kind."""
    pos = unit_from if unit_from is not None else mention.qend
    rest = sent[pos:]
    scale_factor = 1.0
    if (pm := _PCT_RE.match(rest)) is not None:
        word = pm.group("u").lower()
        scale_factor = 1e-4 if word.startswith(("basis", "bps")) else 1e-2
        mention.kind = "percent"
        mention.unit = (
            "percentage points" if "point" in word else ("basis points" if scale_factor == 1e-4 else "percent")
        )
        _extend(mention, pos + pm.end(), unit_from)
    elif (cm := _CUR_SUFFIX_RE.match(rest)) is not None:
        written = cm.group("u") or cm.group("code")
        mention.kind = "money"
        mention.currency = currency_code(written) or cur_code
        mention.unit = " ".join(written.split()) if cm.group("u") else _ISO_CODES.get(written.upper(), written)
        _extend(mention, pos + cm.end(), unit_from)
    elif cur_code:
        mention.kind, mention.currency, mention.unit = "money", cur_code, cur_unit
    elif (mm := _MEAS_UNIT_RE.match(rest)) is not None:
        unit = _UNIT_SYMBOLS.get(mm.group("u"), mm.group("u"))
        if mm.group("den"):
            unit += "/" + _PER_UNITS[mm.group("den")]
        mention.kind, mention.unit = "other", unit
        _extend(mention, pos + mm.end(), unit_from)
        _note_abbreviation(doc, mention, rest[mm.end() :])
    elif (tm := _TIME_UNIT_RE.match(rest)) is not None:
        mention.kind, mention.unit = "period", tm.group("u").lower()
        _extend(mention, pos + tm.end(), unit_from)
    elif (rm := _RATIO_RE.match(rest)) is not None:
        mention.kind, mention.unit = "ratio", "times"
        _extend(mention, pos + rm.end(), unit_from)
    else:
        noun, noun_end = _count_noun(rest)
        is_int = all(v is None or float(v).is_integer() for v in (mention.value, mention.low, mention.high))
        mention.kind = "count" if (noun or is_int) else "other"
        if noun:
            mention.unit = noun
            _extend(mention, pos + noun_end, unit_from)
            _note_abbreviation(doc, mention, rest[noun_end:])
    if scale_factor != 1.0:
        for attr in ("value", "low", "high"):
            v = getattr(mention, attr)
            if v is not None:
                setattr(mention, attr, v * scale_factor)


def _note_abbreviation(doc: _Doc, mention: _Mention, after: str) -> None:
    """'1,450 megawatt-hours (MWh)', '3 foo-hours (FH)': remember that the unit is also written ABBR."""
    m = _UNIT_ABBR_RE.match(after)
    unit = mention.unit
    if not m or not unit:
        return
    abbr = m.group("abbr")
    letters = re.sub(r"[^A-Za-z]", "", abbr)
    if not letters or abbr.islower() or abbr == unit:
        return
    if unit.lower()[:1] != letters.lower()[:1]:
        return  # "vehicles (EVs)": a different word, not an abbreviation of the unit
    if any(c.isupper() for c in unit) and len(unit) <= len(abbr):
        return  # already a symbol
    doc.unit_abbr[unit] = abbr
    doc.abbr_kinds[abbr] = mention.kind
    mention.unit = abbr


def _extend(mention: _Mention, new_end: int, unit_from: int | None) -> None:
    # For the "from" half of "from five to seven brands" the unit is shared, not part of its span.
    if unit_from is None or mention.role == "to":
        mention.qend = max(mention.qend, new_end)


def _count_noun(rest: str) -> tuple[str | None, int]:
    """First plural noun among the next three words (``12,345 new vehicles`` -> vehicles)."""
    pos = 0
    for _ in range(3):
        m = _WORD_RE.match(rest, pos)
        if not m:
            break
        word = m.group("w")
        low = word.lower()
        if low in _STOPWORDS or (word[0].isupper() and not word.isupper()):
            break
        if _is_plural(word):
            return word, m.end()
        pos = m.end()
    return None, 0


def _is_plural(word: str) -> bool:
    if re.fullmatch(r"[A-Z]{2,}s", word):
        return True
    low = word.lower()
    if low in {"people", "staff", "personnel", "children", "men", "women", "units", "cattle"}:
        return True
    return low.endswith("s") and not low.endswith(("ss", "us", "is", "’s", "'s")) and len(low) > 3


def _keep_word_number(sent: str, start: int, atom: str, mention: _Mention) -> bool:
    """Spelled-out numbers: drop names ('Formula One') and pronoun 'one' ('one of the')."""
    if atom[0].isupper() and sent[:start].strip():
        return False
    if atom.strip().lower() == "one":
        return mention.unit is not None and mention.kind in {"count", "money", "period", "percent", "other"}
    return True


def _looks_like_identifier(sent: str, mention: _Mention, atom: str, scaled: bool) -> bool:
    """'Model 3', 'Mate 60': a bare small integer right after a capitalised word."""
    if scaled or mention.kind in {"money", "percent"} or not atom[:1].isdigit():
        return False
    if mention.value is None or mention.value >= 1000 or "," in atom or "." in atom:
        return False
    before = re.search(r"([A-Za-z][\w-]*)\s+$", sent[: mention.qstart])
    if not before or not before.group(1)[0].isupper():
        return False
    word = before.group(1)
    at_start = not sent[: before.start(1)].strip()
    return word not in _MONTHS and not at_start


def _maybe_year(sent: str, mention: _Mention, atom: str, scaled: bool) -> None:
    if scaled or mention.kind not in {"count", "other"} or not re.fullmatch(r"\d{4}", atom):
        return
    if not 1800 <= (mention.value or 0) <= 2100:
        return
    date_context = _DATE_CONTEXT_RE.search(sent[: mention.qstart])
    if mention.unit and not date_context:
        return
    mention.kind, mention.unit, mention.qend = "date", None, mention.end


def _qualify(sent: str, mention: _Mention) -> None:
    """Approximation and bound words just before the quantity; 'sub-' prefixes."""
    before = sent[: mention.qstart]
    if re.search(r"\bsub-$", before, re.IGNORECASE):
        mention.role = mention.role or "upper_bound"
        mention.qstart -= 4
        before = sent[: mention.qstart]
    if _APPROX_BEFORE_RE.search(before):
        mention.approximate = True
    if _LOWER_BEFORE_RE.search(before):
        mention.role = mention.role or "lower_bound"
    elif _UPPER_BEFORE_RE.search(before):
        mention.role = mention.role or "upper_bound"


def _vague_mention(doc: _Doc, sent: str, m: re.Match[str]) -> _Mention | None:
    """'billions of yuan': an order of magnitude, kept as a lower bound with no value."""
    rest_start = m.end()
    low = _SCALES[m.group("num").lower().rstrip("s")]
    if m.group("mult"):
        low *= 10 if m.group("mult").lower().startswith("tens") else 100
    mention = _Mention(
        start=m.start("num"),
        end=m.end("num"),
        qstart=m.start(),
        qend=rest_start,
        value=None,
        low=low,
        approximate=True,
    )
    _attach_unit(doc, sent, mention, None, None, unit_from=None)
    if mention.kind == "count" and mention.unit is None:
        return None
    return mention


# --------------------------------------------------------------------------- context


def _sentence_mentions(doc: _Doc, s_start: int, s_end: int) -> list[_Mention]:
    sent = doc.text[s_start:s_end]
    if not _MAY_HAVE_NUMBER_RE.search(sent):
        return []
    mentions = _find_mentions(doc, sent)
    if not mentions:
        return []
    body_start = _body_start(doc, sent, s_start)
    clauses = _clauses(sent, body_start)
    for mention in mentions:
        _describe(doc, sent, clauses, mention)
    _pair_currencies(sent, mentions)
    _change_roles(sent, clauses, mentions)
    _compared_with(sent, mentions)
    _inherit_objects(mentions)
    return mentions


def _apply_abbreviations(doc: _Doc, sent: str, mentions: list[_Mention]) -> None:
    """Write every unit the same way: 'foo-hours' -> 'FH' once the text has said 'foo-hours (FH)'."""
    for m in mentions:
        if m.unit in doc.unit_abbr:
            m.unit = doc.unit_abbr[m.unit]
        if m.kind in {"count", "other"}:
            nxt = re.match(r"\s+([A-Za-z][\w/²³]{0,7})(?![\w/])", sent[m.qend :])
            if nxt and nxt.group(1) in doc.abbr_kinds and m.unit in {None, nxt.group(1)}:
                m.unit = nxt.group(1)
                m.kind = doc.abbr_kinds[m.unit]
                m.qend += nxt.end()


def _body_start(doc: _Doc, sent: str, s_start: int) -> int:
    """Skip a news dateline ('BEIJING - ') at the start of a paragraph."""
    if s_start == 0 or doc.text[s_start - 1] == "\n":
        m = _DATELINE_RE.match(sent)
        if m and len(m.group()) < 60:
            return m.end()
    return 0


def _clauses(sent: str, body_start: int) -> list[tuple[int, int]]:
    cuts: list[tuple[int, int]] = []  # (end of previous clause, start of next)
    for m in _COORD_RE.finditer(sent, body_start):
        rest = re.split(r"[,;]", sent[m.end() :], maxsplit=1)[0]
        if _VERBISH_RE.search(rest) or _CLAUSE_START_RE.match(rest):
            cuts.append((m.start(), m.end()))
    for m in _REPORT_RE.finditer(sent, body_start):
        cuts.append((m.end(), m.end()))
    for m in _RELATIVE_RE.finditer(sent, body_start):
        cuts.append((m.start(), m.end()))
    lead = re.match(rf"\s*(?:{_SUBORDINATORS})\b[^,]*,\s+", sent[body_start:])
    if lead:
        cuts.append((body_start + lead.end(), body_start + lead.end()))
    cuts.sort()
    spans, start = [], body_start
    for end, nxt in cuts:
        if end > start:
            spans.append((start, end))
            start = nxt
    spans.append((start, len(sent)))
    return spans


def _clause_of(clauses: list[tuple[int, int]], pos: int) -> tuple[int, int]:
    for start, end in clauses:
        if start <= pos < end:
            return start, end
    return clauses[-1] if pos >= clauses[-1][0] else clauses[0]


def _describe(doc: _Doc, sent: str, clauses: list[tuple[int, int]], mention: _Mention) -> None:
    c_start, c_end = _clause_of(clauses, mention.qstart)
    if mention.kind != "date":
        subject, aliases = _subject(doc, sent, c_start, mention)
        if subject is None:
            subject = _passive_agent(sent[mention.qend : c_end])
        mention.subject, mention.aliases = subject, aliases
        mention.measure = _measure(sent, c_start, c_end, mention)
        mention.object = _object(sent[mention.qend : c_end])
        if mention.object is None and _ORG_OBJECT_RE.search(re.split(r"[,;]", sent[mention.qend : c_end])[0]):
            mention.object = _referent(doc, mention.subject)
        mention.period = _period(sent, c_start, c_end, mention)


def _referent(doc: _Doc, other_than: str | None) -> str | None:
    """What 'the company' points back to: the sentence's main subject, else the previous sentence's."""
    for subject in (_main_subject(doc, doc.index, 0), _previous_subject(doc, doc.index)):
        if subject and subject != other_than:
            return subject
    return None


def _subject(doc: _Doc, sent: str, c_start: int, mention: _Mention) -> tuple[str | None, list[str]]:
    pre = sent[c_start : mention.qstart]
    if c_start > 0 and _RELATIVE_START_RE.match(pre):
        return _antecedent(doc, sent, c_start)
    appos = _APPOSITIVE_RE.search(pre)  # "Halden Grid Storage, a 420 MWh installation"
    np = _NP_RE.match(pre, appos.start()) if appos else None
    if np and (name := _valid_subject(doc, pre, np, False, "")):
        return _split_possessive(name)[0], []
    offset = 0
    topic: str | None = None
    while (m := _INTRO_RE.match(pre, offset)) is not None:
        intro = m.group()
        about = _ABOUT_RE.fullmatch(intro)
        if about and topic is None and _strip_quotes(about.group(1).split()[0]) not in _NON_NAMES:
            topic = _split_possessive(_clean_name(about.group(1)))[0]
        offset = m.end()
    masked = re.sub(r"\([^)]*\)", lambda p: " " * len(p.group()), pre)
    verb = _FIRST_VERB_RE.search(masked, offset)
    masked = masked[: verb.start()] if verb else masked  # the subject precedes the verb
    for np in _NP_RE.finditer(masked, offset):
        name = _valid_subject(doc, masked, np, c_start == 0 or np.start() == offset, sent[c_start + np.end() :])
        if name is None:
            continue
        subject, aliases = _split_possessive(name)
        aliases += _aliases_after(pre, np.end())
        return subject, aliases
    if _PRONOUN_RE.match(pre, offset):
        return _previous_subject(doc, doc.index), []
    return topic, []


def _antecedent(doc: _Doc, sent: str, c_start: int) -> tuple[str | None, list[str]]:
    """', which took a stake': the name just before the comma, else the subject of the clause before."""
    before = sent[:c_start].rstrip(" ,")
    np = re.search(rf"(?:{_NP_RE.pattern})$", before)
    if np:
        tokens = [t for t in np.group().split() if _strip_quotes(t) not in _NON_NAMES and t not in _MONTHS]
        if tokens:
            return _split_possessive(_clean_name(" ".join(tokens)))[0], []
    clause_start = 0
    for m in _RELATIVE_RE.finditer(before):
        clause_start = m.end()
    probe = _Mention(start=len(before), end=len(before), qstart=len(before), qend=len(before), value=None)
    return _subject(doc, sent, clause_start, probe)


def _valid_subject(doc: _Doc, masked: str, np: re.Match[str], at_start: bool, following: str) -> str | None:
    tokens = np.group().split()
    while tokens and (_strip_quotes(tokens[0]) in _NON_NAMES or tokens[0] in _MONTHS or tokens[0] in _WEEKDAYS):
        tokens.pop(0)  # "In September Kestrel raised ..."
    if not tokens:
        return None
    first = _strip_quotes(tokens[0]).rstrip("’'")
    if " ".join(tokens) in _MEASUREMENT_UNITS or first in _MONTHS or first in _WEEKDAYS or first.lower() in _STOPWORDS:
        return None
    if len(tokens) == 1 and at_start and (first.lower() in doc.lower_words or first.lower() in _LEMMA):
        return None
    if len(tokens) == 1 and np.start() == 0 and len(np.group().split()) == 1 and _common_opening(doc, first, following):
        return None
    if _strip_quotes(np.group().split()[0]) in _DETERMINERS_CAP and _followed_by_common_noun(masked, np.end()):
        return None  # "The Swedish battery maker": a description, not a name
    words_before = re.findall(r"[A-Za-z’'-]+", masked[: np.start()])
    while words_before and words_before[-1].lower() in _DETERMINERS:
        words_before.pop()
    if words_before and words_before[-1].lower() in _PREPOSITIONS:
        return None
    if re.search(r"[-–—]\s*$", masked[: np.start()]) is None and masked[np.end() :].lstrip()[:1] in {"-", "–", "—"}:
        return None
    return _clean_name(" ".join(tokens))


def _common_opening(doc: _Doc, word: str, following: str) -> bool:
    """Whether a capitalised word opening a clause is a common word, not a name.

    'Average cell prices', 'Grid-scale battery storage', 'Developers have': English words never
    capitalised mid-sentence in the document qualify when they are plural nouns or start a noun
    phrase (the next word is lower case and not a verb); 'Acme sold' keeps its name.
    """
    low = word.lower()
    if low in doc.mid_caps or not word[:1].isupper() or word.isupper():
        return False
    english = _english_words()
    parts = [p for p in low.split("-") if p]
    if not parts or not all(p in english for p in parts):
        return False
    if low.endswith("s") and len(low) > 3 and low[:-1] in english and not low.endswith("ss"):
        return True  # "Developers", "Analysts"
    nxt = re.match(r"\s+([A-Za-z][\w’'-]*)(?:\s+(\S+))?", following)
    if not nxt or not nxt.group(1).islower():
        return False
    w1, w2 = nxt.group(1), (nxt.group(2) or "").lower()
    if w1 in _STOPWORDS or w1.endswith("ly") or w1 in _ADVERBS:
        return False
    if _VERBISH_RE.fullmatch(w1) or w1 in _IRREGULAR_PAST:
        return False
    # "Acme sells 500 ...", "Acme holds a ..." keep the name
    return not (
        w1.endswith("s") and (w2[:1].isdigit() or w2[:1] in "$€£¥₹" or w2 in _DETERMINERS or w2 in _SMALL_NUMBERS)
    )


@lru_cache(maxsize=1)
def _english_words() -> frozenset[str]:
    """Common English words (the embedding model's vocabulary); empty when unavailable."""
    try:
        from bot.understand import english_words  # lazy: bot.understand imports this module

        return english_words()
    except Exception:  # any failure (no model package) just disables the check
        return frozenset()


def _followed_by_common_noun(text: str, end: int) -> bool:
    nxt = re.match(r"[”\"’]?\s+([a-z][a-z-]*)", text[end:])
    return bool(nxt) and not _VERBISH_RE.fullmatch(nxt.group(1)) and not nxt.group(1).endswith("s")


def _strip_quotes(token: str) -> str:
    return token.strip('“”"‘')


def _clean_name(name: str) -> str:
    name = _strip_quotes(name).strip(" ,.;:")
    return re.sub(r"[“”\"]", "", name)


def _split_possessive(name: str) -> tuple[str, list[str]]:
    """'Acme’s Zeta' -> ('Zeta', ['Acme']); 'ABC’s' -> ('ABC', [])."""
    parts = re.split(r"(?:’s|'s|(?<=s)[’'])(?:\s+|$)", name)
    parts = [p.strip() for p in parts if p.strip()]
    if len(parts) <= 1:
        return (parts[0] if parts else name), []
    return parts[-1], parts[:-1]


def _aliases_after(pre: str, np_end: int) -> list[str]:
    """Parenthetical ('Alliance (ABC)') and 'through/via X' appositives name the same actor."""
    aliases: list[str] = []
    rest = pre[np_end:]
    paren = re.match(r"\s*\(([^)]{1,60})\)", rest)
    if paren:
        aliases.append(_clean_name(paren.group(1)))
        rest = rest[paren.end() :]
    appos = re.match(r"\s*,\s*(?:through|via|using|under)\s+([^,]{1,80}),", rest, re.IGNORECASE)
    if appos:
        for np in _NP_RE.finditer(appos.group(1)):
            name = _clean_name(" ".join(t for t in np.group().split() if _strip_quotes(t) not in _NON_NAMES))
            if name:
                aliases.append(name)
    return [a for a in aliases if a]


def _passive_agent(after: str) -> str | None:
    """'1,500 engineers were hired by X' -> X; not 'raised 3 billion in a round led by X'."""
    m = _BY_AGENT_RE.search(after.split(",")[0])
    if m and not any(w.lower() in _PREPOSITIONS for w in re.findall(r"[A-Za-z]+", after[: m.start()])):
        name = _clean_name(m.group(1))
        if name and name.split()[0] not in _NON_NAMES and name.split()[0] not in _MONTHS:
            return _split_possessive(name)[0]
    return None


def _object(after: str) -> str | None:
    segment = re.split(r"[,;(]", re.sub(r"\([^)]*\)", " ", after), maxsplit=1)[0]
    for m in _OBJECT_RE.finditer(segment):
        name = _clean_name(m.group(1))
        first = name.split()[0] if name else ""
        if first and first not in _MONTHS and first not in _NON_NAMES and not _PERIOD_RE.fullmatch(name):
            name = _split_possessive(name)[0]
            if " " not in name and name.lower() in _english_words() and name.lower() not in _TAIL_STOPS:
                name += _noun_tail(segment[m.end(1) :])  # "of the Nordic cell market", not "Nordic"
            return name
    return None


def _noun_tail(rest: str) -> str:
    """'of the Nordic cell market': a name that only modifies a common noun keeps its noun."""
    words: list[str] = []
    pos = 0
    while (m := _TAIL_WORD_RE.match(rest, pos)) is not None:
        word, pos = m.group(1), m.end()
        if (
            word in _STOPWORDS
            or word in _LEMMA
            or word in _TAIL_STOPS
            or word.endswith("ly")
            or _VERBISH_RE.fullmatch(word)
            or word.endswith("ing")
            or len(words) == 3
        ):
            break
        words.append(word)
    return "".join(" " + w for w in words)


def _measure(sent: str, c_start: int, c_end: int, mention: _Mention) -> str | None:
    after = sent[mention.qend : c_end]
    noun = _measure_after(after, mention.kind)
    if noun:
        return noun
    words = re.findall(r"[A-Za-z][A-Za-z’'-]*", sent[c_start : mention.qstart])
    lemma, index = _last_measure_word(words)
    if lemma in _CHANGE_MEASURES and mention.kind != "percent" and mention.role not in {"from", "to"}:
        # "revenue rose to 6.8 billion": the amount is revenue, not an increase
        noun, _ = _last_measure_word(words[: index or 0])
        if noun and noun not in _CHANGE_MEASURES:
            return noun
    if lemma in _CHANGE_MEASURES and mention.role in {"from", "to"} and index is not None:
        head = _noun_before_from(words[index + 1 :])
        return head or (measure_lemma(mention.unit) if mention.unit else lemma)
    if lemma:
        return lemma
    of = _NOUN_OF_RE.search(sent, c_start, mention.qstart)
    if of and of.group(1) not in _STOPWORDS and of.group(1) not in _QUANTIFIER_NOUNS:
        return measure_lemma(of.group(1))  # "an energy density of 160 Wh/kg"
    for word in reversed(words[-4:]):
        if word.islower() and word.endswith("ed") and word not in _STOPWORDS:
            return measure_lemma(word)
    return None


def _measure_after(after: str, kind: str) -> str | None:
    """'10 percent stake', '5 GWh of capacity', 'yuan segment' (a price band)."""
    after = re.sub(r"^\s*\([^)]*\)", "", after)  # "1,450 megawatt-hours (MWh) of capacity"
    m = re.match(r"\s+(?:of\s+)?(?:([a-z][a-z-]*)\s+)?([a-z][a-z-]*)", after)
    if not m:
        return None
    first, second = m.group(1), m.group(2)
    if first and first in _STOPWORDS:
        return None
    if first and re.match(r"\s+by\b", after[m.end() :]):
        second = None  # "a 420 MWh plant built by X": what X did to the plant, not what 420 MWh measures
    for word in (first, second) if first else (second,):
        if word in _STOPWORDS:
            return None
        if kind == "money" and word in _PRICE_BAND_NOUNS:
            return "price"
        if f"{word} {second}" in _LEMMA and word == first:
            return _LEMMA[f"{word} {second}"]
        if word in _LEMMA:
            return _LEMMA[word]
    return None


def _last_measure_word(words: list[str]) -> tuple[str | None, int | None]:
    for i in range(len(words) - 1, max(-1, len(words) - 9), -1):
        low = words[i].lower()
        if i + 1 < len(words) and f"{low} {words[i + 1].lower()}" in _LEMMA:
            return _LEMMA[f"{low} {words[i + 1].lower()}"], i
        if low in _LEMMA and words[i].islower():
            return _LEMMA[low], i
    return None, None


def _noun_before_from(words: list[str]) -> str | None:
    if "from" in words:
        words = words[: words.index("from")]
    nouns = [w for w in words if w.islower() and w not in _STOPWORDS]
    return measure_lemma(nouns[-1]) if nouns else None


def _period(sent: str, c_start: int, c_end: int, mention: _Mention) -> str | None:
    best: tuple[int, str] | None = None
    for lo, hi in ((c_start, c_end), (0, len(sent))):
        for m in _PERIOD_RE.finditer(sent, lo, hi):
            if m.start() < mention.qend and m.end() > mention.qstart:
                continue  # the quantity itself (a year)
            gap = m.start() - mention.qend if m.start() >= mention.qend else mention.qstart - m.end()
            if best is None or gap < best[0]:
                best = (gap, m.group("p"))
        if best:
            return " ".join(best[1].split())
    return None


def _change_roles(sent: str, clauses: list[tuple[int, int]], mentions: list[_Mention]) -> None:
    """Mark the two ends of a change and make them comparable (same subject, measure and unit).

    'rose to 6.8 billion from 5.1 billion', 'grew to X ..., up from Y', 'shipped X, down from Y',
    'from Y in 2023 to X in 2024'. The two halves of a currency pair share the role.
    """
    for origin in mentions:
        if origin.role is not None or origin.kind == "date" or not _FROM_BEFORE_RE.search(sent[: origin.qstart]):
            continue
        newer = None
        for m in reversed([m for m in mentions if m.qend <= origin.qstart]):
            if _comparable(m, origin):
                if _CHANGE_FROM_RE.search(sent[: origin.qstart]) or _changes_to(sent, clauses, m):
                    newer = m
                break
        if newer is None:  # "from Y ... to X"
            newer = next(
                (
                    m
                    for m in mentions
                    if m.qstart >= origin.qend and _comparable(m, origin) and _TO_BEFORE_RE.search(sent[: m.qstart])
                ),
                None,
            )
        if newer is not None:
            newer.role, origin.role = "to", "from"
            _share_change(sent, newer, origin)
    by_id = {id(m): m for m in mentions}
    for m in mentions:
        partner = by_id.get(m.paired) if m.paired else None
        if m.role is None and partner is not None and partner.role in {"from", "to"}:
            m.role, m.period = partner.role, partner.period


def _comparable(a: _Mention, b: _Mention) -> bool:
    if a.role is not None or a.kind != b.kind:
        return False
    if a.kind == "money":
        return a.currency == b.currency
    return a.unit == b.unit or a.unit is None or b.unit is None


def _changes_to(sent: str, clauses: list[tuple[int, int]], m: _Mention) -> bool:
    """'rose to X', 'grew X': the newer value of a change."""
    if _TO_BEFORE_RE.search(sent[: m.qstart]):
        return True
    c_start, _ = _clause_of(clauses, m.qstart)
    words = re.findall(r"[a-z]+", sent[c_start : m.qstart])[-4:]
    return any(_LEMMA.get(w) in _CHANGE_MEASURES for w in words)


def _share_change(sent: str, newer: _Mention, origin: _Mention) -> None:
    """Both ends of a change describe the same quantity of the same subject."""
    if newer.measure in _CHANGE_MEASURES | {None} and origin.measure not in _CHANGE_MEASURES | {None}:
        newer.measure = origin.measure
    else:
        origin.measure = newer.measure or origin.measure
    if newer.subject:
        origin.subject, origin.aliases = newer.subject, list(newer.aliases)
    else:
        newer.subject, newer.aliases = origin.subject, list(origin.aliases)
    origin.object = origin.object or newer.object
    newer.unit = newer.unit or origin.unit
    origin.unit = origin.unit or newer.unit
    if origin.qstart > newer.qend and newer.period and _PAST_PERIOD_RE.search(newer.period):
        # "... in the quarter, down from 1,000 a year earlier": the earlier period is the older value's
        newer.period = _period_within(sent, newer, 0, origin.qstart)
    elif origin.qend <= newer.qstart and newer.period and newer.period == origin.period:
        # "from 3 plants in 2023 to 5 plants in 2024"
        newer.period = _period_within(sent, newer, newer.qend, len(sent)) or newer.period


def _period_within(sent: str, mention: _Mention, lo: int, hi: int) -> str | None:
    best: tuple[int, str] | None = None
    for m in _PERIOD_RE.finditer(sent, lo, hi):
        if mention.qstart < m.end() and m.start() < mention.qend:
            continue
        gap = abs(m.start() - mention.qend) if m.start() >= mention.qend else mention.qstart - m.end()
        if best is None or gap < best[0]:
            best = (gap, m.group("p"))
    return " ".join(best[1].split()) if best else None


def _compared_with(sent: str, mentions: list[_Mention]) -> None:
    """'160 Wh/kg, compared with 185 Wh/kg for Valtera's cells': the second figure is Valtera's."""
    for i, mention in enumerate(mentions):
        if mention.kind == "date" or not _COMPARED_BEFORE_RE.search(sent[: mention.qstart]):
            continue
        owner = re.match(rf"\s+for\s+(?:the\s+)?({_NP_RE.pattern})(\s+[a-z])?", sent[mention.qend :])
        if owner:
            name = _clean_name(owner.group(1))
            first = name.split()[0]
            if first not in _NON_NAMES and first not in _MONTHS:
                subject, owners = _split_possessive(name)
                mention.subject = owners[0] if owners and owner.group(2) else subject
                mention.aliases, mention.object = [], None
        ref = next((m for m in reversed(mentions[:i]) if m.kind == mention.kind and m.unit == mention.unit), None)
        if ref is not None and ref.measure:
            mention.measure = ref.measure  # the same measure for another subject


def _inherit_objects(mentions: list[_Mention]) -> None:
    """'X bought a 10% stake in Z, and Y also secured 10% ownership' -> Y's stake is in Z too."""
    for mention in mentions:
        if mention.object or not mention.measure:
            continue
        for other in mentions:
            if other is not mention and other.measure == mention.measure and other.object:
                mention.object = other.object
                break


def _pair_currencies(sent: str, mentions: list[_Mention]) -> None:
    """Link 'A yuan (about B dollars)' - the same amount stated in two currencies."""
    money = [m for m in mentions if m.kind == "money" and m.currency]
    for a, b in itertools.pairwise(money):
        if a.currency == b.currency or (a.value is None) != (b.value is None):
            continue
        between = sent[a.qend : b.qstart]
        if _PAIR_GAP_RE.fullmatch(between):
            a.paired, b.paired = id(b), id(a)


def _previous_subject(doc: _Doc, index: int, depth: int = 0) -> str | None:
    """Return the main subject of the nearest earlier sentence that has one (for 'It', 'The company')."""
    if depth > 4:
        return None
    for j in range(index - 1, max(-1, index - 4), -1):
        if j not in doc.subjects:
            doc.subjects[j] = _main_subject(doc, j, depth)
        if doc.subjects[j]:
            return doc.subjects[j]
    return None


def _main_subject(doc: _Doc, j: int, depth: int) -> str | None:
    s_start, s_end = doc.sentences[j]
    sent = doc.text[s_start:s_end]
    c_start, c_end = _clauses(sent, _body_start(doc, sent, s_start))[0]
    probe = _Mention(start=c_end, end=c_end, qstart=c_end, qend=c_end, value=None)
    saved = doc.index
    doc.index = j
    try:
        pre = sent[c_start:c_end]
        offset = 0
        while (m := _INTRO_RE.match(pre, offset)) is not None:
            offset = m.end()
        if _PRONOUN_RE.match(pre, offset):
            return _previous_subject(doc, j, depth + 1)
        subject, _ = _subject(doc, sent, c_start, probe)
        return subject
    finally:
        doc.index = saved


# --------------------------------------------------------------------------- output


def _fact_id(source: str, start: int, end: int, text: str) -> str:
    return "f-" + hashlib.sha1(f"{source}\x00{start}\x00{end}\x00{text}".encode()).hexdigest()[:10]


def _to_facts(doc: _Doc, sent: str, s_start: int, s_end: int, mentions: list[_Mention]) -> list[Fact]:
    ids = {}
    for m in mentions:
        ids[id(m)] = _fact_id(doc.source, s_start + m.start, s_start + m.end, sent[m.start : m.end])
    facts = []
    for m in mentions:
        facts.append(
            Fact(
                id=ids[id(m)],
                source=doc.source,
                text=sent[m.start : m.end],
                start=s_start + m.start,
                end=s_start + m.end,
                quantity_text=sent[m.qstart : m.qend],
                value=m.value,
                low=m.low,
                high=m.high,
                kind=m.kind,
                unit=m.unit,
                currency=m.currency,
                subject=m.subject,
                subject_aliases=m.aliases,
                object=m.object,
                measure=m.measure,
                period=m.period,
                sentence=sent,
                sentence_start=s_start,
                sentence_end=s_end,
                paired_with=ids.get(m.paired) if m.paired else None,
                role=m.role,
                approximate=m.approximate,
            )
        )
    return facts
