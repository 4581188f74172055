"""Every module exports its public API with ``__all__``, and exports only what it defines."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
from types import ModuleType

import pytest

import bot.core

MODULES = ["bot.cli", "bot.config"] + [m.name for m in pkgutil.walk_packages(bot.core.__path__, "bot.core.")]


def load(name: str) -> ModuleType:
    return importlib.import_module(name)


@pytest.mark.parametrize("name", MODULES)
def test_all_names_exist_and_are_unique(name: str) -> None:
    module = load(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    assert len(exported) == len(set(exported))
    missing = [member for member in exported if not hasattr(module, member)]
    assert missing == []


@pytest.mark.parametrize("name", MODULES)
def test_public_classes_and_functions_are_exported_from_their_own_module(name: str) -> None:
    module = load(name)
    defined_here = {
        member
        for member, value in vars(module).items()
        if not member.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and getattr(value, "__module__", None) == name
    }
    assert defined_here <= set(module.__all__), (
        f"{name}: not in __all__: {sorted(defined_here - set(module.__all__))}"
    )
    for member in module.__all__:
        value = getattr(module, member)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__ == name, f"{name} re-exports {member} from {value.__module__}"


def test_the_core_and_cli_do_not_import_discord_or_storage() -> None:
    # In a fresh interpreter: other tests in this session may import discord themselves.
    imports = "; ".join(f"import {name}" for name in MODULES)
    check = "import sys; bad = {'discord', 'aiosqlite'} & set(sys.modules); assert not bad, bad"
    result = subprocess.run(
        [sys.executable, "-c", f"{imports}; {check}"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
