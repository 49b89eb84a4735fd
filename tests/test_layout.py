"""The project's public layout: the three programs exist as importable packages."""

import importlib

import pytest


@pytest.mark.parametrize("package", ["mockdiscord", "bot", "sandbox"])
def test_package_imports_with_a_docstring(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__doc__ and module.__doc__.strip()
