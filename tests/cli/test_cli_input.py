"""The command line against odd and hostile input: where the options go, what the database file
is, what errors say, and outside text printed as text.

- Global options work before and after the command (``packbench --db x orders`` used to look
  for the database in the default place).
- ``--db ''`` and ``--config ''`` are refused, not taken as "the default".
- A 0-byte file where the database should be is refused (it was made into a fresh database);
  only ``packbench init`` makes a database in it. A file that is not SQLite is refused too.
- A database error is one line naming the command and the database (password masked), with
  no SQL and no "Background on this error" link; the details are in the log.
- An error never echoes a 100 000-character argument back whole, nor a secret in it.
- Customer text in ``packbench orders`` (and the other listings) is shown as it is: ``[/x]``
  is a name, not Rich markup, and escape sequences or OSC 8 links never reach the terminal.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from packbench.cli import main
from packbench.data.engine import SQLITE_HEADER, create_database
from packbench.data.migrate import upgrade
from packbench.data.models import Packer
from packbench.operations.common import Actor, record_event
from packbench.operations.intake import receive_order
from tests.cli.test_cli import run
from tests.operations.seed import order_in

pytestmark = pytest.mark.sqlite_only

CLOSE = "[/x]"  # Rich's MarkupError: the table crashed
ESC = "\x1b[31m"  # a colour escape
OSC8 = "\x1b]8;;http://evil.example/\x1b\\click here\x1b]8;;\x1b\\"  # a terminal hyperlink
CUSTOMER = f"{CLOSE} Ola{ESC}"
CITY = f"Oslo {OSC8}"
METHOD = "[bold red]Posten :smile:"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def bench_file(tmp_path: Path) -> Path:
    """A migrated bench database with one order whose customer text is hostile."""
    path = tmp_path / "bench.db"
    db = create_database(path)
    upgrade(db)
    actor = Actor("admin", "seed")
    with db.write() as s:
        order = receive_order(
            s,
            actor,
            order_in(
                5001,
                ("FJ-KJ-0001", 1),
                ship_name=CUSTOMER,
                ship_city=CITY,
                shipping_method_title=METHOD,
            ),
        )
        s.add(Packer(name=f"{CLOSE}Kari{ESC}", badge="BDG-1001", role="packer"))
        record_event(s, actor, "scan", order_id=order.order_id, code=f"{CLOSE}{ESC}", message=OSC8)
    db.dispose()
    return path


def assert_plain(text: str) -> None:
    """Nothing in ``text`` acts on a terminal: no ESC, no other control character."""
    assert "\x1b" not in text
    assert not any(ord(ch) < 0x20 and ch not in "\n" for ch in text), repr(text)


# --------------------------------------------------------------------------- option positions


@pytest.mark.parametrize("where", ["before", "after"])
def test_db_before_or_after_the_command(bench_file: Path, where: str) -> None:
    db = ["--db", str(bench_file)]
    args = [*db, "orders", "--json"] if where == "before" else ["orders", "--json", *db]
    result = run(*args)
    assert result.returncode == 0, result.stderr
    assert [o["number"] for o in json.loads(result.stdout)] == ["5001"]


@pytest.mark.parametrize("where", ["before", "after"])
def test_config_log_level_and_terminal_before_or_after_the_command(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, where: str
) -> None:
    config = tmp_path / "bench.toml"
    config.write_text('[bench]\nshop_name = "Fjordhandel"\n', encoding="utf-8")
    options = ["--config", str(config), "--log-level", "debug", "--terminal", "bench-7"]
    options += ["--db", str(tmp_path / "x.db")]
    args = [*options, "config", "show"] if where == "before" else ["config", "show", *options]
    code, out, err = cli(capsys, *args)
    assert code == 0, err
    assert f"file: {config}" in out and 'shop_name = "Fjordhandel"' in out
    assert 'level = "DEBUG"' in out and 'terminal = "bench-7"' in out
    assert f'db = "{tmp_path / "x.db"}"' in out


def test_the_option_after_the_command_wins(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = cli(capsys, "--terminal", "first", "config", "show", "--terminal", "second")
    assert code == 0 and 'terminal = "second"' in out


def test_global_options_before_demo_shop_do_not_open_the_app(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = cli(capsys, "--log-level", "debug", "demo-shop")
    assert code == 2 and out == "" and "demo-shop takes its own options only" in err


# --------------------------------------------------------------------------- empty options


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("orders", "--db", ""), "--db is empty"),
        (("--db", "", "orders"), "--db is empty"),
        (("orders", "--db", "  "), "--db is empty"),
        (("config", "show", "--config", ""), "--config is empty"),
        (("--terminal", "", "orders"), "--terminal is empty"),
    ],
)
def test_an_empty_option_is_refused_not_taken_as_the_default(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], needle: str, tmp_path: Path
) -> None:
    default = create_database(tmp_path / "default.db")  # what an empty --db used to mean
    upgrade(default)
    default.dispose()
    code, out, err = cli(capsys, *args)
    assert code == 2 and out == ""
    assert err.startswith(f"packbench: {needle}") and err.count("\n") == 1


# --------------------------------------------------------------------------- the database file


def test_a_0_byte_database_file_is_refused_and_left_as_it_is(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    empty = tmp_path / "bench.db"
    empty.touch()
    for args in (("orders", "--db", str(empty)), ("--db", str(empty))):  # a command, the app
        code, out, err = cli(capsys, *args)
        assert code == 1 and out == ""
        assert "is empty (0 bytes)" in err and "failed copy or a full disk" in err
        assert f"packbench init --db {empty}" in err and err.count("\n") == 1
        assert empty.stat().st_size == 0  # not made into a fresh database
    code, out, err = cli(capsys, "demo", "--db", str(empty))
    assert code == 1 and "packbench demo --reset" in err and empty.stat().st_size == 0


def test_init_makes_a_database_in_a_0_byte_file_when_asked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    empty = tmp_path / "bench.db"
    empty.touch()
    code, out, err = cli(capsys, "init", "--db", str(empty))
    assert code == 0, err
    assert "was empty: a new database was made in it" in out
    assert empty.read_bytes().startswith(SQLITE_HEADER)
    code, out, err = cli(capsys, "orders", "--db", str(empty), "--json")
    assert code == 0 and json.loads(out) == []


@pytest.mark.parametrize("content", [b"hello, not a database\n", b"%PDF-1.4\n" + bytes(4096)])
def test_a_file_that_is_not_a_database_is_refused_even_by_init(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "bench.db"
    path.write_bytes(content)
    for command in ("orders", "init"):
        code, out, err = cli(capsys, command, "--db", str(path))
        assert code == 1 and out == ""
        assert err == f"packbench: {path} is not a database file (it is not SQLite's format)\n"
    assert path.read_bytes() == content


def test_a_folder_is_not_a_database(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = cli(capsys, "orders", "--db", str(tmp_path))
    assert code == 1 and err == f"packbench: {tmp_path} is a folder, not a database file\n"


# --------------------------------------------------------------------------- database errors


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_database_error_is_one_line_with_the_password_masked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "pb.log"
    monkeypatch.setenv("PACKBENCH_LOG__FILE", str(log))
    port = _closed_port()
    url = f"postgresql://bench:hunter2secret@127.0.0.1:{port}/packbench"
    code, out, err = cli(capsys, "orders", "--db", url)
    assert code == 1 and out == ""
    assert err.count("\n") == 1, err
    line = err.strip()
    assert line.startswith(
        f"packbench: orders failed on the database postgresql+psycopg://bench:***@127.0.0.1:{port}"
        "/packbench: "
    ), line
    assert "Connection refused" in line and f"(details in {log})" in line
    for leak in ("hunter2secret", "Background on this error", "sqlalche.me", "(psycopg."):
        assert leak not in err
    details = log.read_text(encoding="utf-8")
    assert "Traceback" in details and "hunter2secret" not in details


def test_a_database_url_that_cannot_be_used_is_named_once_and_masked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = cli(capsys, "orders", "--db", "mysql://bench:hunter2secret@127.0.0.1/x")
    assert code == 1 and out == "" and err.count("\n") == 1
    assert err.startswith(
        "packbench: orders failed: cannot use the database mysql://bench:***@127.0.0.1/x: "
    )
    assert err.count("127.0.0.1") == 1 and "hunter2secret" not in err


def test_a_damaged_sqlite_file_is_one_line_too(
    capsys: pytest.CaptureFixture[str], bench_file: Path
) -> None:
    data = bytearray(bench_file.read_bytes())
    data[100:] = bytes(len(data) - 100)  # the header survives, every page after it is zeros
    bench_file.write_bytes(bytes(data))
    for suffix in ("-wal", "-shm"):
        Path(f"{bench_file}{suffix}").unlink(missing_ok=True)
    code, out, err = cli(capsys, "history", "--db", str(bench_file), "5001")
    assert code == 1 and out == "" and err.count("\n") == 1
    assert err.startswith(f"packbench: history failed on the database sqlite:///{bench_file}: ")
    assert "Background on this error" not in err and "[SQL:" not in err


# --------------------------------------------------------------------------- long arguments

BIG = "7" * 100_000


@pytest.mark.parametrize(
    "args",
    [
        ("history", "--db", "{db}", BIG),
        ("history", "--db", "{db}", "x " * 50_000),
        ("orders", "--db", "{db}", "--status", BIG),
        ("print", "slip", "--db", "{db}", BIG),
        ("report", "--db", "{db}", "--date", BIG),
        ("init", "--db", "{db}", "--seed", BIG),
        ("orders", "--db", f"/tmp/{BIG}"),
        (BIG,),
        ("orders", "--db", "{db}", BIG),
    ],
    ids=["history", "spaced", "choice", "slip", "date", "int", "db", "command", "extra"],
)
def test_a_100k_argument_is_not_echoed_back_whole(
    capsys: pytest.CaptureFixture[str], bench_file: Path, args: tuple[str, ...]
) -> None:
    argv = [a.replace("{db}", str(bench_file)) for a in args]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own refusals exit
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert code in (1, 2) and out == ""
    assert len(err) < 2000, len(err)
    last = err.strip().splitlines()[-1]
    assert last.startswith("packbench") and "…" in last


def test_a_secret_in_a_long_argument_is_masked_before_it_is_cut(
    capsys: pytest.CaptureFixture[str], bench_file: Path
) -> None:
    # Cut first, the mask's pattern would no longer match and part of the password would show.
    code, _, err = cli(
        capsys, "history", "--db", str(bench_file), "postgresql://u:hunter2secret@h/x" + "y" * 200
    )
    assert code == 2 and "hunter2" not in err and "u:***@h" in err


# --------------------------------------------------------------------------- outside text


def test_orders_table_shows_customer_text_as_text(
    capsys: pytest.CaptureFixture[str], bench_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "300")  # Rich's width: every cell on one line
    code, out, err = cli(capsys, "orders", "--db", str(bench_file))
    assert code == 0, err
    assert_plain(out)
    assert f"{CLOSE} Ola\\x1b[31m" in out
    assert "Oslo \\x1b]8;;http://evil.example/\\x1b\\click here" in out  # shown, not a link
    assert "[bold red]Posten :smile:" in out  # no style, no emoji


def test_orders_json_keeps_the_text_exact(
    capsys: pytest.CaptureFixture[str], bench_file: Path
) -> None:
    code, out, _ = cli(capsys, "orders", "--db", str(bench_file), "--json")
    assert code == 0
    assert_plain(out)  # JSON escapes control characters itself
    order = json.loads(out)[0]
    assert order["shipping"]["name"] == CUSTOMER and order["shipping"]["city"] == CITY


@pytest.mark.parametrize(
    "args",
    [("history", "5001"), ("packers", "list")],
)
def test_other_listings_show_outside_text_as_text(
    capsys: pytest.CaptureFixture[str], bench_file: Path, args: tuple[str, ...]
) -> None:
    code, out, err = cli(capsys, *args, "--db", str(bench_file))
    assert code == 0, err
    assert_plain(out)
    assert CLOSE in out and "\\x1b" in out


def test_an_error_quoting_outside_text_shows_it(
    capsys: pytest.CaptureFixture[str], bench_file: Path
) -> None:
    code, out, err = cli(capsys, "history", "--db", str(bench_file), f"nope{ESC}\n{CLOSE}")
    assert code == 2 and out == ""
    assert_plain(err.rstrip("\n"))
    assert err.count("\n") == 1
