"""The operators' command line, run as operators run it: a subprocess per command."""

from __future__ import annotations

import csv
import os
import stat
import subprocess
import sys
from pathlib import Path

from tests.paths import ROOT


def run(
    args: list[str], data_dir: Path, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "ARBITER_DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir / 'cli.db'}",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        cwd=ROOT,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = run(["--help"], tmp_path)
    assert result.returncode == 0
    for name in (
        "init-db",
        "seed-demo",
        "create-user",
        "create-connection",
        "list-models",
        "set-connection",
    ):
        assert name in result.stdout


def test_set_up_a_company_from_the_command_line(tmp_path: Path) -> None:
    assert run(["init-db"], tmp_path).returncode == 0
    created = run(["create-user", "ops@corp.example", "--role", "admin", "--name", "Ops"], tmp_path)
    assert created.returncode == 0, created.stderr
    assert "Generated password (shown once):" in created.stdout
    piped = run(
        ["create-user", "t@corp.example", "--role", "trainer", "--password-stdin"],
        tmp_path,
        stdin="a long enough password\n",
    )
    assert piped.returncode == 0, piped.stderr
    assert "Generated password" not in piped.stdout
    conn = run(["create-connection", "Local", "--type", "local"], tmp_path)
    assert conn.returncode == 0 and "API key present" in conn.stdout
    openai = run(
        [
            "create-connection",
            "OpenAI",
            "--type",
            "openai",
            "--key-env",
            "ARBITER_KEY_CLI_TEST",
            "--base-model",
            "gpt-4o-mini-2024-07-18",
        ],
        tmp_path,
    )
    assert openai.returncode == 0 and "API key missing" in openai.stdout
    # Only variables meant as keys: the database password is not one.
    leak = run(
        ["create-connection", "Leak", "--type", "openai", "--key-env", "PGPASSWORD"], tmp_path
    )
    assert leak.returncode != 0 and len(leak.stderr.strip().splitlines()) == 1
    assert "ARBITER_KEY_" in leak.stderr and "Traceback" not in leak.stderr
    assert run(["list-models"], tmp_path).stdout.strip() == "No models yet."


def test_errors_are_one_line_and_non_zero(tmp_path: Path) -> None:
    run(["init-db"], tmp_path)
    bad = run(["set-connection", "No Such Model", "Local"], tmp_path)
    assert bad.returncode != 0
    assert bad.stderr.strip().count("\n") == 0 and bad.stderr.startswith("error:")
    assert "No Such Model" in bad.stderr
    usage = run(["create-connection", "X", "--type", "azure"], tmp_path)
    assert usage.returncode == 2
    weak = run(
        ["create-user", "w@corp.example", "--role", "trainer", "--password-stdin"],
        tmp_path,
        stdin="short\n",
    )
    assert weak.returncode == 1 and "at least 10 characters" in weak.stderr
    assert "Traceback" not in bad.stderr + usage.stderr + weak.stderr


def test_seed_demo_once_with_private_credentials(tmp_path: Path) -> None:
    first = run(["seed-demo"], tmp_path, ARBITER_FAST_PASSWORD_HASH="1")
    assert first.returncode == 0, first.stderr
    credentials = tmp_path / "demo-credentials.txt"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    lines = [line.split() for line in credentials.read_text().splitlines() if "@" in line]
    assert {parts[0] for parts in lines} == {"admin", "trainer", "manager"}
    for _role, email, password in lines:
        assert f"{email}" in first.stdout and password in first.stdout
        assert len(password) >= 12
    again = run(["seed-demo", "--if-empty"], tmp_path)
    assert again.returncode == 0 and "already holds data" in again.stdout
    assert run(["seed-demo"], tmp_path).returncode == 1
    listing = run(["list-models"], tmp_path).stdout
    assert "Northwind Master" in listing and "  Northwind Sales" in listing


def test_demo_passwords_are_never_defaults(tmp_path: Path) -> None:
    run(["seed-demo", "--no-compile"], tmp_path, ARBITER_FAST_PASSWORD_HASH="1")
    other = tmp_path / "other"
    other.mkdir()
    run(["seed-demo", "--no-compile"], other, ARBITER_FAST_PASSWORD_HASH="1")
    first = (tmp_path / "demo-credentials.txt").read_text()
    second = (other / "demo-credentials.txt").read_text()
    assert first != second  # generated per installation
    for empty in ("", "   "):
        assert f" {empty}\n" not in first


def test_a_model_moves_from_openai_to_azure_from_the_command_line(tmp_path: Path) -> None:
    def ok(args: list[str]) -> str:
        done = run(args, tmp_path)
        assert done.returncode == 0, done.stderr
        return done.stdout

    ok(["seed-demo", "--no-compile"])
    ok(
        [
            "create-connection",
            "OpenAI cloud",
            "--type",
            "openai",
            "--base-model",
            "gpt-4o-mini-2024-07-18",
        ]
    )
    created = ok(
        [
            "create-connection",
            "Azure Sweden",
            "--type",
            "azure_openai",
            "--endpoint",
            "https://northwind.openai.azure.example",
            "--entra-id",
            "--manual-deployments",
            "--base-model",
            "gpt-4o-mini-2024-07-18",
            "--hosting-price",
            "1.70",
        ]
    )
    assert "Microsoft Entra ID" in created
    listed = ok(["list-base-models", "Azure Sweden"])
    assert "gpt-4o-mini-2024-07-18" in listed and "azure_openai" in listed
    assert "openai " not in listed.replace("azure_openai", "")
    model = "Northwind Support"
    assert model in ok(["list-models"])
    ok(["set-connection", model, "OpenAI cloud"])
    # With the catalogue the project ships (the tests' own moves the cut-off far out).
    shipped = ROOT / "core" / "providers" / "catalogue.toml"
    radar = run(["radar"], tmp_path, ARBITER_CATALOGUE=str(shipped)).stdout
    assert "gpt-4o-mini-2024-07-18 (openai)" in radar
    assert "new fine-tuning jobs until 2027-01-06 (" in radar
    assert f"used by {model} on OpenAI cloud" in radar
    moved = ok(["move-model", model, "Azure Sweden"])
    assert "On Azure Sweden (azure_openai)" in moved and "now uses Azure Sweden" in moved
    # A connection that does not exist: one line, no traceback.
    missing = run(["move-model", model, "Nowhere"], tmp_path)
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1
    assert "no connection named 'Nowhere'" in missing.stderr


def test_evaluate_and_compare_two_versions_from_the_command_line(tmp_path: Path) -> None:
    def ok(args: list[str]) -> str:
        done = run(args, tmp_path)
        assert done.returncode == 0, done.stderr
        return done.stdout

    ok(["seed-demo"])  # compiles v1 of each arbiter with the local provider
    ok(["compile", "Northwind Support", "--force", "--wait"])
    summary = ok(["evaluate", "Northwind Support", "--version", "base"])
    assert summary.startswith("base local-retrieval") and "token F1" in summary
    out = tmp_path / "f.csv"
    compared = ok(["compare", "Northwind Support", "1", "2", "--out", str(out)])
    assert "better" in compared and "worse" in compared
    with out.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert rows, "one row per validation Q&A"
    for column in ("question", "expected", "answer 1", "f1 1", "answer 2", "f1 2", "f1 change"):
        assert column in rows[0]
    assert all(r["question"] and r["expected"] for r in rows)
    # A side that is neither a number nor base: one line.
    bad = run(["compare", "Northwind Support", "one", "2", "--out", str(out)], tmp_path)
    assert bad.returncode == 1 and "neither a version number nor 'base'" in bad.stderr


def test_compile_dpo_on_the_local_provider_is_refused_in_one_line(tmp_path: Path) -> None:
    assert run(["seed-demo"], tmp_path).returncode == 0  # arbiters on the local provider
    dry = run(["compile", "Northwind Support", "--dry-run", "--dpo"], tmp_path)
    assert dry.returncode == 1
    assert "then DPO      The local provider is a retrieval index" in dry.stdout
    refused = run(["compile", "Northwind Support", "--dpo"], tmp_path)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert "cannot train on preference pairs (DPO)" in refused.stderr


def test_ask_answers_from_the_active_version(tmp_path: Path) -> None:
    """`ask` once raised DetachedInstanceError on any model with a version: it read the
    version's number after its unit of work had ended."""
    assert run(["seed-demo"], tmp_path).returncode == 0  # v1 of each arbiter, local provider
    question = "What's the warranty on an NW-PSU power supply?"
    asked = run(["ask", "Northwind Support", question], tmp_path)
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.strip() and "Traceback" not in asked.stderr
    again = run(["ask", "Northwind Support", question, "--version", "1"], tmp_path)
    assert again.returncode == 0 and again.stdout == asked.stdout, again.stderr


def test_an_open_weights_connection_that_serves_through_vllm(tmp_path: Path) -> None:
    assert run(["init-db"], tmp_path).returncode == 0
    result = run(
        [
            "create-connection",
            "Served",
            "--type",
            "open_weights",
            "--serve-url",
            "http://gpu-host:8000/v1",
            "--key-env",
            "ARBITER_KEY_VLLM",
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "serves through http://gpu-host:8000/v1, key in ARBITER_KEY_VLLM" in result.stdout
    result = run(
        [
            "create-connection",
            "Leak",
            "--type",
            "open_weights",
            "--serve-url",
            "http://x.example/v1",
            "--key-env",
            "PGPASSWORD",
        ],
        tmp_path,
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert len((result.stdout + result.stderr).strip().splitlines()) == 1
    result = run(["create-connection", "Here", "--type", "open_weights"], tmp_path)
    assert result.returncode == 0 and "chat in-process" in result.stdout
