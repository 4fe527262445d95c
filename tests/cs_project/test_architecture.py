"""The shape of the code that import-linter cannot see (its contracts are in pyproject.toml):
no import of our own modules placed inside a function to dodge a circle, and every task queued by
name (cs_project.task_queue) is a registered Celery task."""

from __future__ import annotations

import ast
from pathlib import Path

from cs_project.celery import app as celery_app
from tests.support.processes import BASE_DIR

OUR_PACKAGES = ("cs_project", "robots", "seats", "sessions_app", "ratings")


def _modules() -> list[Path]:
    return sorted(
        path
        for package in OUR_PACKAGES
        for path in (BASE_DIR / package).rglob("*.py")
        if "migrations" not in path.parts
    )


def _imports_inside_functions(tree: ast.AST) -> list[tuple[int, str, str]]:
    """(line, function, module) of each import of our packages that sits in a function body."""
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            found += [(node.lineno, function.name, name) for name in names if name.split(".")[0] in OUR_PACKAGES]
    return found


def test_no_module_of_ours_is_imported_inside_a_function() -> None:
    """Django's one sanctioned place is ``AppConfig.ready`` (the app registry is ready only then)."""
    offenders = [
        f"{path.relative_to(BASE_DIR)}:{line} {function}() imports {module}"
        for path in _modules()
        for line, function, module in _imports_inside_functions(ast.parse(path.read_text(), str(path)))
        if not (path.name == "apps.py" and function == "ready")
    ]
    assert offenders == []


def test_the_check_sees_an_import_inside_a_function() -> None:
    source = "def f():\n    from sessions_app.flow import inbound\n    import json\n"
    assert _imports_inside_functions(ast.parse(source)) == [(2, "f", "sessions_app.flow")]


def _queued_task_names() -> set[str]:
    names = set()
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "task_enqueue"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names.add(str(node.args[0].value))
    return names


def test_every_task_queued_by_name_is_registered() -> None:
    queued = _queued_task_names()
    assert "seats.tasks.presence_check_task" in queued  # the scan finds the calls
    celery_app.loader.import_default_modules()
    assert queued - set(celery_app.tasks) == set()
