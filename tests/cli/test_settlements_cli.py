"""`packbench settlements import` and `packbench ledger`, run as a person runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from packbench.data.engine import create_database
from tests.settlement.test_import_ledger import FIXTURES, shop

from .test_cli import run

F = FIXTURES


@pytest.fixture
def bench(tmp_path: Path) -> Path:
    path = tmp_path / "bench.db"
    assert run("init", "--db", str(path)).returncode == 0
    db = create_database(path)
    shop(db)
    db.dispose()
    return path


def importing(db: Path, provider: str, *files: str, extra=()):  # type: ignore[no-untyped-def]
    return run(
        "settlements", "import", "--db", str(db), "--provider", provider,
        *[str(F / f) for f in files], *extra,
    )  # fmt: skip


def test_the_week_imported_twice_and_1570_at_zero(bench: Path) -> None:
    steps = [
        ("vipps", ["vipps-report-fees.json", "vipps-report-funds.json"]),
        ("klarna", ["klarna-settlement-transactions.json", "klarna-settlement-payouts.json"]),
        ("stripe", ["stripe-balance-transactions.json"]),
    ]
    said = []
    for provider, files in steps:
        first = importing(bench, provider, *files)
        assert first.returncode == 0, first.stderr
        assert "already imported" in first.stdout and "with no order" not in first.stdout
        said.append(first.stdout)
    assert "payouts: 302118-2000147 (7 024,80 kr)" in said[0]
    assert "not closed by the provider yet: fees 2026-03-09, funds 2026-03-09" in said[0]
    for provider, files in steps:
        again = importing(bench, provider, *files, extra=["--json"])
        assert again.returncode == 0, again.stderr
        assert json.loads(again.stdout)["new"] == 0
    csv = importing(bench, "klarna", "klarna-settlement-report.csv", extra=["--payout", "NO7Q2K9D"])
    assert csv.returncode == 0 and csv.stdout.startswith("Klarna: 0 new lines, 23 already")

    ledger = run("ledger", "--db", str(bench), "--json", "--as-of", "2026-03-10")
    assert ledger.returncode == 0, ledger.stderr
    data = json.loads(ledger.stdout)
    assert data["account"] == "1570" and data["balance_ore"] == 0
    assert data["open_items"] == [] and data["unmatched"] == []
    assert {p["payout_id"]: p["to_bank_ore"] for p in data["payouts"]} == {
        "302118-2000147": 702480,
        "NO7Q2K9D": 895558,
        "po_1T5LjyQ3QcJwVxhCQQUcuJUG": 620872,
    }
    text = run("ledger", "--db", str(bench))
    assert "balance 0,00 kr" in text.stdout and "explained to the last øre" in text.stdout
    assert "7 024,80 kr to the bank" in text.stdout
    journal = run("ledger", "--db", str(bench), "--journal", "-")
    assert journal.returncode == 0, journal.stderr
    assert "stripe-po_1T5LjyQ3QcJwVxhCQQUcuJUG;2026-03-09;7770;177,28;;" in journal.stdout
    out = bench.with_name("journal.csv")
    assert run("ledger", "--db", str(bench), "--journal", str(out)).returncode == 0
    assert out.read_text(encoding="utf-8") == journal.stdout

    import xmlschema

    from tests.settlement.test_import_ledger import SAFT_XSD

    saft = bench.with_name("saft.xml")
    period = ["--saft", str(saft), "--from", "2026-03-01", "--to", "2026-03-31"]
    r = run("ledger", "--db", str(bench), *period)
    assert r.returncode == 1 and "organisation number" in r.stderr and not saft.exists()
    company = {"PACKBENCH_SETTLEMENT__COMPANY_NAME": "Fjellsport Nettbutikk AS",
               "PACKBENCH_SETTLEMENT__ORGANISATION_NUMBER": "918627456"}  # fmt: skip
    r = run("ledger", "--db", str(bench), *period, env=company)
    assert r.returncode == 0, r.stderr
    xmlschema.XMLSchema(str(SAFT_XSD)).validate(str(saft))
    r = run("ledger", "--db", str(bench), "--saft", str(saft), "--from", "2026-03-31",
            "--to", "2026-03-01", env=company)  # fmt: skip
    assert r.returncode == 2


def test_bad_reports_are_one_clear_error_and_change_nothing(bench: Path, tmp_path: Path) -> None:
    doc = json.loads((F / "stripe-balance-transactions.json").read_text())
    doc["exchanges"][1]["response"]["body"]["data"][2]["amount"] = "45900"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    r = run("settlements", "import", "--db", str(bench), "--provider", "stripe", str(bad))
    assert r.returncode == 2
    assert "page 2, row 3: amount: expected an integer amount in øre, got '45900'" in r.stderr
    assert "nothing was imported" in r.stderr
    broken = tmp_path / "broken.json"
    broken.write_text('{"object": "list", "data": [')
    r = run("settlements", "import", "--db", str(bench), "--provider", "stripe", str(broken))
    assert r.returncode == 2 and "not valid JSON (line 1" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    r = importing(bench, "klarna", "klarna-settlement-report.csv")
    assert r.returncode == 2 and "--payout" in r.stderr
    r = importing(bench, "vipps", "missing.json")
    assert r.returncode == 2 and "cannot read" in r.stderr
    ledger = json.loads(run("ledger", "--db", str(bench), "--json").stdout)
    assert ledger["payouts"] == []  # nothing of the above was imported
    assert run("ledger", "--db", str(bench), "--account", "1920").returncode == 2


def test_since_keeps_whole_payouts(bench: Path) -> None:
    later = importing(bench, "stripe", "stripe-balance-transactions.json",
                      extra=["--since", "2026-03-10", "--json"])  # fmt: skip
    assert later.returncode == 0, later.stderr
    assert json.loads(later.stdout)["new"] == 0  # the payout arrived on 03-09
    r = importing(bench, "stripe", "stripe-balance-transactions.json", extra=["--since", "9.3"])
    assert r.returncode == 2 and "--since" in r.stderr


def test_import_from_the_apis_of_the_demo_providers(bench: Path) -> None:
    from packbench.settlement.demo import (
        DemoCredentials,
        DemoProviders,
        ProviderData,
        run_in_thread,
    )

    c = DemoCredentials()
    url, stop = run_in_thread(DemoProviders(ProviderData.from_fixtures(F)))
    env = {
        "PACKBENCH_SETTLEMENT__VIPPS_URL": url + "/vipps",
        "PACKBENCH_SETTLEMENT__VIPPS_MSN": "218734",
        "PACKBENCH_SETTLEMENT__KLARNA_URL": url + "/klarna/settlements/v1",
        "PACKBENCH_SETTLEMENT__STRIPE_URL": url + "/stripe",
        "PACKBENCH_VIPPS_CLIENT_ID": c.vipps_client_id,
        "PACKBENCH_VIPPS_CLIENT_SECRET": c.vipps_client_secret,
        "PACKBENCH_VIPPS_SUBSCRIPTION_KEY": c.vipps_subscription_key,
        "PACKBENCH_KLARNA_USERNAME": c.klarna_username,
        "PACKBENCH_KLARNA_PASSWORD": c.klarna_password,
        "PACKBENCH_STRIPE_SECRET_KEY": c.stripe_secret_key,
    }
    try:
        for provider in ("vipps", "klarna", "stripe"):
            r = run("settlements", "import", "--db", str(bench), "--provider", provider, "--api",
                    "--since", "2026-03-01", env=env)  # fmt: skip
            assert r.returncode == 0, r.stderr
            assert "new lines" in r.stdout and "with no order" not in r.stdout
        wrong = {**env, "PACKBENCH_STRIPE_SECRET_KEY": "sk_test_wrong_key_123"}
        r = run("settlements", "import", "--db", str(bench), "--provider", "stripe", "--api",
                "--since", "2026-03-01", env=wrong)  # fmt: skip
        assert r.returncode == 1 and "refused the credentials" in r.stderr
        assert "sk_test_wrong_key_123" not in r.stderr
        missing = {k: v for k, v in env.items() if k != "PACKBENCH_KLARNA_PASSWORD"}
        r = run("settlements", "import", "--db", str(bench), "--provider", "klarna", "--api",
                env=missing)  # fmt: skip
        assert r.returncode == 2 and "PACKBENCH_KLARNA_PASSWORD" in r.stderr
    finally:
        stop()
    data = json.loads(run("ledger", "--db", str(bench), "--json").stdout)
    assert data["balance_ore"] == 0 and data["open_items"] == []
