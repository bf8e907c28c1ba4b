"""Hostile files (tests/data/hostile/) through every importer and the validator: the Q&A
import (preview and commit), the transcript import, ``python -m core validate`` and the
``import-qas`` / ``import-transcripts`` commands.

Each file is either refused with a domain error that names its line or row (and then not a
single row of any table changes), or imported safely: markup and formulas stored as the text
they are, a byte-order mark dropped, other encodings read or named by line. A 100 MB file is
generated here (not stored) to show that the validator streams and that the importers refuse
it before reading it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from core import db
from core.csv_export import FORMULA_STARTS
from core.domain import IMPORT_MAX_BYTES
from core.errors import ArbiterError, ValidationFailed
from core.models import QA, Base, Transcript
from core.permissions import Actor
from core.services import curation, qas
from core.services.qas import QAQuery
from core.training.validator import validate_jsonl, validate_stream
from core.uow import UnitOfWork
from tests.paths import DATA, ROOT
from tests.qa_seed import make_model

HOSTILE = DATA / "hostile"
Uows = Callable[[], UnitOfWork]


@dataclass(frozen=True)
class Imported:
    """Written, with exactly these texts: (question, answer) per Q&A, or the message
    contents per transcript."""

    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Refused:
    """Nothing written; the error names ``where`` ("row 2", "line 3", or the file when
    empty) and says ``says``."""

    where: str
    says: str


SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
HYPERLINK = '=HYPERLINK("http://evil.example","click")'
RETURNS = ("How long do returns take?", "Thirty days from delivery.")
NORWAY = ("Do you ship to Norway?", "Yes, within five working days.")

QA_FILES: dict[str, Imported | Refused] = {
    "binary.csv": Refused("row 1", "is not readable text"),
    "bom.csv": Imported((("What is our VAT number format?", "Two letters then digits."),)),
    "control-chars.csv": Refused("row 2", "control character U+0000"),
    "empty-fields.csv": Refused("row 3", "answer is empty"),
    "empty.csv": Refused("empty.csv", "is empty"),
    "empty.xlsx": Refused("empty.xlsx", "is empty"),
    "formula-injection.csv": Imported(
        ((HYPERLINK, "+SUM(A1:A9)"), ("@cmd", "-2+3"), ("Tabbed question", "CR answer"))
    ),
    "formula-text.xlsx": Imported(((HYPERLINK, "+SUM(A1:A9)"), ("@cmd", "-2+3"))),
    "header-only.csv": Refused("header-only.csv", "no rows below its header"),
    "html-script.csv": Imported(((SCRIPT, IMG),)),
    "html-script.xlsx": Imported(((SCRIPT, IMG),)),
    "latin1.csv": Refused("row 2", "broken characters"),
    "long-fields.csv": Refused("row 3", "answer has 40,000 characters"),
    "missing-columns.csv": Refused("question", "choose the column"),
    "mixed-line-endings.csv": Imported((("A?", "B"), ("C?", "D"), ("E?", "F"))),
    "not-a-workbook.xlsx": Refused("not-a-workbook.xlsx", "is not an Excel workbook"),
    "qas-bom.jsonl": Imported((RETURNS, NORWAY)),
    "qas-control-chars.jsonl": Refused("line 2", "control character U+0000"),
    "qas-formula.jsonl": Imported(((HYPERLINK, "+SUM(A1:A9)"), ("@cmd|' /C calc'!A0", "-2+3"))),
    "qas-html-script.jsonl": Imported(
        (
            (
                "<script>alert('q')</script> What about returns?",
                f"{IMG} Thirty days. <b>bold</b>",
            ),
        )
    ),
    "qas-latin1.jsonl": Refused("line 2", "broken characters"),
    "qas-line-separators.jsonl": Imported(
        (("Line\u2028separator?", "Paragraph\u2029separator and next\u0085line."), NORWAY)
    ),
    "qas-malformed.jsonl": Refused("line 2", "not valid JSON"),
    "qas-mixed-line-endings.jsonl": Imported((RETURNS, NORWAY, ("Third?", "Yes."))),
    "qas-not-objects.jsonl": Refused("line 1", "must be a JSON object"),
    "qas-truncated.jsonl": Refused("line 2", "not valid JSON"),
    "qas-utf16.jsonl": Imported((("Grüße aus Köln?", "Schöne Grüße zurück."),)),
    "bom-inside.csv": Refused("line 3", "byte-order mark (U+FEFF) in the middle"),
    "qas-bom-inside.jsonl": Refused("line 2", "byte-order mark (U+FEFF) in the middle"),
    "qas-deep-nesting.jsonl": Refused("line 2", "nested more than 100 levels deep"),
    "qas-huge-number.jsonl": Refused("line 2", "a number with 5,000 digits"),
    "qas-infinity.jsonl": Refused("line 2", "the number 1e999999 is out of range"),
    "qas-nan.jsonl": Refused("line 2", "NaN is not a JSON value"),
    "qas-duplicate-keys.jsonl": Refused("line 2", "appears twice in one object"),
    "qas-surrogates.jsonl": Refused("line 2", "half of a surrogate pair"),
    "semicolon.csv": Imported((("What is the MOQ?", "10 pieces"),)),
    "truncated.xlsx": Refused("truncated.xlsx", "is not an Excel workbook"),
    "unbalanced-quotes.csv": Refused("row 2", "never closed"),
}

HELLO = ("Hi", "Hello, how can I help?")
TRANSCRIPT_FILES: dict[str, Imported | Refused] = {
    "binary.csv": Refused("line 2", "is not UTF-8"),
    "bom.jsonl": Imported((HELLO, HELLO)),
    "control-chars.jsonl": Refused("line 1, message 1", "control character U+0000"),
    "empty.csv": Refused("empty.csv", "is empty"),
    "empty.jsonl": Refused("empty.jsonl", "holds no transcripts"),
    "html-script.jsonl": Imported(
        (
            (
                "<script>alert('x')</script> How do returns work?",
                f"{IMG} Returns take 30 days. <b>bold</b>",
            ),
        )
    ),
    "html-script.xlsx": Refused("html-script.xlsx", ".jsonl or .csv"),
    "latin1.jsonl": Refused("line 1", "is not UTF-8"),
    "long-line.jsonl": Refused("line 1, message 1", "longer than 64,000 characters"),
    "malformed.jsonl": Refused("line 2", "not valid JSON"),
    "missing-columns.csv": Refused("line 1", "needs a column 'conversation_id'"),
    "mixed-line-endings.jsonl": Imported((HELLO, HELLO, HELLO)),
    "not-a-dict.jsonl": Refused("line 3", 'expected {"messages": [...]}'),
    "special-tokens.jsonl": Imported((("Say <|endoftext|> now", "<|im_start|>system"),)),
    "transcripts-bad.csv": Refused("line 3", "role 'robot'"),
    "transcripts-control-chars.csv": Refused("line 3", "control character U+0000"),
    "transcripts-hostile.csv": Imported(
        (
            (f"{SCRIPT} Where is my order?", f"{IMG} It ships today."),
            ('=HYPERLINK("http://evil.example")', "@SUM(A1) -2+3"),
        )
    ),
    "transcripts-latin1.csv": Refused("line 2", "is not UTF-8"),
    "transcripts-unbalanced-quotes.csv": Refused("line 3", "never closed"),
    "truncated.jsonl": Refused("line 2", "not valid JSON"),
    "utf16.jsonl": Imported((HELLO,)),
    "bom-inside.jsonl": Refused("line 2", "byte-order mark (U+FEFF) in the middle"),
    "transcripts-bom-inside.csv": Refused("line 4", "byte-order mark (U+FEFF) in the middle"),
    "deep-nesting.jsonl": Refused("line 2", "nested more than 100 levels deep"),
    "huge-number.jsonl": Refused("line 2", "a number with 5,000 digits"),
    "infinity.jsonl": Refused("line 2", "the number 1e999999 is out of range"),
    "nan.jsonl": Refused("line 2", "NaN is not a JSON value"),
    "duplicate-keys.jsonl": Refused("line 2", "appears twice in one object"),
    "surrogates.jsonl": Refused("line 2", "half of a surrogate pair"),
    "whitespace-only.jsonl": Refused("whitespace-only.jsonl", "holds no transcripts"),
}

# The validator's errors per file (besides "too few examples", which every file here has).
VALIDATOR_FILES: dict[str, list[tuple[int, str]]] = {
    "bom.jsonl": [(1, "byte-order mark")],
    "control-chars.jsonl": [],
    "empty.jsonl": [],
    "html-script.jsonl": [],
    "latin1.jsonl": [(1, "not UTF-8")],
    "long-line.jsonl": [(1, "250,012 tokens")],
    "malformed.jsonl": [(2, "not valid JSON")],
    "mixed-line-endings.jsonl": [(2, "not valid JSON")],
    "not-a-dict.jsonl": [(n, "not a JSON object") for n in (1, 2, 3)],
    "qas-malformed.jsonl": [(1, 'no "messages"'), (2, "not valid JSON"), (3, 'no "messages"')],
    "qas-utf16.jsonl": [(1, "UTF-16")],
    "special-tokens.jsonl": [(1, "<|endoftext|>"), (1, "<|im_start|>")],
    "truncated.jsonl": [(2, "not valid JSON")],
    "utf16.jsonl": [(1, "UTF-16")],
    "whitespace-only.jsonl": [(n, "empty line") for n in (1, 2, 3)],
    "bom-inside.jsonl": [(2, "byte-order mark (U+FEFF) in the middle")],
    "deep-nesting.jsonl": [(2, "nested more than 100 levels deep")],
    "huge-number.jsonl": [(2, "a number with 5,000 digits")],
    "infinity.jsonl": [(2, "the number 1e999999 is out of range")],
    "nan.jsonl": [(2, "NaN is not a JSON value")],
    "duplicate-keys.jsonl": [(2, "appears twice in one object")],
    "surrogates.jsonl": [(2, "half of a surrogate pair")],
}


def _corpus() -> list[str]:
    return sorted(p.name for p in HOSTILE.iterdir() if p.name != "README.md")


def test_every_file_of_the_corpus_has_an_expected_outcome_and_is_described() -> None:
    expected = set(QA_FILES) | set(TRANSCRIPT_FILES) | set(VALIDATOR_FILES)
    assert set(_corpus()) == expected
    readme = (HOSTILE / "README.md").read_text(encoding="utf-8")
    undescribed = [
        n for n in _corpus() if n not in readme and f"{n.rsplit('.', 1)[0]}.*" not in readme
    ]
    assert undescribed == []


def _row_counts(uow: UnitOfWork) -> dict[str, int]:
    """Rows of every table: a refused file must leave each count as it was."""
    with uow:
        return {
            t.name: uow.session.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables
        }


def _check_refusal(error: ArbiterError, outcome: Refused) -> None:
    text = str(error)
    assert outcome.where in text and outcome.says in text, text


# --- Q&A import (preview + commit), on SQLite and PostgreSQL -------------------------------


def _import_qas(uow: Uows, actor: Actor, model: int, name: str) -> qas.ImportResult:
    table = qas.read_upload(name, (HOSTILE / name).read_bytes())
    mapping = qas.suggest_mapping(table.headers)
    preview = qas.preview_import(uow(), actor, model, table, mapping)
    result = qas.commit_import(uow(), actor, model, table, mapping)
    assert result.created == preview.would_write(qas.OnDuplicate.SKIP)
    return result


@pytest.mark.parametrize("name", sorted(QA_FILES))
def test_qa_import(new_uow: Uows, trainer: Actor, name: str) -> None:
    outcome = QA_FILES[name]
    model = make_model(new_uow(), "Hostile")
    before = _row_counts(new_uow())
    if isinstance(outcome, Refused):
        with pytest.raises(ValidationFailed) as raised:
            _import_qas(new_uow, trainer, model, name)
        _check_refusal(raised.value, outcome)
        assert _row_counts(new_uow()) == before
        return
    result = _import_qas(new_uow, trainer, model, name)
    assert result.created == len(outcome.rows)
    with new_uow() as uow:
        stored = uow.session.execute(
            select(QA.question, QA.answer).where(QA.model_id == model).order_by(QA.id)
        ).all()
    assert [tuple(r) for r in stored] == list(outcome.rows)
    after = _row_counts(new_uow())
    assert after["qas"] == before["qas"] + len(outcome.rows)


def test_a_row_error_shows_in_the_preview_by_its_row(new_uow: Uows, trainer: Actor) -> None:
    model = make_model(new_uow(), "Hostile")
    table = qas.read_upload("c.csv", (HOSTILE / "control-chars.csv").read_bytes())
    preview = qas.preview_import(
        new_uow(), trainer, model, table, qas.suggest_mapping(table.headers)
    )
    assert [(p.where, p.status) for p in preview.problems] == [("row 2", qas.RowStatus.ERROR)]
    assert "U+0000" in preview.problems[0].errors[0]


def test_formulas_are_stored_as_typed_and_exported_neutralised(
    new_uow: Uows, trainer: Actor
) -> None:
    model = make_model(new_uow(), "Formulas")
    for name in ("formula-injection.csv", "formula-text.xlsx", "qas-formula.jsonl"):
        _import_qas(new_uow, trainer, model, name)
    query = QAQuery(model_id=model)

    exported = qas.export_qas(new_uow(), trainer, query, "csv").data.decode("utf-8-sig")
    cells = [c for row in csv.reader(io.StringIO(exported, newline="")) for c in row]
    assert f"'{HYPERLINK}" in cells and "'@cmd" in cells and "'-2+3" in cells
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)]

    data = qas.export_qas(new_uow(), trainer, query, "xlsx").data
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    values = [c for row in sheet.iter_rows() for c in row if c.value]
    assert all(c.data_type == "s" for c in values)  # text, never a formula
    assert f"'{HYPERLINK}" in [c.value for c in values]
    assert not [c.value for c in values if str(c.value).startswith(FORMULA_STARTS)]


# --- Transcript import, on SQLite and PostgreSQL --------------------------------------------


@pytest.mark.parametrize("name", sorted(TRANSCRIPT_FILES))
def test_transcript_import(new_uow: Uows, trainer: Actor, name: str) -> None:
    outcome = TRANSCRIPT_FILES[name]
    model = make_model(new_uow(), "Hostile")
    before = _row_counts(new_uow())
    content = (HOSTILE / name).read_bytes()
    if isinstance(outcome, Refused):
        with pytest.raises(ValidationFailed) as raised:
            curation.import_transcripts(new_uow(), trainer, model, name, content)
        _check_refusal(raised.value, outcome)
        assert _row_counts(new_uow()) == before
        return
    result = curation.import_transcripts(new_uow(), trainer, model, name, content)
    assert result.imported == len(outcome.rows)
    with new_uow() as uow:
        stored = uow.session.scalars(
            select(Transcript.messages).where(Transcript.model_id == model).order_by(Transcript.id)
        ).all()
    assert [tuple(m["content"] for m in messages) for messages in stored] == list(outcome.rows)


# --- The validator ---------------------------------------------------------------------------


def _errors(report: object) -> list[tuple[int | None, str]]:
    return [
        (f.line, f.message)
        for f in report.findings  # type: ignore[attr-defined]
        if f.severity == "error" and f.code != "too_few_examples"
    ]


@pytest.mark.parametrize("name", sorted(VALIDATOR_FILES))
def test_validator(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    from core.cli import main

    path = HOSTILE / name
    errors = _errors(validate_jsonl(path.read_bytes()))
    expected = VALIDATOR_FILES[name]
    assert [line for line, _ in errors] == [line for line, _ in expected], errors
    for (_, message), (_, says) in zip(errors, expected, strict=True):
        assert says in message
    # The command reads the file as a stream and must say the same, line by line.
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    for line, message in errors:
        assert f"{path}:{line}: error: {message}" in out


def test_a_line_longer_than_the_limit_is_named_not_read(tmp_path: Path) -> None:
    good = json.dumps({"messages": [{"role": "user", "content": q} for q in HELLO]})
    good = good.replace('"user", "content": "Hello', '"assistant", "content": "Hello')
    path = tmp_path / "huge-line.jsonl"
    with path.open("wb") as out:
        out.write(good.encode() + b"\n")
        for _ in range(9):
            out.write(b"x" * 1024 * 1024)
        out.write(b"\n" + good.encode() + b"\n")
    with path.open("rb") as stream:
        report = validate_stream(stream)
    assert _errors(report) == [(2, "longer than 8 MB: not read")]
    assert report.example_count == 2


# --- The commands -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("hostile-cli")
    url = f"sqlite:///{folder / 'cli.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        patch.setenv("ARBITER_DATA_DIR", str(folder))
        engine = db.make_engine(url)
        db.upgrade(engine)
        engine.dispose()
        yield url
    db.dispose_engines()


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from core.cli import main

    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize(
    ("command", "name"),
    [("import-qas", n) for n in sorted(QA_FILES)]
    + [("import-transcripts", n) for n in sorted(TRANSCRIPT_FILES)],
)
def test_command(
    cli_database: str, command: str, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    outcome = (QA_FILES if command == "import-qas" else TRANSCRIPT_FILES)[name]
    uow = UnitOfWork(db.session_factory(db.get_engine(cli_database)))
    model = f"{command} {name}"
    make_model(uow, model)
    before = _row_counts(uow)
    code, output = _cli([command, model, str(HOSTILE / name)], capsys)
    if isinstance(outcome, Refused):
        assert code == 1
        assert outcome.where in output and outcome.says in output, output
        assert _row_counts(uow) == before
    else:
        assert code == 0, output
        table = "qas" if command == "import-qas" else "transcripts"
        assert _row_counts(uow)[table] == before[table] + len(outcome.rows)


# --- A 100 MB file ---------------------------------------------------------------------------

BIG_BYTES = 100_000_000
_SYSTEM = (
    "You are the arbiter of Northwind Parts. Answer questions about orders, returns, warranty "
    "and delivery in two or three friendly sentences, in the customer's language. Never "
    "promise discounts; refer pricing questions to the sales team. "
) * 2
_SENTENCE = (
    "please check the order in the portal before you confirm it to the customer and note the "
    "reference on the invoice so that accounting can match the payment within three days"
)


def _write_big(path: Path, size: int) -> int:
    """A valid training file of ``size`` bytes: every line a distinct question with an
    answer of 8 to 16 sentences (about 1.5 KB a line). Written line by line."""
    rng = random.Random(8)
    words = _SENTENCE.split(" ")
    sentences = [
        " ".join(rng.choice(words) for _ in range(rng.randint(8, 20))).capitalize() + "."
        for _ in range(2000)
    ]
    written = lines = 0
    with path.open("wb") as out:
        while written < size:
            lines += 1
            messages = [
                {"role": "system", "content": _SYSTEM},
                {"role": "user", "content": f"What is the return rule for part NW-{lines:07d}?"},
                {"role": "assistant", "content": " ".join(rng.choices(sentences, k=16))},
            ]
            data = (json.dumps({"messages": messages}) + "\n").encode()
            out.write(data)
            written += len(data)
    return lines


# Run in a fresh interpreter: a warm-up on a small file loads the code, the tokenizer and the
# database, so that the growth of the peak resident size after it is what the big file costs.
_PROBE = """
import contextlib, io, json, sys
from core.cli import main

