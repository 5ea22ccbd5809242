"""The ``bot`` command line: a thin shell over the library.

Every command reads the one settings object (flags override ``BOT_*``
variables), builds or updates the index when it is missing or stale, and turns
:class:`bot.errors.BotError` into a one-line message and a non-zero exit code.
Heavy libraries are imported inside the commands so ``bot --help`` is instant.
The shared plumbing (errors, settings, progress, opening the bot) is in :mod:`bot.cli_support`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

# open_bot is looked up here at call time, so tests can replace ``bot.cli.open_bot``.
from bot.cli_support import echo_err, handle_errors, open_bot, rich_progress, settings_from

app = typer.Typer(
    name="bot",
    help=(
        "Ask questions about a folder of documents and get short, cited answers.\n\n"
        "Examples:\n\n"
        "  bot chat                                   # web UI on ./seeds (index built on first run)\n\n"
        "  bot index --docs seeds --index index       # build or update the index\n\n"
        '  bot ask "How many vehicles were delivered in November?"\n\n'
        "  bot facts --subject Acme --json          # numeric facts with their source spans\n\n"
        "  bot eval evals/seed_questions.jsonl --out out/"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

DocsOpt = Annotated[Path | None, typer.Option("--docs", help="Documents folder [env BOT_DOCS_DIR; default seeds].")]
IndexOpt = Annotated[Path | None, typer.Option("--index", help="Index folder [env BOT_INDEX_DIR; default index].")]


ENGINE_HELP = (
    "Answer engine: auto, grounded, local, openai, llamacpp [env BOT_LLM; default: auto when the local model "
    "is installed, else grounded]."
)


@app.command("index")
@handle_errors
def index_cmd(docs: DocsOpt = None, index: IndexOpt = None, quiet: bool = typer.Option(False, "--quiet", "-q")) -> None:
    """Build or update the index of a documents folder (incremental).

    Examples:

      bot index

      bot index --docs ~/reports --index ~/.cache/reports-index

      BOT_CHROMA_URL=http://localhost:8000 bot index --docs seeds
    """
    report = open_bot(settings_from(docs, index), quiet=quiet, summary=False, indexing=True).last_report
    if not quiet and report:
        typer.echo(report.summary())


@app.command("search")
@handle_errors
def search_cmd(
    query: str,
    docs: DocsOpt = None,
    index: IndexOpt = None,
    k: int = typer.Option(None, "--k", "-k", help="Number of chunks."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show the chunks the hybrid retriever returns for a query.

    Examples:

      bot search "deliveries in November"

      bot search "stake" -k 2 --json
    """
    settings = settings_from(docs, index)
    docs_found = open_bot(settings, quiet=True).hybrid.search(query, k=k or settings.top_k)
    if as_json:
        typer.echo(
            json.dumps([{"text": d.page_content, **d.metadata} for d in docs_found], indent=2, ensure_ascii=False)
        )
        return
    for d in docs_found:
        m = d.metadata
        typer.echo(f"[{m['source']} {m['start']}-{m['end']} score={m['score']:.4f}]\n{d.page_content}\n")


@app.command("ask")
@handle_errors
def ask_cmd(
    question: Annotated[str, typer.Argument(help="The question (quote it).")],
    docs: DocsOpt = None,
    index: IndexOpt = None,
    history: Annotated[
        list[str] | None, typer.Option("--history", "-H", help="An earlier question of the conversation (repeatable).")
    ] = None,
    engine: Annotated[str | None, typer.Option("--engine", help=ENGINE_HELP)] = None,
    as_json: bool = typer.Option(False, "--json", help="Print the whole Answer object as JSON."),
) -> None:
    """Answer one question from the documents, with citations.

    After the answer, a line gives how sure it is (Sure, Likely (a guess) or Not sure) and its confidence;
    --json has them as assertion, confidence and claim.

    Examples:

      bot ask "How many vehicles were delivered in November?"

      bot ask "And what stake did that buy?" -H "Which company invested 2 billion euros?"

      bot ask "What is that price range in dollars?" --json
    """
    answer = open_bot(settings_from(docs, index, llm=engine), quiet=True).ask(question, history or [])
    if as_json:
        typer.echo(answer.model_dump_json(indent=2))
        return
    from bot.safe_text import shown_name, terminal_safe
    from bot.verdict.tiers import tier_line

    typer.echo(terminal_safe(answer.text))  # no control character from a document reaches the terminal
    typer.echo(tier_line(answer))
    for c in answer.citations:
        if f"[{c.n}] “" not in answer.text:
            quote = terminal_safe(c.quote, one_line=True)
            typer.echo(f"[{c.n}] {shown_name(c.source)}:{c.start}-{c.end} “{quote}”")
    if answer.flags:
        echo_err("Note: " + "; ".join(answer.flags))


