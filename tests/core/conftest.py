"""Fixtures shared by the core tests: the real knowledge folder and a service over it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.knowledge import KnowledgeBase, load_knowledge_dir
from bot.core.service import QAService

KNOWLEDGE_DIR = Path(__file__).resolve().parents[2] / "knowledge"


@pytest.fixture(scope="session")
def knowledge() -> KnowledgeBase:
    return load_knowledge_dir(KNOWLEDGE_DIR)


@pytest.fixture(scope="session")
def service(knowledge: KnowledgeBase) -> QAService:
    return QAService(knowledge)
