from __future__ import annotations

from pathlib import Path

import pytest

from packbench.config import ConfigError, load_settings, render_toml


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file() -> None:
    settings = load_settings()
    assert settings.scanner.layout == "us"
    assert settings.shop.clearing_account == 1570
    assert settings.database_path().endswith("packbench.db")


def test_file_values_and_environment_overrides(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    cfg = write(tmp_path / "c.toml", '[scanner]\nlayout = "no"\n[shop]\nclearing_account = 1571\n')
    assert load_settings(cfg).scanner.layout == "no"
    monkeypatch.setenv("PACKBENCH_SCANNER__LAYOUT", "de")
    settings = load_settings(cfg)
    assert settings.scanner.layout == "de"
    assert settings.shop.clearing_account == 1571
    assert settings.code_rules().layout == "de"


def test_config_path_from_the_environment(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    cfg = write(tmp_path / "env.toml", '[bench]\nstation = "pack"\n')
    monkeypatch.setenv("PACKBENCH_CONFIG", str(cfg))
    assert load_settings().bench.station == "pack"


def test_database_precedence(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    cfg = write(tmp_path / "c.toml", 'db = "/from/file.db"\n')
    assert load_settings(cfg).database_path() == "/from/file.db"
    monkeypatch.setenv("PACKBENCH_DB", "/from/env.db")
    assert load_settings(cfg).database_path() == "/from/env.db"
    assert load_settings(cfg, db="/from/flag.db").database_path() == "/from/flag.db"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[scanner]\nlayout = "klingon"\n', "scanner.layout: Value error, unknown layout"),
        ("[scanner]\nmax_key_gap_ms = -1\n", "scanner.max_key_gap_ms"),
        ('[bench]\nstation = "kitchen"\n', "bench.station"),
        ("[shop]\nclearing_account = 15\n", "shop.clearing_account"),
        ("[printerz]\nlabel = 'x'\n", "printerz: unknown key"),
        ("[printers.stations.kitchen]\nlabel = 'x'\n", "printers.stations: Value error"),
        ("[printers]\nlabel_format = 'png'\n", "printers.label_format"),
        ("[scanner]\nlayot = 'no'\n", "scanner.layot: unknown key"),
        ("this is = not [toml\n", "not valid TOML"),
        ('shop_secret = "hunter2"\n', "credentials are not kept in files"),
    ],
)
def test_bad_configuration_names_the_key_and_the_file(
    tmp_path: Path, text: str, needle: str
) -> None:
    cfg = write(tmp_path / "bad.toml", text)
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    message = str(info.value)
    assert needle in message
    assert str(cfg) in message
    assert "hunter2" not in message


def test_a_named_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_settings(tmp_path / "missing.toml")


def test_bad_command_line_override() -> None:
    with pytest.raises(ConfigError, match="command line"):
        load_settings(None, station="kitchen")


def test_show_masks_secrets(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PACKBENCH_SHOP_KEY", "ck_live_abc")
    monkeypatch.setenv("PACKBENCH_SHOP_SECRET", "cs_live_xyz")
    settings = load_settings()
    assert settings.shop_secret is not None
    assert settings.shop_secret.get_secret_value() == "cs_live_xyz"
    shown = render_toml(settings)
    assert "cs_live_xyz" not in shown and "ck_live_abc" not in shown
    assert 'shop_secret = "********"' in shown
    assert "[scanner]" in shown


def test_printers_per_station(tmp_path: Path) -> None:
    cfg = write(
        tmp_path / "p.toml",
        '[printers]\nlabel = "ZEBRA-1"\nlabel_format = "zpl"\n'
        '[printers.stations.ship]\nlabel = "ZEBRA-2"\nlabel_size = "100x190"\n',
    )
    printers = load_settings(cfg).printers
    ship, post = printers.for_station("ship"), printers.for_station("post")
    assert (ship.label, ship.label_format, ship.label_size) == ("ZEBRA-2", "zpl", "100x190")
    assert (post.label, post.label_size, post.slip) == ("ZEBRA-1", "102x152", "PACKBENCH-PDF")
