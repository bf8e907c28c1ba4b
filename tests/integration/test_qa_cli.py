"""`python -m core import-qas` / `export-qas`, run as operators run them (a subprocess)."""

from __future__ import annotations

from pathlib import Path

from core import db
from core.permissions import Actor
from core.services import qas
from core.services.qas import QAQuery
from core.uow import UnitOfWork
from tests.integration.test_cli import run
from tests.qa_seed import make_model


def _database(tmp_path: Path) -> tuple[UnitOfWork, int]:
    assert run(["init-db"], tmp_path).returncode == 0
    uow = UnitOfWork(db.session_factory(db.make_engine(f"sqlite:///{tmp_path / 'cli.db'}")))
    return uow, make_model(uow, "Support desk")


def test_import_then_export_round_trip(tmp_path: Path) -> None:
    uow, model = _database(tmp_path)
    source = tmp_path / "in.csv"
    source.write_text(
        "Frage,answer,section,type\n"
        "Where is HQ?,Dublin,General,training\n"
        "=2+2?,-4,Maths,validation\n",
        encoding="utf-8",
    )
    done = run(["import-qas", "Support desk", str(source), "--column", "question=Frage"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Imported in.csv into Support desk: 2 new, 0 updated, 0 skipped."
    rows = qas.list_qas(uow, Actor.system(), QAQuery(model_id=model)).rows
    assert [(r.question, r.answer, r.qa_type.value) for r in rows] == [
        ("Where is HQ?", "Dublin", "training"),
        ("=2+2?", "-4", "validation"),
    ]

    out = tmp_path / "out.csv"
    exported = run(["export-qas", str(model), str(out)], tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert "Exported 2 Q&As" in exported.stdout
    assert '"\'=2+2?","\'-4"' in out.read_text(encoding="utf-8-sig")
    # Importing the export again finds every question already there.
    again = run(["import-qas", "Support desk", str(out)], tmp_path)
    assert "0 new, 0 updated, 2 skipped" in again.stdout
    similar = tmp_path / "similar.csv"
    similar.write_text("question,answer\nWhere is the HQ?,In Dublin\n", encoding="utf-8")
    (hq,) = [r.id for r in rows if r.question == "Where is HQ?"]
    near = run(["import-qas", "Support desk", str(similar)], tmp_path)
    assert near.stdout.splitlines()[1:] == [f"  row 2 is similar to #{hq}"], near.stdout


def test_errors_exit_non_zero_with_one_line_and_write_nothing(tmp_path: Path) -> None:
    uow, model = _database(tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("question,answer\nFine?,Yes\nEmpty?,\nOdd?,x\n", encoding="utf-8")
    result = run(["import-qas", "Support desk", str(bad)], tmp_path)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "1 rows of bad.csv have errors; nothing was imported" in result.stderr
    assert "row 3: answer is empty" in result.stderr
    assert qas.list_qas(uow, Actor.system(), QAQuery(model_id=model)).total == 0

    partial = run(["import-qas", "Support desk", str(bad), "--skip-errors"], tmp_path)
    assert partial.returncode == 0 and "2 new" in partial.stdout

    for args, message in [
        (["import-qas", "Nobody", str(bad)], "There is no model named 'Nobody'"),
        (["import-qas", "Support desk", str(tmp_path / "missing.csv")], "Cannot read"),
        (["import-qas", "Support desk", str(bad), "--column", "colour=x"], "use FIELD=HEADER"),
        (["export-qas", "Support desk", str(tmp_path / "out.pdf")], "use a .csv, .xlsx or .jsonl"),
    ]:
        failed = run(args, tmp_path)
        assert failed.returncode == 1 and message in failed.stderr, failed.stderr
        assert failed.stderr.count("\n") == 1
