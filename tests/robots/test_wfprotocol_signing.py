"""§2: request signing, checked against the reference's worked examples (§2.4)."""

from __future__ import annotations

import time

import pytest

from robots.wfprotocol import sign, signed_headers


def test_it_matches_the_docs_test_vector_for_the_admin_secret():
    assert sign("76616", "123456", 1558350862502) == "b98f9b0717f59febccf1440067a7f50d9b31bdde"


def test_it_matches_the_own_robot_example():
    assert sign("12345", "s3cr3t-robot", 1700000000000) == "4ceb029b190f25163b7d231f61b3af728c4912b7"


def test_it_accepts_the_timestamp_as_a_decimal_string():
    assert sign("12345", "s3cr3t-robot", "1700000000000") == "4ceb029b190f25163b7d231f61b3af728c4912b7"


def test_robot_headers_are_the_four_of_the_worked_example():
    headers = signed_headers("s3cr3t-robot", rid="cs_robot", nonce="12345", timestamp_ms=1700000000000)

    assert headers == {
        "nonce": "12345",
        "timestamp": "1700000000000",
        "sign": "4ceb029b190f25163b7d231f61b3af728c4912b7",
        "rid": "cs_robot",
    }


def test_admin_headers_have_no_rid():
    headers = signed_headers("123456", nonce="76616", timestamp_ms=1558350862502)

    assert headers == {
        "nonce": "76616",
        "timestamp": "1558350862502",
        "sign": "b98f9b0717f59febccf1440067a7f50d9b31bdde",
    }


def test_fresh_headers_use_the_current_time_in_milliseconds_and_a_new_nonce():
    before = int(time.time() * 1000)
    first = signed_headers("secret", rid="cs_robot")
    second = signed_headers("secret", rid="cs_robot")
    after = int(time.time() * 1000)

    assert before <= int(first["timestamp"]) <= after
    assert first["nonce"]
    assert first["nonce"] != second["nonce"]
    assert first["sign"] == sign(first["nonce"], "secret", first["timestamp"])


def test_the_signature_is_forty_lowercase_hex_characters():
    signature = sign("n", "secret", 1)

    assert len(signature) == 40
    assert signature == signature.lower()
    int(signature, 16)


def test_it_refuses_an_empty_nonce():
    with pytest.raises(ValueError, match="nonce"):
        sign("", "secret", 1700000000000)


@pytest.mark.parametrize("timestamp", ["17e11", "1700000000000.0", " 1700000000000", "", "１７"])
def test_it_refuses_a_timestamp_that_is_not_a_decimal_string(timestamp):
    with pytest.raises(ValueError, match="timestamp"):
        sign("12345", "secret", timestamp)


def test_it_refuses_a_bool_timestamp():
    with pytest.raises(TypeError, match="timestamp"):
        sign("12345", "secret", True)


def test_it_refuses_an_empty_rid():
    with pytest.raises(ValueError, match="rid"):
        signed_headers("secret", rid="")
