"""Small knowledge folders for storage and runtime tests."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings

TEA = """---
title: Tea notes
url: https://example.org/tea
---
Green tea comes from the leaves of Camellia sinensis.
It is steamed or pan-fired soon after picking to stop oxidation.

Black tea is fully oxidised before it is dried. Its flavour is stronger than that of green tea.
"""

TEA_CHANGED = TEA.replace(
    "Its flavour is stronger than that of green tea.",
    "Assam and Darjeeling are famous black teas. Milk is often added to black tea in Britain.",
)

COFFEE = """---
title: Coffee notes
---
Coffee beans are the roasted seeds of the Coffea plant.
Espresso is brewed by forcing hot water through finely ground coffee.
"""

INTENTS = """intents:
  - id: green-tea-source
    document: tea
    examples: ["Where does green tea come from?"]
    quotes: ["Green tea comes from the leaves of Camellia sinensis."]
  - id: hello
    examples: [hello, hi there]
    reply: Hello! Ask me about tea.
"""


def write_knowledge(
    directory: Path, *, tea: str = TEA, coffee: str | None = None, intents: str = INTENTS
) -> Path:
    """Write a knowledge folder (tea.md, optional coffee.md, intents.yaml) and return it."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "tea.md").write_text(tea, encoding="utf-8")
    if coffee is not None:
        (directory / "coffee.md").write_text(coffee, encoding="utf-8")
    elif (directory / "coffee.md").exists():
        (directory / "coffee.md").unlink()
    (directory / "intents.yaml").write_text(intents, encoding="utf-8")
    return directory


def settings_for(tmp_path: Path, **overrides: object) -> Settings:
    """Settings pointing at ``tmp_path/knowledge`` and ``tmp_path/data/citebot.sqlite3``."""
    values: dict[str, object] = {
        "knowledge_dir": tmp_path / "knowledge",
        "database_path": tmp_path / "data" / "citebot.sqlite3",
        "database_timeout_seconds": 0.5,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]
