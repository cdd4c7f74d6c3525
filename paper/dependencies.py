"""Lookup of functions from ``theory`` and ``empirical`` that a pipeline step needs.

The pipeline calls theory and measurement code and never re-implements it. A
function that does not exist yet raises :class:`MissingDependency`, which the
pipeline turns into a logged warning and a skipped step, so the other figures
are still produced.
"""

from __future__ import annotations

import importlib
from typing import Any


class MissingDependency(RuntimeError):
    """A module or function that a step needs is not present in this checkout."""

    def __init__(self, qualified_name: str, reason: str):
        super().__init__(f"{qualified_name} is not available ({reason})")
        self.qualified_name = qualified_name


class MissingData(RuntimeError):
    """A data file that a figure or table reads has not been generated."""


def require(module_name: str, attribute: str) -> Any:
    """Return ``module_name.attribute``, or raise MissingDependency naming it."""
    qualified_name = f"{module_name}.{attribute}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and module_name.startswith(error.name):
            raise MissingDependency(qualified_name, f"module {module_name} not found") from None
        raise
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise MissingDependency(qualified_name, f"{module_name} has no {attribute!r}") from None


def optional(module_name: str, attribute: str) -> Any | None:
    """Return ``module_name.attribute``, or None when it is missing."""
    try:
        return require(module_name, attribute)
    except MissingDependency:
        return None
