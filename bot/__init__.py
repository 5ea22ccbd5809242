"""Document Q&A bot: grounded, cited answers over a folder of documents.

The public Python API (heavy dependencies load on first use)::

    from bot import load_settings, build_index, HybridRetriever, ask

    settings = load_settings(docs_dir="seeds", index_dir="index")
    build_index(settings)                        # incremental
    retriever = HybridRetriever.from_settings(settings)
    retriever.invoke("How many vehicles were delivered in November?")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Answer", "Bot", "HybridRetriever", "Settings", "ask", "build_index", "load_settings"]

if TYPE_CHECKING:
    from bot.indexer import sync_index as build_index
    from bot.models import Answer
    from bot.retrieve import HybridRetriever
    from bot.service import Bot, ask
    from bot.settings import Settings, load_settings

_LAZY = {
    "Answer": ("bot.models", "Answer"),
    "HybridRetriever": ("bot.retrieve", "HybridRetriever"),
    "Settings": ("bot.settings", "Settings"),
    "load_settings": ("bot.settings", "load_settings"),
    "build_index": ("bot.indexer", "sync_index"),
    "ask": ("bot.service", "ask"),
    "Bot": ("bot.service", "Bot"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'bot' has no attribute {name!r}")
