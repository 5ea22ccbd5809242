"""The Gradio app: Chat, Documents, Facts and Settings tabs plus the ``/ask`` API, and how it is served."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import gradio as gr

from bot.errors import ConfigError
from bot.service import Bot
from bot.settings import Settings
from bot.ui.actions import Actions, example_text
from bot.ui.render import CSS, render_sources
from bot.ui.tables import DOC_HEADERS, FACT_KINDS, doc_rows, render_facts
from bot.ui.uploads import UPLOAD_CSS, size_limit_bytes, size_limit_text, upload_guard_js

COPY_JS = """
(text) => {
  if (!text) { return; }
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text);
  } else {
    const area = document.createElement("textarea");
    area.value = text; document.body.appendChild(area); area.select();
    document.execCommand("copy"); area.remove();
  }
}
"""


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """Split ``USER:PASS`` into ``(user, pass)``.

    Raises:
        ConfigError: If it is not of that form.

    """
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ConfigError("Invalid auth: expected USER:PASS (e.g. --auth alice:s3cret or BOT_AUTH=alice:s3cret).")
    return user, password


def available_engines(settings: Settings) -> list[str]:
    """List the engines a user may pick: grounded plus the configured backends."""
    engines = ["grounded"]
    if settings.openai_base_url or settings.openai_api_key or settings.llm == "openai":
        engines.append("openai")
    if settings.llamacpp_model_path or settings.llm == "llamacpp":
        engines.append("llamacpp")
    from bot.llm.local_model import installed

    if settings.llm in ("local", "auto") or installed():
        engines = ["auto", *engines, "local"]
    return engines


def default_concurrency() -> int:
    """Answers computed at the same time by default (``BOT_UI_CONCURRENCY`` overrides it).

    Eight, or two per core on bigger machines: with 20 parallel sessions on 2 cores this gave a lower
    p95 than 2 or 4 (``bench/bench_load.py --concurrency 2,4,8``; answers share one process, so more
    at once shares the time more evenly instead of making the queue's tail wait).
    """
    return max(8, 2 * (os.cpu_count() or 1))


def build_app(bot: Bot, concurrency: int | None = None) -> gr.Blocks:
    """Build the web UI over a bot: Chat, Documents, Facts and Settings tabs, plus the ``/ask`` API.

    Args:
        bot: A shared bot (thread-safe); every session uses it with its own chat and settings.
        concurrency: Answers computed at the same time (chat and ``/ask`` share the limit).

    Returns:
        The Gradio app (call :func:`launch` to serve it with the safe defaults and the CSS).

    """
    act = Actions(bot)
    settings = bot.settings
    engines = available_engines(settings)
    private: dict[str, Any] = {"api_visibility": "private"}
    answers = concurrency or default_concurrency()

    with gr.Blocks(title="Document Q&A", analytics_enabled=False) as app:
        turns = gr.State([])
        prefs = gr.State(
            {"engine": settings.engine if settings.engine in engines else "grounded", "top_k": settings.top_k}
        )
        pending_q = gr.State("")
        gr.Markdown(
            "## Document Q&A\nAnswers come only from the indexed documents; every answer cites the exact sentence "
            "it rests on. Click a **[n]** marker to see the cited span in context."
        )
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    gr.Markdown("### Conversation", elem_classes=["panel-title"])
                    chatbot = gr.Chatbot(
                        label="Conversation",
                        show_label=False,  # a floating label would cover the first message
                        elem_id="chat",
                        height=520,
                        buttons=[],
                        latex_delimiters=[],
                        sanitize_html=True,
                        feedback_options=("Like", "Dislike"),
                        examples=act.examples(),
                        placeholder="Ask a question about the documents, or pick an example.",
                        layout="bubble",
                    )
                    with gr.Row():
                        textbox = gr.Textbox(
                            placeholder="Ask about the documents…",
                            show_label=False,
                            scale=5,
                            max_lines=6,
                            max_length=settings.max_question_chars,
                            elem_id="question",
                            autofocus=True,
                        )
                        send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask-button")
                    with gr.Row():
                        clear_btn = gr.Button("Clear chat", size="sm", elem_id="clear-button")
                        copy_btn = gr.Button("Copy last answer", size="sm", elem_id="copy-button")
                    copy_text = gr.Textbox(visible="hidden", elem_id="copy-text")
                with gr.Column(scale=2):
                    gr.Markdown("### Sources", elem_classes=["panel-title"])
                    sources = gr.HTML(render_sources([]), elem_id="sources-panel")
            with gr.Tab("Documents", id="documents"):
                docs_table = gr.Dataframe(
                    headers=DOC_HEADERS,
                    value=doc_rows(bot.documents()),
                    interactive=False,
                    label="Indexed documents",
                    elem_id="docs-table",
                )
                upload = gr.File(
                    label=f"Add documents ({', '.join(settings.upload_types)}; up to {size_limit_text(settings)} each)",
                    file_count="multiple",
                    file_types=list(settings.upload_types),
                    type="filepath",
                    elem_id="upload",
                )
                upload_status = gr.Markdown(elem_id="upload-status")
                with gr.Row():
                    remove_pick = gr.Dropdown(
                        choices=act.uploaded_sources(), label="Uploaded document", scale=3, elem_id="remove-pick"
                    )
                    remove_btn = gr.Button("Remove from index", variant="stop", scale=1, elem_id="remove-button")
                    refresh_btn = gr.Button("Refresh", scale=1)
            with gr.Tab("Facts", id="facts"):
                with gr.Row():
                    fact_filter = gr.Textbox(
                        label="Filter", placeholder="subject, measure, unit, source…", scale=3, elem_id="facts-filter"
                    )
                    fact_kind = gr.Dropdown(FACT_KINDS, value="all", label="Kind", scale=1)
                gr.Markdown(
                    "Each fact is a number in a document: its value with unit where it is exact, whose it is "
                    "(— when the sentence does not say), its role in a change, and the sentence it comes from."
                )
                facts_table = gr.HTML(render_facts(bot.facts()), elem_id="facts-table")
            with gr.Tab("Settings", id="settings"):
                gr.Markdown("These settings apply to this browser session only.")
                engine = gr.Radio(engines, value=prefs.value["engine"], label="Answer engine")
                top_k = gr.Slider(1, 20, value=settings.top_k, step=1, label="Passages retrieved (top-k)")

        outputs = [textbox, chatbot, turns, sources, copy_text]
        ask_kw: dict[str, Any] = {"concurrency_id": "answer", "concurrency_limit": answers, **private}
        textbox.submit(act.respond, [textbox, chatbot, turns, prefs], outputs, **ask_kw)
        send.click(act.respond, [textbox, chatbot, turns, prefs], outputs, **ask_kw)
        chatbot.example_select(example_text, None, pending_q, **private).then(
            act.respond, [pending_q, chatbot, turns, prefs], outputs, **ask_kw
        )
        chatbot.retry(act.undo, [chatbot, turns], [chatbot, turns, pending_q, sources], **private).then(
            act.respond, [pending_q, chatbot, turns, prefs], outputs, **ask_kw
        )
        chatbot.undo(act.undo, [chatbot, turns], [chatbot, turns, textbox, sources], **private)
        chatbot.clear(act.clear, None, [chatbot, turns, sources, copy_text], **private)
        clear_btn.click(act.clear, None, [chatbot, turns, sources, copy_text], **private)
        copy_btn.click(None, [copy_text], None, js=COPY_JS, **private)
        chatbot.like(act.like, [chatbot, turns], None, **private)

        views = [docs_table, remove_pick, facts_table, chatbot]
        index_kw: dict[str, Any] = {"concurrency_id": "index", "concurrency_limit": 1, **private}
        upload.upload(lambda: "Indexing the upload…", None, upload_status, queue=False, **private).then(
            act.upload, [upload, fact_filter, fact_kind], [upload_status, upload, *views], **index_kw
        )
        remove_btn.click(act.remove, [remove_pick, fact_filter, fact_kind], [upload_status, *views], **index_kw)
        refresh_btn.click(act.refresh, [fact_filter, fact_kind], views, **private)
        app.load(act.refresh, [fact_filter, fact_kind], views, **private)

        fact_filter.change(act.facts_html, [fact_filter, fact_kind], facts_table, **private)
        fact_kind.change(act.facts_html, [fact_filter, fact_kind], facts_table, **private)
        engine.change(lambda e, p: {**p, "engine": e}, [engine, prefs], prefs, **private)
        top_k.change(lambda k, p: {**p, "top_k": int(k)}, [top_k, prefs], prefs, **private)

        gr.api(act.api_ask, api_name="ask", concurrency_id="answer", concurrency_limit=answers)
    return app


def _server_logging() -> None:
    """One line per log record on stderr for the bot's own loggers (unless logging is configured)."""
    logger = logging.getLogger("bot")
    if logger.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def _no_monitoring_summary(app: gr.Blocks) -> None:
    """Stop Gradio's queue from summarising every past event after each request (monitoring is off).

    By default the queue rebuilds a pandas table of up to 10,000 past events and its percentiles after
    every event, for the monitoring dashboard; with ``enable_monitoring=False`` nothing reads it, and
    its cost grows with the server's uptime (after a few hundred ``/ask`` calls it held the GIL a third
    as long as the answers themselves). It is then computed once per ``sys.maxsize`` events: never.
    """
    queue = getattr(app, "_queue", None)
    if queue is not None and hasattr(queue, "ANAYLTICS_CACHE_FREQUENCY"):  # Gradio's spelling
        queue.ANAYLTICS_CACHE_FREQUENCY = sys.maxsize


def launch(
    bot: Bot,
    host: str | None = None,
    port: int | None = None,
    auth: str | None = None,
    share: bool = False,
    concurrency: int | None = None,
    prevent_thread_lock: bool = False,
    quiet: bool = False,
) -> gr.Blocks:
    """Serve the UI with safe defaults.

    Args:
        bot: The bot to serve.
        host: Interface to bind (default ``settings.host``, i.e. 127.0.0.1).
        port: Port (default ``settings.port``; 0 picks a free one).
        auth: ``USER:PASS`` (default ``settings.auth``); None means no login.
        share: Create a public gradio.live link (off by default).
        concurrency: Answers computed at the same time (one shared bot; default
            ``settings.ui_concurrency``, else :func:`default_concurrency`).
        prevent_thread_lock: Return instead of blocking (tests, notebooks).
        quiet: Suppress Gradio's start-up messages.

    Returns:
        The running app.

    Raises:
        ConfigError: If ``auth`` is malformed.

    """
    settings = bot.settings
    if auth is None and settings.auth is not None:
        auth = settings.auth.get_secret_value()
    credentials = parse_auth(auth)
    _server_logging()
    answers = concurrency or settings.ui_concurrency or default_concurrency()
    app = build_app(bot, answers)
    app.queue(default_concurrency_limit=answers, max_size=256)
    _no_monitoring_summary(app)
    blocked = [str(p.resolve()) for p in (settings.docs_dir, settings.index_dir)]
    app.launch(
        server_name=host or settings.host,
        server_port=port if port is not None else settings.port,
        auth=credentials,
        share=share,
        prevent_thread_lock=prevent_thread_lock,
        quiet=quiet,
        show_error=False,
        allowed_paths=[],
        blocked_paths=blocked,
        max_file_size=size_limit_bytes(settings),
        ssr_mode=False,
        mcp_server=False,
        run_history=False,
        enable_monitoring=False,
        footer_links=["api"],
        css=CSS + UPLOAD_CSS,
        js=upload_guard_js(settings),
        theme=gr.themes.Default(  # system fonts: no requests to font CDNs
            font=("ui-sans-serif", "system-ui", "sans-serif"), font_mono=("ui-monospace", "monospace")
        ),
    )
    return app