@app.command("facts")
@handle_errors
def facts_cmd(
    docs: DocsOpt = None,
    index: IndexOpt = None,
    subject: Annotated[str | None, typer.Option("--subject", help="Only facts whose subject matches.")] = None,
    as_json: bool = typer.Option(False, "--json", help="Print JSON (one object per fact)."),
) -> None:
    """List the numeric facts extracted from the documents, with their source spans.

    Examples:

      bot facts

      bot facts --subject Acme

      bot facts --json > facts.json
    """
    from bot.facts import facts_about

    facts = facts_about(open_bot(settings_from(docs, index), quiet=True).facts(), subject)
    if as_json:
        typer.echo(json.dumps([f.model_dump() for f in facts], indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("subject", "measure", "value", "kind", "period", "source span", show_lines=False)
    for f in facts:
        table.add_row(
            f.subject or "", f.measure or "", f.quantity_text, f.kind, f.period or "", f"{f.source}:{f.start}-{f.end}"
        )
    Console().print(table)
    typer.echo(f"{len(facts)} facts")


@app.command("eval")
@handle_errors
def eval_cmd(
    questions: Annotated[Path, typer.Argument(help="Question set: .jsonl, .csv or .yaml.")],
    docs: DocsOpt = None,
    index: IndexOpt = None,
    engine: Annotated[str | None, typer.Option("--engine", help=ENGINE_HELP)] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Output folder [default eval-out/<question set name>].")
    ] = None,
    min_score: Annotated[
        float | None,
        typer.Option("--min-score", min=0.0, max=1.0, help="Exit 1 when the score (0-1) is below this."),
    ] = None,
    min_own_words: Annotated[
        float | None,
        typer.Option("--min-own-words", min=0.0, max=1.0, help="Exit 1 when the own-words score is below this."),
    ] = None,
    min_precision: Annotated[
        float | None,
        typer.Option("--min-precision", min=0.0, max=1.0, help="Exit 1 when precision (right / stated) is below this."),
    ] = None,
    max_wrong_rate: Annotated[
        float | None,
        typer.Option(
            "--max-wrong-rate", min=0.0, max=1.0, help="Exit 1 when the wrong rate (wrong / all) is above this."
        ),
    ] = None,
    min_right: Annotated[
        float | None,
        typer.Option("--min-right", min=0.0, max=1.0, help="Exit 1 when the right rate (right / all) is below this."),
    ] = None,
    half: Annotated[
        int | None,
        typer.Option("--half", min=1, max=2, help="Ask only this fixed half: 1 (tuning) or 2 (held out)."),
    ] = None,
    sample: Annotated[
        int | None,
        typer.Option("--sample", min=1, help="Ask a fixed, evenly spaced sample of this many questions."),
    ] = None,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    """Ask a question set and score the answers; write answers.jsonl, summary.json, report.md and charts.

    The score is the fraction of questions passing all their checks (expected answer, regexes,
    refusal, cited sources, numbers supported by the citations). "Own words" counts an answer only
    when what the bot says itself - before any quoted passage, source list or citation marker -
    contains the expected answer; "quoted" counts it anywhere, quoted passages included. Follow-ups
    get the bot's own earlier answers of the same conversation.

    Every answer is also right, wrong or abstained: right = a plainly stated answer whose own words
    hold the expected answer, or a refusal of an unanswerable question; wrong = any other plainly
    stated answer; abstained = a refusal, an abstention or a hedged ("Probably ...") guess. Precision
    = right / (right + wrong), coverage = (right + wrong) / all, wrong rate = wrong / all, right rate
    = right / all; the report adds per-tier counts, risk-coverage and calibration (ECE). Questions
    fall in two fixed halves by document (or conversation): half 1 is for tuning, half 2 is held out.

    For example:

      bot eval evals/seed_questions.jsonl --out out/seed

      bot eval evals/batteries_questions.jsonl --docs evals/corpus_batteries --index /tmp/bat-index

      bot eval questions.csv --min-score 0.8     # exit 1 below 80 %

      bot eval set.jsonl --docs corpus --sample 40 --min-own-words 0.4

      bot eval set.jsonl --half 2 --min-precision 0.9 --max-wrong-rate 0.05 --min-right 0.5
    """
    from bot.errors import InputError
    from bot.evaluate import assign_halves, load_questions, run_eval, write_outputs
    from bot.evaluate.console import gate_failures, summary_lines

    qs = load_questions(questions)  # a malformed set fails before the index and model load
    halves = assign_halves(qs)  # over the whole set, so a half or a sample keeps each question's half
    if half is not None:
        qs = [q for q in qs if halves[q.id] == half]
        if not qs:
            raise InputError(f"{questions}: no questions in half {half} (the set has one document or conversation).")
    if sample and sample < len(qs):
        step = len(qs) / sample
        qs = [qs[int(i * step)] for i in range(sample)]
    settings = settings_from(docs, index, llm=engine)
    bot = open_bot(settings, quiet=quiet)
    with rich_progress(quiet) as progress:
        result = run_eval(qs, bot, engine=settings.engine, progress=progress, halves=halves)
    out_dir = out or Path("eval-out") / questions.stem
    s = write_outputs(result, out_dir, title=questions.name)
    for line in summary_lines(s, settings.engine):
        typer.echo(line)
    typer.echo(f"Report: {out_dir / 'report.md'}")
    failed = gate_failures(
        s,
        min_score=min_score,
        min_own_words=min_own_words,
        min_precision=min_precision,
        max_wrong_rate=max_wrong_rate,
        min_right=min_right,
    )
    for message in failed:
        echo_err(message)
    if failed:
        raise typer.Exit(1)


@app.command("chat")
@handle_errors
def chat_cmd(
    docs: DocsOpt = None,
    index: IndexOpt = None,
    host: str = typer.Option(None, "--host", help="Interface to bind [env BOT_HOST; default 127.0.0.1]."),
    port: int = typer.Option(None, "--port", help="Port [env BOT_PORT; default 7860; 0 = any free port]."),
    auth: str = typer.Option(
        None, "--auth", help="USER:PASS login [env BOT_AUTH, preferred: flags show up in `ps`]; default: no login."
    ),
    share: bool = typer.Option(False, "--share", help="Also publish a public gradio.live link (off by default)."),
) -> None:
    """Serve the chat web UI (builds or updates the index first).

    Examples:

      bot chat                                   # http://127.0.0.1:7860 on ./seeds

      bot chat --docs ~/reports --index ~/.cache/reports-index --port 8080

      BOT_AUTH=alice:s3cret bot chat --host 0.0.0.0
    """
    import os

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    settings = settings_from(docs, index, host=host, port=port, auth=auth)
    from bot.ui import parse_auth

    login = parse_auth(settings.auth.get_secret_value() if settings.auth else None)
    bot = open_bot(settings)
    bot.embeddings.embed_query("warm up")
    if share and not login:
        echo_err("Warning: --share publishes the UI on a public link without a login; consider --auth / BOT_AUTH.")
    if settings.host not in ("127.0.0.1", "localhost", "::1") and not login:
        echo_err(f"Warning: serving on {settings.host} without a login; anyone on the network can use it.")
    echo_err(f"Serving the chat UI on http://{settings.host}:{settings.port} (Ctrl+C to stop).")
    from bot.ui import launch

    launch(bot, share=share)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="bot")


if __name__ == "__main__":
    sys.exit(main())
