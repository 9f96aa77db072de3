"""Payment provider credentials: the environment first, then the OS keyring (the shop's code
path, tested through keyring's own backend interface); never on the command line, in the
configuration file, the database or the log; ``config show`` says where they come from, not
what they are."""

from __future__ import annotations

import io
import logging
from contextlib import redirect_stdout
from datetime import date
from pathlib import Path

import pytest

from packbench import cli
from packbench.config import ConfigError, Settings, load_settings
from packbench.redact import clear_secrets
from packbench.settlement.clients import AuthFailed, NotConfigured, fetch
from packbench.settlement.demo import DemoCredentials, DemoProviders, ProviderData, run_in_thread
from tests.shop.test_credentials import MemoryKeyring, ring  # noqa: F401

from .test_parsers import FIXTURES

C = DemoCredentials()
WEEK = {"since": date(2026, 3, 1), "until": date(2026, 3, 10)}
ENV = (
    "PACKBENCH_VIPPS_CLIENT_ID",
    "PACKBENCH_VIPPS_CLIENT_SECRET",
    "PACKBENCH_VIPPS_SUBSCRIPTION_KEY",
    "PACKBENCH_KLARNA_USERNAME",
    "PACKBENCH_KLARNA_PASSWORD",
    "PACKBENCH_STRIPE_SECRET_KEY",
)


