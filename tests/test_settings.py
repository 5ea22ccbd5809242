"""Settings: BOT_* variables and .env are read, in the documented precedence; bad values are ConfigErrors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import Settings, load_settings


def test_defaults() -> None:
    s = load_settings()
    assert s.docs_dir == Path("seeds") and s.index_dir == Path("index") and s.collection is None
    assert s.chroma_url is None and s.llm == "grounded"
    assert s.chroma_dir == Path("index/chroma") and s.uploads_dir == Path("index/uploads")


def test_env_vars_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_DOCS_DIR", "/data/reports")
    monkeypatch.setenv("BOT_CHUNK_SIZE", "300")
    monkeypatch.setenv("BOT_TOP_K", "7")
    monkeypatch.setenv("BOT_CHROMA_URL", "http://localhost:8000/")
    monkeypatch.setenv("BOT_CHROMA_TOKEN", "s3cret")
    monkeypatch.setenv("bot_collection", "lower-case-works")
    s = load_settings()
    assert s.docs_dir == Path("/data/reports") and s.chunk_size == 300 and s.top_k == 7
    assert s.chroma_url == "http://localhost:8000"  # trailing slash dropped
    assert s.chroma_token is not None and s.chroma_token.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(s)
    assert s.collection == "lower-case-works"


def test_dotenv_is_read_and_env_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # conftest chdirs every test into its tmp_path, so this is the working directory's .env; it also sets
    # BOT_LLM=grounded in the environment (which would beat .env), so drop that here
    monkeypatch.delenv("BOT_LLM", raising=False)
    (tmp_path / ".env").write_text("BOT_TOP_K=9\nBOT_INDEX_DIR=from-dotenv\nBOT_LLM=openai\nOTHER=ignored\n")
    s = load_settings()
    assert s.top_k == 9 and s.index_dir == Path("from-dotenv") and s.llm == "openai"
    monkeypatch.setenv("BOT_TOP_K", "3")
    assert load_settings().top_k == 3  # environment beats .env
    assert load_settings(top_k=5).top_k == 5  # explicit overrides beat both
    assert load_settings(top_k=None).top_k == 3  # None means "not given"


def test_empty_chroma_url_means_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_CHROMA_URL", "")
    assert load_settings().chroma_url is None


@pytest.mark.parametrize(
    ("env", "value", "message"),
    [
        ("BOT_CHUNK_SIZE", "abc", r"^Invalid setting chunk_size: .*integer"),
        ("BOT_CHUNK_SIZE", "5", r"^Invalid setting chunk_size: .*greater than or equal to 100"),
        ("BOT_TOP_K", "0", r"^Invalid setting top_k: "),
        ("BOT_CHROMA_URL", "localhost:8000", r"^Invalid setting chroma_url: .*must start with http:// or https://"),
        ("BOT_COLLECTION", "ab", r"^Invalid setting collection: .*at least 3 characters"),
        ("BOT_COLLECTION", "bad name!", r"^Invalid setting collection: .*pattern"),
        ("BOT_LLM", "gpt5", r"^Invalid setting llm: .*'grounded', 'openai', 'llamacpp' or 'local'"),
        ("BOT_PORT", "70000", r"^Invalid setting port: "),
    ],
)
def test_invalid_values_raise_config_error(monkeypatch: pytest.MonkeyPatch, env: str, value: str, message: str) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError, match=message) as info:
        load_settings()
    assert "\n" not in str(info.value)
    assert info.value.exit_code == 2


def test_invalid_value_in_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("BOT_MAX_FILE_MB=-1\n")
    with pytest.raises(ConfigError, match=r"^Invalid setting max_file_mb: .*greater than 0"):
        load_settings()


def test_invalid_override() -> None:
    with pytest.raises(ConfigError, match="Invalid setting fetch_k"):
        load_settings(fetch_k=0)


def test_settings_is_plain_pydantic() -> None:
    s = Settings(docs_dir="seeds", index_dir="/tmp/idx")
    assert s.chroma_dir == Path("/tmp/idx/chroma")
