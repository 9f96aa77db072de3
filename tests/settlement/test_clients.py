"""The API clients against the bundled demo providers, a real HTTP server on loopback speaking
the documented shapes: tokens and Basic auth, cursor and offset paging, tryLater, retries,
credentials only from the environment and never in a message."""

from __future__ import annotations

from datetime import date

import pytest

from packbench.config import Settings
from packbench.operations.settlement import import_settlement
from packbench.redact import clear_secrets, redact
from packbench.settlement.clients import AuthFailed, NotConfigured, fetch, make_client
from packbench.settlement.demo import DemoCredentials, DemoProviders, ProviderData, run_in_thread
from packbench.settlement.factory import parse_file

from .test_import_ledger import ACTOR
from .test_parsers import FIXTURES, totals

C = DemoCredentials()
WEEK = {"since": date(2026, 3, 1), "until": date(2026, 3, 10)}


@pytest.fixture
def providers():
    demo = DemoProviders(ProviderData.from_fixtures(FIXTURES))
    url, stop = run_in_thread(demo)
    demo.url = url  # type: ignore[attr-defined]
    yield demo
    stop()
    clear_secrets()


@pytest.fixture
def settings(providers, monkeypatch) -> Settings:
    env = {
        "PACKBENCH_VIPPS_CLIENT_ID": C.vipps_client_id,
        "PACKBENCH_VIPPS_CLIENT_SECRET": C.vipps_client_secret,
        "PACKBENCH_VIPPS_SUBSCRIPTION_KEY": C.vipps_subscription_key,
        "PACKBENCH_KLARNA_USERNAME": C.klarna_username,
        "PACKBENCH_KLARNA_PASSWORD": C.klarna_password,
        "PACKBENCH_STRIPE_SECRET_KEY": C.stripe_secret_key,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    url = providers.url
    return Settings(
        settlement={
            "vipps_url": url + "/vipps",
            "vipps_msn": "218734",
            "klarna_url": url + "/klarna/settlements/v1",
            "stripe_url": url + "/stripe",
        }
    )


def test_vipps_token_ledgers_cursor_paging_and_try_later(providers, settings):
    result = fetch("vipps", settings, **WEEK)
    assert result.rejected == []
    t = totals(result.lines, "302118-2000147")
    assert t == {"capture": 786600, "refund": -59900, "fee": -24220, "transfer": 0,
                 "payout": -702480}  # fmt: skip
    asked = providers.requests
    assert asked[0] == "POST /vipps/accesstoken/get" and asked.count(asked[0]) == 1
    # 03-04's four captures and the fees-retained at a page size of 4: two pages of funds
    assert asked.count("GET /vipps/report/v2/ledgers/302118/funds/dates/2026-03-04") == 2
    # 03-09 is not closed: asked once per topic, and nothing after it
    assert asked.count("GET /vipps/report/v2/ledgers/302118/fees/dates/2026-03-09") == 1
    assert not any("2026-03-10" in a for a in asked)
    assert sorted(result.pending) == ["fees 2026-03-09", "funds 2026-03-09"]


def test_klarna_basic_auth_and_offset_paging(providers, settings):
    result = fetch("klarna", settings, **WEEK)
    assert result.rejected == []
    assert totals(result.lines, "NO7Q2K9D") == {
        "capture": 961500, "refund": -39900, "fee": -26042, "payout": -895558
    }  # fmt: skip
    assert providers.requests.count("GET /klarna/settlements/v1/transactions") == 6  # 22 by 4
    nothing = fetch("klarna", settings, since=date(2026, 4, 1), until=date(2026, 4, 30))
    assert nothing.lines == []


def test_stripe_cursor_paging_gives_the_same_lines_as_the_file(providers, settings, db):
    result = fetch("stripe", settings, **WEEK)
    assert result.rejected == []
    from_file = parse_file("stripe", FIXTURES / "stripe-balance-transactions.json")
    assert {ln.key: ln for ln in result.lines} == {ln.key: ln for ln in from_file.lines}
    assert providers.requests.count("GET /stripe/v1/balance_transactions") == 3  # 10 by 4
    import_settlement(db, ACTOR, from_file, source="file")
    assert import_settlement(db, ACTOR, result, source="api").new == 0


def test_rate_limits_and_outages_are_retried(providers, settings):
    providers.faults = [429, 429, 503]
    result = fetch("stripe", settings, **WEEK)
    assert totals(result.lines)["payout"] == -620872
    assert providers.faults == []


def test_a_retry_after_of_zero_is_retried_at_once(providers, settings):
    """ "Retry-After: 0" says when (now), it is not a missing header: no backoff before it."""
    import time

    from packbench.settlement.clients import StripeClient

    waits: list[float] = []

    def sleep(seconds: float) -> None:  # the real wait, noted
        waits.append(seconds)
        time.sleep(seconds)

    providers.faults = [429, 429]
    client = StripeClient(
        settings.settlement.stripe_url, secret_key=C.stripe_secret_key, sleep=sleep
    )
    try:
        client.fetch(WEEK["since"], WEEK["until"])
    finally:
        client.close()
    assert providers.faults == [] and waits == [0.0, 0.0]


def test_wrong_credentials_fail_at_once_and_say_nothing_secret(providers, settings, monkeypatch):
    monkeypatch.setenv("PACKBENCH_KLARNA_PASSWORD", "not-the-password-42")
    with pytest.raises(AuthFailed) as caught:
        fetch("klarna", settings, **WEEK)
    assert "not-the-password-42" not in str(caught.value)
    assert providers.requests.count("GET /klarna/settlements/v1/payouts") == 1  # no retry
    # every credential a client was given is a registered secret from then on
    fetch("vipps", settings, **WEEK)
    for secret in (C.vipps_client_secret, C.vipps_subscription_key, "not-the-password-42"):
        assert secret not in redact(f"boom: {secret}")


def test_the_vipps_token_is_a_secret_too(providers, settings):
    client = make_client("vipps", settings)
    try:
        headers = client._headers()
    finally:
        client.close()
    token = headers["Authorization"].removeprefix("Bearer ")
    assert token not in redact(f"Authorization failed for {token}")


def test_missing_credentials_and_unsafe_urls(settings, monkeypatch):
    monkeypatch.delenv("PACKBENCH_STRIPE_SECRET_KEY")
    with pytest.raises(NotConfigured, match="PACKBENCH_STRIPE_SECRET_KEY"):
        fetch("stripe", settings, **WEEK)
    bad = Settings(settlement={"klarna_url": "http://api.example.no/settlements/v1"})
    with pytest.raises(NotConfigured, match="plain http"):
        make_client("klarna", bad)
    with pytest.raises(NotConfigured, match="merchant serial number"):
        make_client("vipps", Settings())


def test_paging_without_a_total_follows_the_next_link(providers, settings):
    providers.quirks = {"klarna_next_only"}
    result = fetch("klarna", settings, **WEEK)
    assert totals(result.lines, "NO7Q2K9D")["payout"] == -895558
    assert sum(totals(result.lines, "NO7Q2K9D").values()) == 0  # all 22 transactions came


def test_more_without_a_cursor_is_an_error_not_a_short_report(providers, settings):
    from packbench.settlement.clients import ClientError

    providers.quirks = {"vipps_more_without_cursor"}
    with pytest.raises(ClientError, match="gives no cursor; nothing imported"):
        fetch("vipps", settings, **WEEK)
