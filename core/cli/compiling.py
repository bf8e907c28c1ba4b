"""Compiling, and training sets to take elsewhere."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.cli.base import CLI_ACTOR, command, open_uow
from core.services import catalog


@command("compile")
def cmd_compile(args: argparse.Namespace) -> int:
    from core.services import compilation

    uow = open_uow()
    model = catalog.get_model_by_name(uow, CLI_ACTOR, args.model)
    if args.dry_run:
        preflight = compilation.preflight(uow, CLI_ACTOR, model.id, preference=args.dpo)
        _print_preflight(preflight)
        dpo_refused = preflight.preference is not None and preflight.preference.refusal
        return 1 if preflight.errors or preflight.refusal or dpo_refused else 0
    queued = compilation.request_compilation(
        uow,
        CLI_ACTOR,
        model.id,
        force=args.force,
        override_budget=args.override_budget,
        preference=args.dpo,
    )
    print(f"Compilation #{queued.id} of {model.name} queued.")
    if not args.wait:
        print("A worker runs it (the app's embedded worker or python -m core.worker).")
        return 0
    return _follow(queued.id)


def _follow(compilation_id: int) -> int:
    """Work on the compilation here (other workers may share it) and print its progress."""
    import time

    from core.services import compilation
    from core.worker import worker_id

    name = f"cli:{worker_id()}"
    seen = 0
    while True:
        ran = compilation.run_next(open_uow(), name, compilation_id=compilation_id)
        for event in compilation.compilation_events(open_uow(), CLI_ACTOR, compilation_id, seen):
            seen = event.id
            print(f"{event.created_at:%H:%M:%S}  {event.message}")
        view = compilation.get_compilation(open_uow(), CLI_ACTOR, compilation_id)
        if view.finished:
            print(f"Compilation #{view.id}: {view.status.value}.")
            return 0 if view.status.value in ("succeeded", "skipped") else 1
        if not ran:
            time.sleep(0.2)


def _print_preflight(p: object) -> None:
    from core.services.compilation import Preflight

    assert isinstance(p, Preflight)
    print(f"Pre-flight of {p.model_name} ({p.sources}), base model {p.base_model or '-'}")
    print(f"  examples      {p.example_count:,} ({p.duplicates_removed:,} duplicates kept once)")
    print(f"  tokens        {p.total_tokens:,}")
    print(f"  estimate      {p.estimate.describe()}")
    print(f"  budget        {p.budget.describe()}")
    print(f"  changes       {p.diff.describe() if p.diff else 'no active version to compare'}")
    if p.config_changed:
        print("                configuration changed")
    if p.preference is not None:
        print(f"  then DPO      {p.preference.describe()}")
        for finding in p.preference.findings[:20]:
            print(f"    {finding}")
    print(f"  findings      {p.errors:,} errors, {p.warnings:,} warnings")
    for finding in p.findings[:50]:
        print(f"    {finding}")
    if len(p.findings) > 50:
        print(f"    … and {p.errors + p.warnings - 50:,} more")
    print(f"  outcome       {p.outcome}")


@command("export-training-set")
def cmd_export_training_set(args: argparse.Namespace) -> int:
    from core.services import compilation

    uow = open_uow()
    model = catalog.get_model_by_name(uow, CLI_ACTOR, args.model)
    content = compilation.export_training_set(uow, CLI_ACTOR, model.id, args.method)
    if args.file == "-":
        sys.stdout.buffer.write(content)
        return 0
    Path(args.file).write_bytes(content)
    lines = content.count(b"\n")
    print(f"Wrote {lines:,} examples of {model.name} to {args.file} (chat JSONL).")
    return 0


@command("export-training-sets")
def cmd_export_training_sets(args: argparse.Namespace) -> int:
    from core.services import catalog

    exported = catalog.export_training_sets(open_uow(), CLI_ACTOR)
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in exported.files.items():
        (folder / name).write_bytes(content)
    written = sum(1 for s in exported.sets if s.examples)
    print(
        f"Wrote the training sets of {written} of {len(exported.sets)} model(s), "
        f"{exported.examples:,} examples, to {folder} (chat JSONL, with manifest.json)."
    )
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Compiling, and training sets to take elsewhere."""
    p = sub.add_parser("compile", help="compile a model (or only check it with --dry-run)")
    p.add_argument("model", help="model name")
    p.add_argument("--dry-run", action="store_true", help="pre-flight only: start nothing")
    p.add_argument("--wait", action="store_true", help="run it here and print its progress")
    p.add_argument("--force", action="store_true", help="compile even if nothing changed")
    p.add_argument(
        "--override-budget", action="store_true", help="compile even past the monthly budget"
    )
    p.add_argument(
        "--dpo",
        action="store_true",
        help="supervised, then preference training (DPO) on Train AI's corrections "
        "(OpenAI, open-weights)",
    )
    p = sub.add_parser(
        "export-training-set", help="write a model's training set as provider-neutral JSONL"
    )
    p.add_argument("model", help="model name")
    p.add_argument("file", help="the file to write (- for standard output)")
    p.add_argument(
        "--method",
        choices=["sft", "dpo"],
        default="sft",
        help="sft: chat examples; dpo: Train AI's corrections as preference pairs",
    )
    p = sub.add_parser(
        "export-training-sets",
        help="write every arbiter's training set as JSONL, one file per model, and a manifest",
    )
    p.add_argument("dir", help="the folder to write into (created if missing)")