def peak_kb():
    # This process's own high-water mark: getrusage's ru_maxrss would carry the peak of the
    # (large) test process that started it across exec.
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith("VmHWM:"))

command, small, big = sys.argv[1:4]
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    main([command, *sys.argv[4:], small])
before = peak_kb()
out, err = io.StringIO(), io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    code = main([command, *sys.argv[4:], big])
print(json.dumps({"code": code, "growth_kb": peak_kb() - before,
                  "out": out.getvalue()[-2000:], "err": err.getvalue()[-2000:]}))
"""


def _probe(tmp_path: Path, command: str, small: Path, big: Path, *extra: str) -> dict[str, object]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'big.db'}",
        "ARBITER_DATA_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, command, str(small), str(big), *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.xdist_group("hostile-big")
def test_a_100_mb_file_is_validated_in_bounded_memory_and_refused_by_the_importers(
    tmp_path: Path,
) -> None:
    big = tmp_path / "big.jsonl"
    lines = _write_big(big, BIG_BYTES)
    small = tmp_path / "small.jsonl"
    with big.open("rb") as source:
        small.write_bytes(b"".join(source.readline() for _ in range(200)))

    # Reading the whole file would cost its 100 MB of bytes before parsing anything (the
    # validator did: about 5 times the file). Streamed, it keeps about 100 bytes per line
    # (~6 MB here) and one batch of examples: measured about 15 MB. A third of the file
    # leaves room for the allocator and still fails any whole-file read.
    validated = _probe(tmp_path, "validate", small, big)
    assert validated["code"] == 0, validated
    assert f"{lines:,} examples" in str(validated["out"])
    assert int(str(validated["growth_kb"])) * 1024 < BIG_BYTES / 3, validated

    engine = db.make_engine(f"sqlite:///{tmp_path / 'big.db'}")
    db.upgrade(engine)
    make_model(UnitOfWork(db.session_factory(engine)), "Big")
    engine.dispose()
    for command in ("import-qas", "import-transcripts"):
        refused = _probe(tmp_path, command, small, big, "Big")
        assert refused["code"] == 1
        assert "import at most 50 MB at a time" in str(refused["err"]), refused
        # Refused before it was read: not even its bytes were held.
        assert int(str(refused["growth_kb"])) * 1024 < BIG_BYTES / 10, refused


def test_the_services_refuse_a_file_over_the_limit_before_parsing(
    new_uow: Uows, trainer: Actor
) -> None:
    model = make_model(new_uow(), "Big")
    content = b"question,answer\n" + b"x" * IMPORT_MAX_BYTES
    with pytest.raises(ValidationFailed, match="import at most 50 MB"):
        qas.read_upload("big.csv", content)
    with pytest.raises(ValidationFailed, match="import at most 50 MB"):
        curation.import_transcripts(new_uow(), trainer, model, "big.jsonl", content)
