"""Shop credentials: the environment first, then the OS keyring; never a file."""

from __future__ import annotations

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked

from packbench.config import ConfigError, load_settings
from packbench.shop.factory import ShopNotConfigured, make_adapter


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
