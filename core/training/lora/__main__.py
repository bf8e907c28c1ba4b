"""``python -m core.training.lora train JOB_FOLDER --parent PID``: the training process."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.training.lora")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train one job folder (started by the provider)")
    train.add_argument("folder", type=Path)
    train.add_argument("--parent", type=int, required=True, help="die when this process dies")
    args = parser.parse_args(argv)
    from core.training.lora import jobs, models

    jobs.die_with_parent(args.parent, args.folder)
    models.offline()
    from core.training.lora import runner

    return runner.run(args.folder)


if __name__ == "__main__":
    sys.exit(main())
