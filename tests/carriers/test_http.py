"""The carriers' shared read retry: what is retried, how long it waits, what is raised."""

from __future__ import annotations

import pytest

from packbench.carriers.base import (
    NotFound,
    PayloadError,
    RateLimited,
    Rejected,
    TransientError,
)
from packbench.carriers.http import check_api_url, retrying


class Script:
    """An attempt that raises the given errors in turn, then answers."""

    def __init__(self, *errors: Exception, answer: str = "ok") -> None:
        self.errors = list(errors)
        self.answer = answer
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.answer


def run(script: Script, attempts: int = 4) -> tuple[str, list[float]]:
    waits: list[float] = []
    got = retrying(script, attempts=attempts, backoff_s=0.5, max_backoff_s=3.0, sleep=waits.append)
    return got, waits


def test_transient_failures_are_retried_with_doubling_waits_up_to_the_cap() -> None:
    script = Script(TransientError("a"), TransientError("b"), TransientError("c"))
    got, waits = run(script, attempts=4)
    assert (got, script.calls) == ("ok", 4)
    assert waits == [0.5, 1.0, 2.0]
    script = Script(*(TransientError(str(i)) for i in range(5)))
    got, waits = run(script, attempts=6)
    assert waits == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_a_429_waits_at_least_its_retry_after_but_not_past_the_cap() -> None:
    assert run(Script(RateLimited("slow down", retry_after=2.5))) == ("ok", [2.5])
    assert run(Script(RateLimited("slow down", retry_after=60))) == ("ok", [3.0])
    assert run(Script(RateLimited("slow down"))) == ("ok", [0.5])


@pytest.mark.parametrize(
    "error",
    [
        Rejected([]),
        NotFound("gone"),
        PayloadError("not JSON"),
        TransientError("x", retryable=False),
    ],
)
def test_an_error_that_is_not_retryable_is_raised_at_once(error: Exception) -> None:
    script = Script(error)
    with pytest.raises(type(error)) as raised:
        run(script)
    assert raised.value is error
    assert script.calls == 1


def test_the_last_error_is_raised_when_the_attempts_are_spent() -> None:
    last = TransientError("third")
    script = Script(TransientError("first"), TransientError("second"), last)
    with pytest.raises(TransientError) as raised:
        run(script, attempts=3)
    assert raised.value is last
    assert script.calls == 3


def test_other_exceptions_are_not_swallowed() -> None:
    script = Script(KeyError("bug"))
    with pytest.raises(KeyError):
        run(script)
    assert script.calls == 1


def test_no_attempt_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        run(Script(), attempts=0)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://api.bring.com", True),
        ("http://127.0.0.1:8765", True),
        ("http://localhost:8765", True),
        ("http://[::1]:8765", True),
        ("http://api.bring.com", False),
        ("ftp://api.bring.com", False),
        ("https://", False),
    ],
)
def test_api_url_is_https_or_plain_http_to_this_machine(url: str, ok: bool) -> None:
    if ok:
        check_api_url(url)
    else:
        with pytest.raises(ValueError):
            check_api_url(url)
