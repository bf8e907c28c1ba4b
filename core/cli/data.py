"""Training data in and out: validation, transcripts, Q&As."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.cli.base import CLI_ACTOR, command, open_uow
from core.errors import ArbiterError, ValidationFailed
from core.services import catalog
from core.uow import UnitOfWork


@command("validate")
def cmd_validate(args: argparse.Namespace) -> int:
    from core.training.preference import looks_like_preference_file, validate_preference_stream
    from core.training.validator import example_token_limit, validate_stream

    path = Path(args.file)
    try:
        with path.open("rb") as stream:
            if looks_like_preference_file(stream):
                limit = example_token_limit(args.base_model)
                report = validate_preference_stream(stream, token_limit=limit)
            else:
                report = validate_stream(stream, base_model=args.base_model)
    except OSError as exc:
        raise ArbiterError(f"Cannot read {path}: {exc.strerror}.") from exc
    for finding in report.findings:
        print(f"{path}:{finding.line or '-'}: {finding.severity}: {finding.message}")
    hidden = report.errors + report.warnings - len(report.findings)
    if hidden > 0:
        print(f"… and {hidden:,} more of the same kinds")
    print(f"{path}: {report.summary()}")
    return 1 if report.errors else 0


@command("import-transcripts")
def cmd_import_transcripts(args: argparse.Namespace) -> int:
    from core.services import curation

    uow = open_uow()
    model = catalog.get_model_by_name(uow, CLI_ACTOR, args.model)
    path = Path(args.file)
    if not path.is_file():
        raise ArbiterError(f"There is no file {args.file!r}.")
    try:
        result = curation.import_transcripts(
            uow, CLI_ACTOR, model.id, path.name, _read_import(path)
        )
    except ValidationFailed as exc:
        # One problem per line, so that each bad line of the file can be found.
        print(f"error: {exc.message}", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(
        f"Imported {result.imported:,} transcripts into the review queue of {model.name}"
        f" ({result.with_personal_data:,} with personal-data warnings)."
    )
    return 0


def _read_import(path: Path) -> bytes:
    """An import file's bytes; one over the import limit is refused before it is read."""
    from core.tabular import too_large

    try:
        refused = too_large(path.name, path.stat().st_size)
        if refused:
            raise ValidationFailed(f"{refused}.")
        return path.read_bytes()
    except OSError as exc:
        raise ArbiterError(f"Cannot read {path}: {exc.strerror}.") from exc


def _model_id(uow: UnitOfWork, name_or_id: str) -> int:
    if name_or_id.isdigit():
        return catalog.get_model(uow, CLI_ACTOR, int(name_or_id)).id
    return catalog.get_model_by_name(uow, CLI_ACTOR, name_or_id).id


@command("import-qas")
def cmd_import_qas(args: argparse.Namespace) -> int:
    from core.services import qas

    uow = open_uow()
    model_id = _model_id(uow, args.model)
    path = Path(args.file)
    table = qas.read_upload(path.name, _read_import(path))
    mapping = qas.suggest_mapping(table.headers)
    for pair in args.column or []:
        field, _, header = pair.partition("=")
        field = {"type": "qa_type", "active": "is_active"}.get(field, field)
        if field not in qas.FIELDS or not header:
            raise ArbiterError(
                f"--column {pair!r}: use FIELD=HEADER, FIELD one of {', '.join(qas.HEADERS.values())}."
            )
        mapping[field] = header
    result = qas.commit_import(
        uow,
        CLI_ACTOR,
        model_id,
        table,
        mapping,
        args.on_duplicate,
        leave_out_errors=args.skip_errors,
    )
    print(result.message)
    for line in result.similar[:50]:
        print(f"  {line}")
    if len(result.similar) > 50:
        print(f"  … and {len(result.similar) - 50:,} more rows similar to existing Q&As")
    return 0


@command("export-qas")
def cmd_export_qas(args: argparse.Namespace) -> int:
    from core.services import qas
    from core.services.qas import QAQuery
    from core.tabular import TableError, format_of

    uow = open_uow()
    model_id = _model_id(uow, args.model)
    path = Path(args.file)
    try:
        kind = args.format or format_of(path.name)
    except TableError as exc:
        raise ArbiterError(f"{exc} (or pass --format).") from exc
    active = True if args.active_only else None
    exported = qas.export_qas(uow, CLI_ACTOR, QAQuery(model_id=model_id, active=active), kind)
    try:
        path.write_bytes(exported.data)
    except OSError as exc:
        raise ArbiterError(f"Cannot write {path}: {exc.strerror}.") from exc
    print(f"Exported {exported.rows:,} Q&As to {path} ({kind}).")
    return 0


@command("make-validation-set")
def cmd_make_validation_set(args: argparse.Namespace) -> int:
    from core.services import qas

    uow = open_uow()
    split = qas.make_validation_set(
        uow, CLI_ACTOR, _model_id(uow, args.model), args.share, args.seed
    )
    print(split.message[0].upper() + split.message[1:] + ".")
    for section, (validation, total) in sorted(split.per_section.items()):
        print(f"  {section or '(no section)'}: {validation:,} of {total:,} for validation")
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Training data in and out: validation, transcripts, Q&As."""
    p = sub.add_parser("validate", help="check a JSONL training file against the providers' rules")
    p.add_argument("file", help="the JSONL file")
    p.add_argument("--base-model", help="base model whose per-example token limit applies")
    p = sub.add_parser(
        "import-transcripts",
        help="queue transcripts (JSONL in OpenAI chat format, or CSV) for curation",
    )
    p.add_argument("model", help="model name")
    p.add_argument("file", help="a .jsonl or .csv file")
    p = sub.add_parser(
        "import-qas",
        help="import Q&As from a CSV, XLSX or JSONL file (all rows or none)",
        description="Columns: question, answer (required); section, type, active, notes. "
        "Rows whose question the model already has are skipped unless --on-duplicate update.",
    )
    p.add_argument("model", help="model name or id")
    p.add_argument("file", help=".csv, .tsv, .xlsx or .jsonl")
    p.add_argument("--on-duplicate", choices=["skip", "update"], default="skip")
    p.add_argument(
        "--skip-errors", action="store_true", help="import the valid rows, leave out bad ones"
    )
    p.add_argument(
        "--column",
        action="append",
        metavar="FIELD=HEADER",
        help="map a field to a differently named column, e.g. question=Frage (repeatable)",
    )
    p = sub.add_parser("export-qas", help="export a model's Q&As to CSV, XLSX or JSONL")
    p.add_argument("model", help="model name or id")
    p.add_argument("file", help="where to write (.csv, .xlsx or .jsonl)")
    p.add_argument("--format", choices=["csv", "xlsx", "jsonl"], help="default: from the file name")
    p.add_argument("--active-only", action="store_true", help="leave out deactivated Q&As")
    p = sub.add_parser(
        "make-validation-set",
        help="turn a seeded share of each section's active Q&As into validation Q&As",
        description="The rest become training Q&As; the same or nearly the same questions "
        "stay on one side. The same seed and Q&As give the same split.",
    )
    p.add_argument("model", help="model name or id")
    p.add_argument("--share", type=float, default=0.1, help="share per section (default 0.1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the draw (default 0)")
