"""Shop credentials: the environment first, then the OS keyring; never a file."""

from __future__ import annotations

import base64
import io
import logging
from contextlib import redirect_stdout
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked
from sqlalchemy.engine import make_url

from packbench import cli
from packbench.config import ConfigError, load_settings
from packbench.shop.factory import ShopNotConfigured, make_adapter

log = logging.getLogger("packbench.test")


class MemoryKeyring(KeyringBackend):
    """A keyring backend in memory, through keyring's own backend interface."""

    priority = 1  # type: ignore[assignment]

    def __init__(self, locked: bool = False) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}
        self.locked = locked

    def get_password(self, service: str, username: str) -> str | None:
        if self.locked:
            raise KeyringLocked("locked")
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture
def ring():  # type: ignore[no-untyped-def]
    before = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(before)


def _record(monkeypatch) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Which credentials the adapter was built with (its constructor only records them)."""
    seen: list[tuple[str, str]] = []
    monkeypatch.setattr(
        "packbench.shop.woocommerce.WooCommerceAdapter.__init__",
        lambda self, base, key, secret, **kw: seen.append((key, secret)),
    )
    return seen


def _settings(tmp_path, monkeypatch, **env: str):  # type: ignore[no-untyped-def]
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    cfg = tmp_path / "packbench.toml"
    cfg.write_text('[shop]\nurl = "https://shop.example.no"\n')
    return load_settings(str(cfg))


def test_credentials_from_the_keyring(tmp_path, monkeypatch, ring) -> None:  # type: ignore[no-untyped-def]
    ring.set_password("packbench", "shop_key", "ck_ring")
    ring.set_password("packbench", "shop_secret", "cs_ring")
    seen = _record(monkeypatch)
    make_adapter(_settings(tmp_path, monkeypatch))
    assert seen == [("ck_ring", "cs_ring")]


def test_the_environment_wins_over_the_keyring(tmp_path, monkeypatch, ring) -> None:  # type: ignore[no-untyped-def]
    ring.set_password("packbench", "shop_key", "ck_ring")
    ring.set_password("packbench", "shop_secret", "cs_ring")
    settings = _settings(
        tmp_path, monkeypatch, PACKBENCH_SHOP_KEY="ck_env", PACKBENCH_SHOP_SECRET="cs_env"
    )
    seen = _record(monkeypatch)
    make_adapter(settings)
    assert seen == [("ck_env", "cs_env")]


def test_no_credentials_anywhere_is_a_clear_message(tmp_path, monkeypatch, ring) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ShopNotConfigured, match="keyring set packbench shop_key"):
        make_adapter(_settings(tmp_path, monkeypatch))
    ring.locked = True  # a locked keyring is "no credentials", not a crash
    with pytest.raises(ShopNotConfigured):
        make_adapter(_settings(tmp_path, monkeypatch))


def test_credentials_in_the_file_are_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg = tmp_path / "packbench.toml"
    cfg.write_text('shop_key = "ck_file"\n')
    with pytest.raises(ConfigError, match="credentials are not kept in files"):
        load_settings(str(cfg))


def test_no_secret_reaches_the_log_even_at_debug(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A real round against the demo shop at DEBUG (httpx and httpcore log their requests),
    plus a careless log line and a traceback that contain the secret: none of it is in the file."""
    import logging

    from packbench.logs import setup_logging
    from packbench.shop.demo_shop import DemoShopState, run_in_thread

    key, secret = "ck_0123456789abcdef", "cs_fedcba9876543210"
    state = DemoShopState.open(tmp_path / "shop.json", seed=1, n_orders=3)
    url, stop = run_in_thread(state, key=key, secret=secret)
    try:
        monkeypatch.setenv("PACKBENCH_SHOP_KEY", key)
        monkeypatch.setenv("PACKBENCH_SHOP_SECRET", secret)
        monkeypatch.setenv("PACKBENCH_LOG__LEVEL", "DEBUG")
        monkeypatch.setenv("PACKBENCH_LOG__FILE", str(tmp_path / "pb.log"))
        cfg = tmp_path / "packbench.toml"
        cfg.write_text(f'[shop]\nurl = "{url}"\n')
        settings = load_settings(str(cfg))
        path = setup_logging(settings)
        adapter = make_adapter(settings)
        try:
            assert adapter.fetch_orders(modified_after=None, page=1, per_page=2).orders
        finally:
            adapter.close()
        log = logging.getLogger("packbench.test")
        log.warning("oops, the key is %s and the secret %s", key, secret)
        try:
            raise RuntimeError(f"failed with secret={secret}")
        except RuntimeError:
            log.exception("a traceback")
    finally:
        stop()
        for h in logging.getLogger().handlers:
            h.flush()
    text = path.read_text()
    assert "HTTP Request" in text or "send_request" in text  # the DEBUG lines are there
    assert "oops, the key is ***" in text and "RuntimeError" in text
    import base64

    basic = base64.b64encode(f"{key}:{secret}".encode()).decode()
    for leaked in (key, secret, basic):
        assert leaked not in text


