"""How the store keeps its records in Chroma: manifest records, chunk and fact metadata, paged reads.

* :class:`DocRecord` - the manifest record of one indexed document (and :func:`dump_manifest`, its
  ``manifest.json`` for people and tools);
* :func:`chunk_from` / :func:`fact_meta` - a chunk read back from its record, a fact's metadata;
* :func:`scan` - every record of a collection, :data:`PAGE` records per read.

Used by :mod:`bot.store`, which re-exports :class:`DocRecord` and :func:`dump_manifest`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.models import Chunk, Fact

if TYPE_CHECKING:
    from bot.chroma import ScopedCollection

PAGE = 2000  # records per get() page; keeps memory and request sizes bounded


@dataclass(frozen=True)
class DocRecord:
    """What the manifest knows about one indexed document."""

    source: str
    sha256: str
    chunks: int
    facts: int
    indexed_at: str
    splitter: str


def scan(
    col: ScopedCollection,
    where: dict[str, Any] | None = None,
    documents: bool = False,
    embeddings: bool = False,
) -> Iterable[tuple[str, dict[str, Any], str | None, Any]]:
    """Every record of a collection matching ``where``, a page at a time: ``(id, metadata, document, embedding)``.

    The document and the embedding are None unless asked for.
    """
    include: list[str] = ["metadatas"] + (["documents"] if documents else []) + (["embeddings"] if embeddings else [])
    offset = 0
    while True:
        res = col.get(where=where, include=include, limit=PAGE, offset=offset)
        ids = res["ids"]
        docs = res["documents"] if documents else [None] * len(ids)
        embs = res["embeddings"] if embeddings else [None] * len(ids)
        yield from zip(ids, res["metadatas"], docs, embs, strict=True)
        if len(ids) < PAGE:
            return
        offset += PAGE


def chunk_from(id_: str, meta: dict[str, Any], text: str | None) -> Chunk:
    """The chunk a stored record holds (its metadata is the chunk without id and text)."""
    return Chunk(id=id_, text=text or "", **meta)


def fact_meta(f: Fact) -> dict[str, Any]:
    """The metadata a fact is stored with: the full record as JSON, and the fields filters use."""
    meta: dict[str, Any] = {"source": f.source, "kind": f.kind, "json": f.model_dump_json()}
    for key in ("subject", "measure", "unit", "period"):
        if getattr(f, key):
            meta[key] = getattr(f, key)
    return meta


def dump_manifest(records: dict[str, DocRecord]) -> str:
    """Render the manifest as pretty JSON (written to ``index/manifest.json`` for people and tools)."""
    return json.dumps({"documents": [r.__dict__ for r in sorted(records.values(), key=lambda r: r.source)]}, indent=2)
