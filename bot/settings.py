"""One typed settings object for every shell (CLI, web UI, evaluation, Python API).

Values come from, in order of precedence: explicit keyword arguments, ``BOT_*``
environment variables, a ``.env`` file in the working directory, defaults.
Nothing here acts on import: call :func:`load_settings` (or build
:class:`Settings` yourself) at start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_model_dir() -> Path:
    """``$XDG_CACHE_HOME/docqa-bot/models`` or ``~/.cache/docqa-bot/models`` (:mod:`bot.llm.local_model` owns it)."""
    from bot.llm.local_model import default_model_dir

    return default_model_dir()


class Settings(BaseSettings):
    """Settings of the document Q&A bot.

    Example:
        >>> s = Settings(docs_dir="seeds", index_dir="/tmp/idx")
        >>> s.collection is None  # unset: one collection per docs folder, see collection_name
        True
    """

    model_config = SettingsConfigDict(env_prefix="BOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Corpus and index
    docs_dir: Path = Field(Path("seeds"), description="Folder of documents to index.")
    index_dir: Path = Field(Path("index"), description="Where the index (Chroma files, manifest) lives.")
    collection: str | None = Field(
        None,
        min_length=3,
        max_length=50,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]$",
        description="Chroma collection name (3+ characters); unset = one per docs folder (see collection_name).",
    )
    chunk_size: int = Field(600, ge=100, le=4000, description="Target chunk length in characters.")
    chunk_overlap: int = Field(1, ge=0, le=5, description="Sentences repeated between neighbouring chunks.")
    max_file_mb: float = Field(20.0, gt=0, description="Files larger than this are skipped when indexing.")
    embed_batch_size: int = Field(32, ge=1, le=1024)
    embedder: Literal["onnx", "torch"] = Field(
        "onnx",
        description="How the embedding model runs: onnx (ONNX Runtime, no torch; exported once into "
        "BOT_MODEL_DIR/onnx) or torch (sentence-transformers); both give the same vectors.",
    )

    # Retrieval
    top_k: int = Field(4, ge=1, le=50, description="Chunks returned by the retriever.")
    fetch_k: int = Field(20, ge=1, le=200, description="Candidates each of dense and BM25 search contribute.")

    # Chroma location: embedded (default) or a server
    chroma_url: str | None = Field(None, description="http(s)://host:port of a Chroma server; unset = embedded.")
    chroma_token: SecretStr | None = Field(None, description="Bearer token for the Chroma server.")
    chroma_tenant: str | None = Field(None, min_length=3, description="Chroma tenant (created if missing).")
    chroma_database: str | None = Field(None, min_length=3, description="Chroma database (created if missing).")

    # Answering
    llm: Literal["auto", "grounded", "openai", "llamacpp", "local"] | None = Field(
        None,
        description="Answer engine: auto (grounded and the bundled model checking each other), grounded (no "
        "generative model), local (the bundled model), openai, llamacpp; unset = auto when the bundled model is "
        "installed, else grounded (see engine).",
    )
    openai_base_url: str | None = Field(None, description="Base URL of an OpenAI-compatible API.")
    openai_model: str = Field("gpt-4o-mini")
    openai_api_key: SecretStr | None = Field(None)
    llamacpp_model_path: Path | None = Field(None, description="Local GGUF file for llama-cpp-python.")
    model_dir: Path = Field(
        default_factory=_default_model_dir, description="Where the local model is joined (BOT_LLM=local)."
    )
    llm_threads: int = Field(0, ge=0, le=256, description="CPU threads for local models (0 = all cores).")
    llm_timeout_s: float = Field(60.0, gt=0)
    sure_confidence: float = Field(
        0.775, ge=0.0, le=1.0, description="Confidence from which an answer is stated plainly (tier 'sure')."
    )
    likely_confidence: float = Field(
        0.55, ge=0.0, le=1.0, description="Confidence from which an answer is given as a hedged guess ('likely')."
    )
    max_question_chars: int = Field(2000, ge=10, le=100_000)

    # Web UI
    host: str = Field("127.0.0.1")
    port: int = Field(7860, ge=0, le=65535)
    auth: SecretStr | None = Field(None, description="USER:PASS for the web UI.")
    upload_max_mb: float = Field(10.0, gt=0)
    ui_concurrency: int | None = Field(
        None, ge=1, le=256, description="Answers the web UI computes at the same time; unset = a few per core."
    )
    upload_types: tuple[str, ...] = Field((".txt", ".md", ".html", ".pdf"))

    @field_validator("chroma_url")
    @classmethod
    def _check_url(cls, v: str | None) -> str | None:
        if v in (None, ""):
            return None
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v.rstrip("/")

    @model_validator(mode="after")
    def _index_apart(self) -> Settings:
        """The index needs a folder of its own: as the docs folder, its files would be read as documents."""
        from bot.load import index_inside_docs

        index_inside_docs(self.docs_dir, self.index_dir)  # raises ConfigError when they are one folder
        return self

    @property
    def engine(self) -> str:
        """The engine that answers: ``llm`` if set, else ``auto`` when the bundled model is installed, else grounded."""
        if self.llm:
            return self.llm
        from bot.llm.local_model import installed

        return "auto" if installed() else "grounded"

    @property
    def project_id(self) -> str:
        """Owner id of the records this docs folder writes: a short hash of its resolved path."""
        import hashlib

        return hashlib.sha256(str(Path(self.docs_dir).expanduser().resolve()).encode()).hexdigest()[:12]

    @property
    def collection_name(self) -> str:
        """The Chroma collection used: ``collection`` if set, else ``<folder name>-<hash of its path>``."""
        if self.collection:
            return self.collection
        import re

        name = Path(self.docs_dir).expanduser().resolve().name
        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("._-")[:30].strip("._-") or "docs"
        return f"{slug}-{self.project_id[:8]}"

    @property
    def chroma_dir(self) -> Path:
        """Folder of the embedded Chroma database."""
        return self.index_dir / "chroma"

    @property
    def uploads_dir(self) -> Path:
        """Folder where web-UI uploads are kept (indexed with the docs folder)."""
        return self.index_dir / "uploads"


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment and ``.env``, with explicit overrides.

    Args:
        **overrides: Field values that win over the environment (``None`` values are ignored).

    Returns:
        The validated settings.

    Raises:
        ConfigError: If a value is invalid.
    """
    from pydantic import ValidationError

    from bot.errors import ConfigError

    clean = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**clean)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigError(f"Invalid setting {loc}: {first['msg']}") from None
