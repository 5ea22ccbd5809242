"""The Gradio web UI: chat with cited answers, documents, facts, per-session settings.

The UI is a shell over :class:`bot.service.Bot`: every answer comes from
:meth:`Bot.stream`, every index change from :meth:`Bot.reindex`; nothing here
decides what an answer says. It adds presentation (citation links, the sources
panel, refusals), uploads, feedback logging and a JSON API endpoint (``/ask``)::

    from gradio_client import Client

    client = Client("http://127.0.0.1:7860/")
    first = client.predict("How many vehicles were delivered in November?", [], api_name="/ask")
    print(first["text"], first["citations"])
    follow = client.predict("And in which month?", [first["question"]], api_name="/ask")

Security defaults (see :func:`launch`): bound to 127.0.0.1, no share link, no
file serving outside Gradio's own assets and cache, upload size/type limits,
sanitised upload names, rejected uploads deleted from Gradio's cache, all
document and answer text HTML-escaped, and errors shown as one-line messages
(never tracebacks).

Modules: :mod:`~bot.ui.app` (layout, serving), :mod:`~bot.ui.actions` (event
handlers), :mod:`~bot.ui.render` (chat and sources HTML), :mod:`~bot.ui.tables`
(documents and facts), :mod:`~bot.ui.examples` (example questions),
:mod:`~bot.ui.uploads` and :mod:`~bot.ui.feedback`.
"""

from __future__ import annotations

from bot.ui.actions import Actions
from bot.ui.app import available_engines, build_app, default_concurrency, launch, parse_auth
from bot.ui.examples import example_questions, fact_question
from bot.ui.feedback import FEEDBACK_FILE, append_feedback, feedback_record
from bot.ui.render import (
    CSS,
    answer_text,
    history_messages,
    plain_answer,
    render_answer,
    render_pending,
    render_sources,
    render_user,
)
from bot.ui.tables import doc_rows, fact_rows, fact_value, render_facts
from bot.ui.uploads import UPLOAD_PREFIX, check_upload, sanitize_filename

_Actions = Actions  # the name tests and older callers use

__all__ = [
    "CSS",
    "FEEDBACK_FILE",
    "UPLOAD_PREFIX",
    "Actions",
    "answer_text",
    "append_feedback",
    "available_engines",
    "build_app",
    "check_upload",
    "default_concurrency",
    "doc_rows",
    "example_questions",
    "fact_question",
    "fact_rows",
    "fact_value",
    "feedback_record",
    "history_messages",
    "launch",
    "parse_auth",
    "plain_answer",
    "render_answer",
    "render_facts",
    "render_pending",
    "render_sources",
    "render_user",
    "sanitize_filename",
]
