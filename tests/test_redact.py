"""The one redaction function: every credential form masked, ordinary text untouched."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from packbench import redact as r


@pytest.fixture(autouse=True)
def _clean_registry():
    r.clear_secrets()
    yield
    r.clear_secrets()


def test_registered_key_secret_and_basic_form_are_masked() -> None:
    r.register_basic_auth("ck_abcdef123456", "cs_secretvalue999")
    token = base64.b64encode(b"ck_abcdef123456:cs_secretvalue999").decode()
    text = f"echo: key=ck_abcdef123456 secret=cs_secretvalue999 header={token}"
    out = r.redact(text)
    assert "ck_abcdef123456" not in out
    assert "cs_secretvalue999" not in out
    assert token not in out and token.rstrip("=") not in out


def test_password_in_urls_is_masked() -> None:
    out = r.redact("connect postgresql://bench:hunter2pass@db.local:5432/packbench failed")
    assert "hunter2pass" not in out
    assert "postgresql://bench:***@db.local:5432/packbench" in out
    assert "hunter2pass" not in r.redact("https://:hunter2pass@shop.example/")


def test_keyword_passwords_and_auth_headers_are_masked() -> None:
    assert "s3cr3t" not in r.redact("host=db password=s3cr3t dbname=x")
    assert "dXNlcjpwYXNzd29yZA" not in r.redact("Authorization: Basic dXNlcjpwYXNzd29yZA==")
    assert "eyJhbGciOiJIUzI1NiJ9" not in r.redact("got Bearer eyJhbGciOiJIUzI1NiJ9.x.y")


def test_ordinary_text_is_left_alone() -> None:
    text = "order 5052: a basic checklist, 3 items, shipping to Oslo"
    assert r.redact(text) == text


def test_cut_redacts_before_cutting() -> None:
    secret = "cs_0123456789abcdefghij"
    r.register_secret(secret)
    out = r.cut("x" * 5 + secret + "y" * 50, 20)
    assert len(out) <= 20
    for n in range(6, len(secret) + 1):
        assert secret[:n] not in out


@given(st.text(min_size=4, max_size=40).filter(lambda s: s.strip() == s and len(s) >= 4))
def test_any_registered_secret_never_survives(secret: str) -> None:
    r.clear_secrets()
    r.register_secret(secret)
    assert secret not in r.redact(f"before {secret} after")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://ck_abc:cs_def@shop.example/x", "https://***@shop.example/x"),
        ("https://ck_abc@shop.example", "https://***@shop.example"),
        (
            "https://shop.example/?consumer_key=ck_abc&consumer_secret=cs_def&x",
            "https://shop.example/?consumer_key=***&consumer_secret=***&x",
        ),
        ("postgresql://bench:pw1234@db:5432/pb", "postgresql://***@db:5432/pb"),
        ("https://shop.example", "https://shop.example"),
        ("/var/lib/packbench/packbench.db", "/var/lib/packbench/packbench.db"),
        ("https://[::1", "https://[::1"),  # not parseable: redacted as text, not raised
    ],
)
def test_redact_url_hides_the_user_part_and_query_values(url: str, shown: str) -> None:
    assert r.redact_url(url) == shown


def test_cut_never_leaves_a_prefix_of_an_echoed_basic_token() -> None:
    r.register_basic_auth("ck_0123456789abcdef", "cs_fedcba9876543210")
    token = base64.b64encode(b"ck_0123456789abcdef:cs_fedcba9876543210").decode()
    for start in range(0, 40):
        out = r.cut("." * start + f"Authorization: Basic {token}" + " tail" * 20, 40)
        assert token[:8] not in out


def test_a_basic_token_escaped_the_way_php_writes_json_is_masked() -> None:
    # Chosen so the Basic form holds "/" (PHP's json_encode writes it as "\/").
    user, password = "ck_5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d", "cs_?>?>?>?>"
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    assert "/" in token
    r.register_basic_auth(user, password)
    escaped = token.replace("/", "\\/")
    for text in (f'{{"echo": "{escaped}"}}', f"<p>Basic {escaped}</p>", f"token={escaped}"):
        out = r.redact(text)
        assert escaped not in out and token not in out
        assert escaped.split("\\/")[-1][-8:] not in out  # no tail left after an escape either
    r.clear_secrets()
    out = r.redact(f"Authorization was Basic {escaped} here")
    assert escaped.split("\\/")[-1][-8:] not in out  # the pattern alone, unregistered


def test_the_log_filter_masks_message_traceback_and_stack() -> None:
    import logging

    from packbench.logs import RedactSecrets

    r.register_secret("cs_in_a_stack_frame")
    record = logging.LogRecord(
        "x", logging.ERROR, __file__, 1, "got %s", ("cs_in_a_stack_frame",), None
    )
    record.stack_info = "Stack (most recent call last):\n  secret=cs_in_a_stack_frame"
    try:
        raise RuntimeError("cs_in_a_stack_frame")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    assert RedactSecrets().filter(record)
    text = logging.Formatter().format(record)
    assert "cs_in_a_stack_frame" not in text and text.count("***") >= 3