# --------------------------------------------------------------------------- never shown


KEY = "ck_5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d"
SECRET = "cs_0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c"
BASIC = base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty configuration, a log file of our own; returns the log file's path."""
    (tmp_path / "none.toml").write_text("")
    monkeypatch.setenv("PACKBENCH_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("PACKBENCH_LOG__FILE", str(tmp_path / "pb.log"))
    monkeypatch.setenv("PACKBENCH_LOG__LEVEL", "DEBUG")
    return tmp_path / "pb.log"


def _log_text(path: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text() if path.exists() else ""


def test_sync_refuses_key_and_secret_on_the_command_line(
    tmp_path: Path, cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "bench.db"
    argv = ["sync", "--once", "--db", str(db), "--shop-url", "https://shop.example"]
    code = cli.main([*argv, "--key", KEY, "--secret", SECRET])
    out = capsys.readouterr()
    assert code == 2
    assert "--key and --secret are not accepted: any user of this machine can read them" in out.err
    assert "PACKBENCH_SHOP_KEY and PACKBENCH_SHOP_SECRET" in out.err and "keyring" in out.err
    assert not db.exists()  # refused before anything was opened
    for text in (out.out, out.err, _log_text(cli_env)):
        assert KEY not in text and SECRET not in text
    assert "--key" not in cli.build_parser().format_help()


@pytest.mark.parametrize(
    "url",
    [
        f"https://{KEY}:{SECRET}@shop.example",
        f"https://{KEY}@shop.example",
        f"https://shop.example/?consumer_key={KEY}&consumer_secret={SECRET}",
        f"http://{KEY}:{SECRET}@shop.example",  # refused for plain http first: still not echoed
    ],
)
def test_credentials_in_the_shop_url_are_refused_without_repeating_them(
    tmp_path: Path,
    cli_env: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    url: str,
) -> None:
    monkeypatch.setenv("PACKBENCH_SHOP_KEY", "ck_the_configured_key")
    monkeypatch.setenv("PACKBENCH_SHOP_SECRET", "cs_the_configured_secret")
    db = tmp_path / "bench.db"
    assert cli.main(["init", "--db", str(db)]) == 0
    capsys.readouterr()
    code = cli.main(["sync", "--once", "--db", str(db), "--shop-url", url])
    out = capsys.readouterr()
    assert code == 2
    assert "shop URL http" in out.err and "shop.example" in out.err
    for text in (out.out, out.err, _log_text(cli_env)):
        assert KEY not in text and SECRET not in text and BASIC not in text


def test_credentials_in_the_configured_shop_url_are_not_logged(
    tmp_path: Path, cli_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app's sync worker logs why the sync is off; that line must not carry them either."""
    monkeypatch.setenv("PACKBENCH_SHOP__URL", f"https://{KEY}:{SECRET}@shop.example")
    monkeypatch.setenv("PACKBENCH_SHOP_KEY", "ck_other_key_value")
    monkeypatch.setenv("PACKBENCH_SHOP_SECRET", "cs_other_secret_value")
    settings = load_settings()
    with pytest.raises(ShopNotConfigured) as info:
        make_adapter(settings)
    assert str(info.value) == (
        "shop URL https://***@shop.example: the shop URL must not contain a user name or password"
    )
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(["config", "show"]) == 0
    assert "https://***@shop.example" in out.getvalue()
    assert KEY not in out.getvalue() and SECRET not in out.getvalue()


@pytest.mark.pg  # against the real server in the PostgreSQL pass
def test_a_postgresql_password_is_never_printed_or_logged(
    tmp_path: Path, cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Against the real server when there is one (a wrong password: refused), or a closed port:
    the error reaches the terminal and the log, the password does not."""
    from tests.conftest import PG_URL

    password = "Wr0ng-pg-Passw0rd-7c1e"
    host = make_url(PG_URL).host if PG_URL else "127.0.0.1"
    port = make_url(PG_URL).port if PG_URL else 5432
    url = f"postgresql://packbench:{password}@{host}:{port}/packbench"
    assert cli.main(["orders", "--db", url]) != 0
    out = capsys.readouterr()
    assert out.err.startswith("packbench: ")
    assert cli.main(["config", "show", "--db", url]) == 0
    shown = capsys.readouterr()
    assert f"postgresql://***@{host}:{port}/packbench" in shown.out
    log.error("connecting with %s failed", url)  # a careless line: the filter catches it
    log.error("and password %s alone", password)  # registered from the URL by setup_logging
    logged = _log_text(cli_env)
    assert "unexpected error" in logged or "packbench:" in out.err
    for text in (out.out, out.err, shown.out, shown.err, logged):
        assert password not in text
