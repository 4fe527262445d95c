"""No Chinese text hard-coded in the code that talks to people: what a customer reads is an editable
setting (``ServiceSettings.text``, in their language), what a servicer or supervisor reads goes through
gettext. The scan reads the syntax tree of our modules for string constants with CJK characters that
are not a gettext argument, a docstring, or data on the allowlist below (matched words, setting
defaults, demo data), so a new literal fails here rather than in front of an English customer."""

from __future__ import annotations

import ast
import re
from fnmatch import fnmatch
from pathlib import Path

from tests.support.processes import BASE_DIR

SCANNED_PACKAGES = ("sessions_app", "seats", "ratings", "robots", "cs_project")
# The FAQ bot's words (sessions_app.bot) are the language it reads, not texts it shows.
SKIPPED_PARTS = ("migrations", "bot")
GETTEXT_NAMES = frozenset(
    {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy", "gettext_noop"}
)
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

# (module, where the constant sits: the assignment's target, Class.attribute, or function()): data, not texts.
ALLOWED = {
    # The editable customer texts' Chinese defaults and the keyword lists a supervisor edits.
    ("sessions_app/models.py", "ServiceSettings.*"),
    # Each language named in itself, as language pickers do.
    ("sessions_app/models.py", "CUSTOMER_LANGUAGES"),
    # The searchable text Wildfire's own clients give an image (the wire protocol).
    ("robots/wfprotocol/content.py", "IMAGE_SEARCHABLE_TEXT"),
    # The robot's name as the IM app shows it, set once on the IM server.
    ("robots/services.py", "CS_ROBOT_DISPLAY_NAME"),
    # The history command's default word, an environment setting.
    ("cs_project/settings.py", "CS_HISTORY_COMMAND"),
    # A customer's "转…" (转售后) is read as asking for a group: a matched word, not a text.
    ("sessions_app/flow/routing.py", "TRANSFER_PREFIX"),
    # Demo data and the demo's bilingual banner.
    ("cs_project/management/commands/seed_demo.py", "*"),
    ("cs_project/management/commands/run_demo.py", "*"),
}


def _where(stack: list[ast.AST]) -> str:
    """The innermost assignment target, class attribute or function that holds a constant."""
    names: list[str] = []
    for node in stack:
        if isinstance(node, ast.ClassDef):
            names = [node.name]
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return f"{'.'.join([*names, node.name])}()"
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            target = targets[0]
            if isinstance(target, ast.Name):
                return ".".join([*names, target.id])
    return ".".join(names) or "<module>"


def hardcoded_chinese(tree: ast.AST) -> list[tuple[int, str, str]]:
    """(line, where, text) of each CJK string constant that is neither a gettext argument nor a docstring."""
    exempt: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute):
            name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            if name in GETTEXT_NAMES:
                exempt.update(id(inner) for arg in node.args for inner in ast.walk(arg))
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
            exempt.add(id(first.value))  # a docstring
    found: list[tuple[int, str, str]] = []

    def visit(node: ast.AST, stack: list[ast.AST]) -> None:
        text = node.value if isinstance(node, ast.Constant) and id(node) not in exempt else None
        if isinstance(text, str) and CJK.search(text):
            found.append((getattr(node, "lineno", 0), _where(stack), text))
        for child in ast.iter_child_nodes(node):
            visit(child, [*stack, node])

    visit(tree, [])
    return found


def _modules() -> list[Path]:
    return sorted(
        path
        for package in SCANNED_PACKAGES
        for path in (BASE_DIR / package).rglob("*.py")
        if not set(SKIPPED_PARTS) & set(path.relative_to(BASE_DIR / package).parts)
    )


def test_no_chinese_text_is_hard_coded_outside_gettext_and_settings() -> None:
    offenders = []
    for path in _modules():
        module = path.relative_to(BASE_DIR).as_posix()
        for line, where, text in hardcoded_chinese(ast.parse(path.read_text(), str(path))):
            if not any(module == allowed and fnmatch(where, pattern) for allowed, pattern in ALLOWED):
                offenders.append(f"{module}:{line} {where}: {text!r}")
    assert offenders == []


def test_the_scan_sees_literals_but_not_gettext_or_docstrings() -> None:
    source = (
        'def tell():\n    """说明。"""\n    reply = "您好"\n    ok = _("Hello")\n'
        '    also = _("你好")\n    return f"客户 {reply}"\n'
        'class ServiceSettings:\n    welcome_text = Field(default="欢迎")\n'
    )
    found = [(line, where) for line, where, _text in hardcoded_chinese(ast.parse(source))]
    assert found == [(3, "tell()"), (6, "tell()"), (8, "ServiceSettings.welcome_text")]


# Templates and scripts: their texts come through {% translate %} / djangojs gettext (or data-t-*
# attributes the template fills), so Chinese outside those and outside comments is hard-coded.
TEMPLATE_DIRS = ("sessions_app", "seats", "ratings", "robots", "cs_project", "templates")
TEMPLATE_ALLOWED = {
    # The console's logo: one decorative character, hidden from screen readers.
    '<span class="brand-mark" aria-hidden="true">客</span>',
    # Each language named in itself on the language switch.
    '{% if code == "zh-hans" %}中文{% else %}English{% endif %}',
}
TRANSLATED = re.compile(
    r"{%\s*(?:translate|trans)\s.*?%}|{%\s*blocktranslate.*?%}.*?{%\s*endblocktranslate\s*%}"
    r"|{#.*?#}|{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|<!--.*?-->",
    re.DOTALL,
)
JS_COMMENT = re.compile(r"/\*.*?\*/|(?<![:\"'\\])//[^\n]*", re.DOTALL)


def template_chinese(source: str) -> list[str]:
    """The lines of a template with Chinese outside translate tags, comments and the allowlist."""
    for allowed in TEMPLATE_ALLOWED:
        source = source.replace(allowed, "")
    return [line.strip() for line in TRANSLATED.sub("", source).splitlines() if CJK.search(line)]


def test_no_chinese_text_is_hard_coded_in_templates_or_scripts() -> None:
    templates = sorted(
        path for top in TEMPLATE_DIRS for path in (BASE_DIR / top).rglob("*.html") if "templates" in path.parts
    )
    assert templates, "the scan sees the templates"
    offenders = [
        f"{path.relative_to(BASE_DIR)}: {line}" for path in templates for line in template_chinese(path.read_text())
    ]
    for path in sorted((BASE_DIR / "static" / "js").rglob("*.js")):
        code = JS_COMMENT.sub("", path.read_text())
        offenders += [f"{path.relative_to(BASE_DIR)}: {line.strip()}" for line in code.splitlines() if CJK.search(line)]
    assert offenders == []


def test_the_template_scan_sees_text_outside_translate_tags() -> None:
    source = '{% translate "Hello" %}\n<p>{% blocktranslate %}你好{% endblocktranslate %}</p>\n<b>欢迎</b>\n{# 注释 #}'
    assert template_chinese(source) == ["<b>欢迎</b>"]
