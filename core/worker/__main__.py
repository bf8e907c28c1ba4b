"""``python -m core.worker``: a separate worker process on the configured database."""

from __future__ import annotations

import argparse
import logging
import os
import signal
from collections.abc import Sequence

from core import bootstrap, config


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m core.worker",
        description="Run background work (compilations, budget checks, base-model refreshes) "
        "on the configured database; any number of these may run at once.",
    )
    parser.add_argument("--once", action="store_true", help="do one round of work, then exit")
    parser.add_argument("--idle", type=float, default=1.0, help="seconds to wait when idle")
    parser.add_argument(
        "--exit-when-idle",
        type=float,
        metavar="SECONDS",
        help="exit once no work was found for this long (batch runs, benchmarks)",
    )
    trains = parser.add_mutually_exclusive_group()
    trains.add_argument(
        "--only",
        choices=["training"],
        help="take only compilations that train on this machine (open-weights connections): "
        "for GPU hosts",
    )
    trains.add_argument(
        "--no-training",
        action="store_true",
        help="leave compilations that train on this machine (open-weights) to --only "
        "training workers",
    )
    args = parser.parse_args(argv)
    if args.only or args.no_training:
        # The compilation engine reads its settings from the environment, as every worker's.
        os.environ["ARBITER_WORKER_TRAINING"] = "only" if args.only else "none"
    if os.environ.get("ARBITER_WORKER_TRAINING", "any") not in ("any", "only", "none"):
        parser.error("ARBITER_WORKER_TRAINING must be any, only or none")
    config.keep_files_private()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    worker = bootstrap.worker(bootstrap.uow_factory(upgrade=True), idle_seconds=args.idle)
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    signal.signal(signal.SIGINT, lambda *_: worker.stop())
    if args.once:
        worker.run_once()
        return 0
    worker.run_forever(args.exit_when_idle)
    return 0


raise SystemExit(main())