@pytest.fixture
def url(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    demo = DemoProviders(ProviderData.from_fixtures(FIXTURES))
    base, stop = run_in_thread(demo)
    yield base
    stop()
    clear_secrets()


def settings_for(url: str) -> Settings:
    return Settings(
        settlement={
            "vipps_url": url + "/vipps",
            "vipps_msn": "218734",
            "klarna_url": url + "/klarna/settlements/v1",
            "stripe_url": url + "/stripe",
        }
    )


def keyring_holds_the_demo_credentials(ring: MemoryKeyring) -> None:  # noqa: F811
    for name, value in {
        "vipps_client_id": C.vipps_client_id,
        "vipps_client_secret": C.vipps_client_secret,
        "vipps_subscription_key": C.vipps_subscription_key,
        "klarna_username": C.klarna_username,
        "klarna_password": C.klarna_password,
        "stripe_secret_key": C.stripe_secret_key,
    }.items():
        ring.set_password("packbench", name, value)


def test_each_provider_imports_with_credentials_from_the_keyring(url, ring) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    keyring_holds_the_demo_credentials(ring)
    settings = settings_for(url)
    assert fetch("vipps", settings, **WEEK).payouts() == {"302118-2000147": -702480}
    assert fetch("klarna", settings, **WEEK).payouts() == {"NO7Q2K9D": -895558}
    assert fetch("stripe", settings, **WEEK).payouts() == {"po_1T5LjyQ3QcJwVxhCQQUcuJUG": -620872}


def test_the_environment_wins_over_the_keyring(url, ring, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    keyring_holds_the_demo_credentials(ring)
    monkeypatch.setenv("PACKBENCH_KLARNA_PASSWORD", "the-environments-password")
    with pytest.raises(AuthFailed, match="environment variables or the klarna_\\* entries"):
        fetch("klarna", settings_for(url), **WEEK)
    ring.set_password("packbench", "stripe_secret_key", "sk_wrong_in_the_keyring")
    monkeypatch.setenv("PACKBENCH_STRIPE_SECRET_KEY", C.stripe_secret_key)
    assert fetch("stripe", settings_for(url), **WEEK).payouts()


def test_no_credentials_anywhere_says_where_to_put_them(url, ring) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    with pytest.raises(NotConfigured) as caught:
        fetch("vipps", settings_for(url), **WEEK)
    assert "PACKBENCH_VIPPS_CLIENT_ID" in str(caught.value)
    assert "keyring set packbench vipps_client_id" in str(caught.value)
    keyring_holds_the_demo_credentials(ring)
    ring.locked = True  # a locked keyring is "not set", not a crash
    with pytest.raises(NotConfigured, match="keyring set packbench stripe_secret_key"):
        fetch("stripe", settings_for(url), **WEEK)


@pytest.mark.parametrize("key", ["klarna_password", "stripe_secret_key", "vipps_client_secret"])
def test_credentials_in_the_file_or_the_settings_environment_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    secret = "s3cret-that-must-not-echo"
    cfg = tmp_path / "packbench.toml"
    cfg.write_text(f'[settlement]\n{key} = "{secret}"\n')
    with pytest.raises(ConfigError, match="credentials are not kept in files") as caught:
        load_settings(str(cfg))
    assert secret not in str(caught.value) and f"PACKBENCH_{key.upper()}" in str(caught.value)
    cfg.write_text("")
    monkeypatch.setenv(f"PACKBENCH_SETTLEMENT__{key.upper()}", secret)
    with pytest.raises(ConfigError, match="credentials are not kept in files") as caught:
        load_settings(str(cfg))
    assert secret not in str(caught.value)


def test_no_credential_options_on_the_command_line() -> None:
    parser = cli.build_parser()
    sub = parser._subparsers._group_actions[0].choices["settlements"]  # type: ignore[union-attr]
    text = sub._subparsers._group_actions[0].choices["import"].format_help()  # type: ignore[union-attr]
    for word in ("password", "secret", "key", "token", "username"):
        assert f"--{word}" not in text


def test_config_show_says_where_each_credential_is_not_what_it_is(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    ring,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "none.toml").write_text("")
    monkeypatch.setenv("PACKBENCH_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("PACKBENCH_LOG__FILE", str(tmp_path / "pb.log"))
    monkeypatch.setenv("PACKBENCH_KLARNA_PASSWORD", "klarna-env-password-77")
    ring.set_password("packbench", "stripe_secret_key", "sk_live_from_the_ring_88")
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(["config", "show"]) == 0
    text = out.getvalue()
    lines = {ln.split()[1]: ln for ln in text.splitlines() if ln.startswith("#   PACKBENCH_")}
    assert "******** (from the environment)" in lines["PACKBENCH_KLARNA_PASSWORD"]
    assert "******** (from the keyring)" in lines["PACKBENCH_STRIPE_SECRET_KEY"]
    assert "not set" in lines["PACKBENCH_VIPPS_CLIENT_SECRET"]
    assert "klarna-env-password-77" not in text and "sk_live_from_the_ring_88" not in text


def test_an_import_with_keyring_credentials_leaves_them_nowhere(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    ring,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    """A real import at DEBUG (httpx logs its requests) plus a careless log line: the secrets
    are in neither the log, the output nor the database file."""
    keyring_holds_the_demo_credentials(ring)
    cfg = tmp_path / "packbench.toml"
    cfg.write_text(
        f'[settlement]\nvipps_url = "{url}/vipps"\nvipps_msn = "218734"\n'
        f'klarna_url = "{url}/klarna/settlements/v1"\nstripe_url = "{url}/stripe"\n'
    )
    monkeypatch.setenv("PACKBENCH_CONFIG", str(cfg))
    log_file = tmp_path / "pb.log"
    monkeypatch.setenv("PACKBENCH_LOG__FILE", str(log_file))
    monkeypatch.setenv("PACKBENCH_LOG__LEVEL", "DEBUG")
    db = tmp_path / "bench.db"
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(["init", "--db", str(db)]) == 0
        for provider in ("vipps", "klarna", "stripe"):
            argv = ["settlements", "import", "--provider", provider, "--api", "--db", str(db)]
            assert cli.main([*argv, "--since", "2026-03-01", "--until", "2026-03-10"]) == 0
    logging.getLogger("packbench.test").warning("oops: %s", C.klarna_password)
    for handler in logging.getLogger().handlers:
        handler.flush()
    logged = log_file.read_text()
    assert "HTTP Request" in logged  # the DEBUG lines are there
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("bench.db*"))
    assert b"302118-2000147" in stored  # the payouts are
    for secret in (C.vipps_client_secret, C.vipps_subscription_key, C.klarna_password,
                   C.stripe_secret_key):  # fmt: skip
        assert secret not in logged and secret not in out.getvalue()
        assert secret.encode() not in stored
