"""The catalogues are complete: every string the code marks for translation has its Chinese, and
nothing is fuzzy (Django drops fuzzy entries, which is how half-English pages happen)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
ZH_HANS = BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
# What makemessages would scan besides the product: nothing of these holds product strings.
NOT_SCANNED = (".git", ".venv", "var", "test-artifacts", "tests", "node_modules", "__pycache__")


def _statistics(catalogue: Path) -> dict[str, int]:
    """msgfmt's own count: "622 translated messages, 1 fuzzy translation, 3 untranslated messages."."""
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", os.devnull, str(catalogue)],
        capture_output=True,
        text=True,
        check=True,
    )
    counts = {kind: 0 for kind in ("translated", "fuzzy", "untranslated")}
    for number, kind in re.findall(r"(\d+) (translated|fuzzy|untranslated)", result.stderr):
        counts[kind] = int(number)
    return counts


def test_the_chinese_catalogue_has_no_untranslated_or_fuzzy_entry() -> None:
    counts = _statistics(ZH_HANS)
    assert counts["translated"] > 500
    assert counts["fuzzy"] == 0, counts
    assert counts["untranslated"] == 0, counts


def test_every_string_the_code_marks_for_translation_is_in_the_chinese_catalogue(tmp_path: Path) -> None:
    """makemessages over a copy of the tree merges the code's strings into the catalogue: a string
    new in the code (or changed) shows up there as untranslated or fuzzy."""
    copy = tmp_path / "tree"
    shutil.copytree(BASE_DIR, copy, ignore=shutil.ignore_patterns(*NOT_SCANNED), symlinks=True)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-wrap", "--no-location", "-v0"]
        + [f"--ignore={name}" for name in NOT_SCANNED],
        cwd=copy,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "cs_project.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    merged = copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    counts = _statistics(merged)
    if counts["untranslated"] or counts["fuzzy"]:
        report = (
            subprocess.run(
                ["msgattrib", "--only-fuzzy", "--no-obsolete", "--no-wrap", str(merged)],
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            + subprocess.run(
                ["msgattrib", "--untranslated", "--no-obsolete", "--no-wrap", str(merged)],
                capture_output=True,
                text=True,
                check=False,
            ).stdout
        )
        raise AssertionError(f"locale/zh_Hans lacks these (run makemessages and translate them):\n{report}")
