from __future__ import annotations

import pytest

from sessions_app.bot.text import EN, ZH, chinese_words, compact, language_of, menu_choice


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("怎么退货", ZH),
        ("我的coupon用不了", ZH),
        ("How do I return this?", EN),
        ("ＨＥＬＬＯ", EN),
        ("ok", None),
        ("SF1234567890", None),
        ("iPhone", None),
        ("https://shop.example.com/item/123", None),
        ("me@example.com", None),
        ("iPhone 15 Pro", None),
        ("hello", EN),
        ("my iphone broke", EN),
        ("OK!", None),
        ("123456", None),
        ("👍", None),
        ("", None),
    ],
)
def test_the_language_is_the_one_the_customer_writes_in(text: str, language: str | None) -> None:
    assert language_of(text) == language


def test_compact_folds_width_case_spaces_and_punctuation() -> None:
    assert compact("转 人工！") == compact("转人工") == "转人工"
    assert compact("ＡＰＰ 下载") == "app下载"


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("2", 2),
        ("２", 2),
        (" 2. ", 2),
        ("第2个", 2),
        ("选3", 3),
        ("1️⃣", 1),
        ("option 2", 2),
        ("12", 12),
        ("选择2", 2),
        ("第二个", 2),
        ("三", 3),
    ],
)
def test_a_menu_choice_is_read_however_the_number_is_written(text: str, number: int) -> None:
    assert menu_choice(text) == number


@pytest.mark.parametrize("text", ["", "二十", "2 个发票", "123", "第", "发票", "一下"])
def test_text_that_is_not_a_bare_number_picks_nothing(text: str) -> None:
    assert menu_choice(text) is None


def test_chinese_words_with_their_parts_keep_the_words_inside_long_ones() -> None:
    assert chinese_words("怎么开发票") == ["怎么", "开发票"]
    assert {"发票", "开发票"} <= set(chinese_words("怎么开发票", with_parts=True))
