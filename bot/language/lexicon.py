"""lemminflect's English lemma lexicon, looked up without loading it whole.

``lemminflect.getAllLemmas`` parses its 80,000-line lexicon (``lemma_lu.csv.gz``) into a dictionary
on first use, one gzip line at a time: about half a second, most of what a one-shot ``bot ask``
spends outside imports, to look up a few hundred words. The file is sorted by word, so this module
decompresses it into a list of lines (a few tens of milliseconds) and finds a word's lines by
binary search. A lookup returns what ``getAllLemmas`` returns for a lower-case word: the lexicon's
entries in file order, then lemminflect's own overrides on top (tests/test_onnx_startup.py checks
both the order of the file and every word against lemminflect).
"""

from __future__ import annotations

import gzip
from bisect import bisect_left
from functools import lru_cache

Lemmas = dict[str, tuple[str, ...]]


@lru_cache(maxsize=1)
def lines() -> list[str]:
    """The lexicon's lines (``word,category,lemma/lemma``), sorted by word, read once per process."""
    from lemminflect import config

    with open(config.lemma_lu_fn, "rb") as f:
        return gzip.decompress(f.read()).decode().splitlines()


@lru_cache(maxsize=1)
def overrides() -> dict[str, Lemmas]:
    """The lemma overrides of lemminflect (a short file): word -> {upos: lemma spellings}."""
    from lemminflect import config
    from lemminflect.codecs.OverridesCodec import OverridesCodec

    return OverridesCodec.load(config.lemma_overrides_fn)


def word_of(line: str) -> str:
    """The word a lexicon line is about (its sort key)."""
    return line.split(",", 1)[0]


def all_lemmas(low: str) -> Lemmas:
    """What ``lemminflect.getAllLemmas(low)`` returns for a lower-case word (upos -> lemma spellings)."""
    table = lines()
    found: Lemmas = {}
    for i in range(bisect_left(table, low, key=word_of), len(table)):
        word, category, forms = table[i].strip().split(",")
        if word != low:
            break
        upos = category.upper()
        found[upos if upos != "MODAL" else "AUX"] = tuple(forms.split("/"))
    found.update(overrides().get(low, {}))
    return {upos: tuple(w.lower() for w in spellings) for upos, spellings in found.items()}
