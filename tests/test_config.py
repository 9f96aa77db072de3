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


# -- the environment, read without pydantic-settings (#20): what it read, read the same ---------
def test_environment_json_tables_merge_with_nested_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = write(tmp_path / "c.toml", '[bench]\nstation = "pick"\n[scanner]\nmax_key_gap_ms = 20\n')
    monkeypatch.setenv("PACKBENCH_SCANNER", '{"Layout": "no"}')  # keys case-insensitive
    monkeypatch.setenv("PACKBENCH_SHOP", '{"url": "https://a.example"}')
    monkeypatch.setenv("PACKBENCH_SHOP__URL", "https://b.example")  # nested beats the JSON
    monkeypatch.setenv("PACKBENCH_SHOP__PICKUP_POINT_META_KEYS", '["pp"]')
    monkeypatch.setenv("PACKBENCH_PRINTERS__STATIONS__SHIP__LABEL", "ZEBRA-2")
    monkeypatch.setenv("PACKBENCH_SHIP__METHODS__FLAT_RATE:3__CARRIER", "PostNord")
    monkeypatch.setenv("PACKBENCH_SHIP__SENDER", '{"name": "A", "address": "B", "postcode": "1"}')
    monkeypatch.setenv("PACKBENCH_SHIP__SENDER__CITY", "Oslo")
    monkeypatch.setenv("packbench_day__cutoff", "13:30")  # names case-insensitive
    monkeypatch.setenv("PACKBENCH_DB__X", "not a field: not read")
    monkeypatch.setenv("PACKBENCH_NO_SUCH_FIELD", "not read")
    s = load_settings(cfg)
    assert (s.bench.station, s.scanner.max_key_gap_ms, s.scanner.layout) == ("pick", 20, "no")
    assert s.shop.url == "https://b.example" and s.shop.pickup_point_meta_keys == ["pp"]
    assert s.printers.for_station("ship").label == "ZEBRA-2"
    assert s.ship.methods["flat_rate:3"].carrier == "PostNord"
    assert s.ship.sender is not None and (s.ship.sender.name, s.ship.sender.city) == ("A", "Oslo")
    assert s.day.cutoff.hour == 13 and s.db is None


def test_settings_made_directly_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from packbench.config import Settings

    monkeypatch.setenv("PACKBENCH_SCANNER__LAYOUT", "de")
    assert Settings(codes={"badge_prefix": "B-"}).scanner.layout == "de"
    assert Settings(scanner={"layout": "no"}).scanner.layout == "de"  # the environment wins


def test_a_numbered_choice_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACKBENCH_PACK__SCALE_STOPBITS", "2")  # refused as text before
    monkeypatch.setenv("PACKBENCH_PACK__SCALE_BYTESIZE", "7")
    assert (load_settings().pack.scale_stopbits, load_settings().pack.scale_bytesize) == (2, 7)
    monkeypatch.setenv("PACKBENCH_PACK__SCALE_STOPBITS", "3")
    with pytest.raises(ConfigError, match=r"pack\.scale_stopbits: Input should be 1 or 2"):
        load_settings()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PACKBENCH_BENCH", "station=pack"),
        ("PACKBENCH_SHOP__PICKUP_POINT_META_KEYS", "pickup_point_id"),
        ("PACKBENCH_BENCH", ""),
    ],
)
def test_an_environment_variable_that_must_be_json_is_named(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=f"environment: {variable}: takes JSON here"):
        load_settings()


def test_a_bad_environment_value_names_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACKBENCH_SCANNER__LAYOT", "no")
    monkeypatch.setenv("PACKBENCH_SHIP__SENDER", "not json")  # an optional table: passed on
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "scanner.layot: unknown key" in str(info.value)
    assert "ship.sender: Input should be a valid dictionary" in str(info.value)


def test_file_names_are_case_insensitive_secrets_included(tmp_path: Path) -> None:
    assert (
        load_settings(write(tmp_path / "a.toml", '[Scanner]\nlayout = "no"\n')).scanner.layout
        == "no"
    )
    with pytest.raises(ConfigError, match="credentials are not kept in files"):
        load_settings(write(tmp_path / "b.toml", 'Shop_Secret = "hunter2"\n'))
