"""LLM-judge throughput: an evaluation of a version's validation Q&As (the arbiter answers on
the local provider) with a judge grading every answer, against the same evaluation without a
judge, measured in the same run. Judges: the local OpenAI test server through the official
SDK (the whole judging path: the rubric, the HTTP call, reading the verdict, storing it),
and the bundled open-weights model on this CPU (a real local model writing verdicts).

    python -m bench judge
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from bench.common import CATALOGUE_FACTS, Figure, stopwatch, studio, table

if TYPE_CHECKING:
    from core.permissions import Actor
    from core.uow import UnitOfWork

QUESTIONS = 200
LOCAL_MODEL_QUESTIONS = 4  # a 135M model writing verdicts on a shared CPU: seconds each
KEY_ENV = "ARBITER_KEY_BENCH_JUDGE"


def _qas(count: int, kind: str) -> list[tuple[str, str]]:
    return [
        (
            f"{kind} question {n}: what is rule {n} about the NW-{n:04d} relay?",
            f"Rule {n}: {CATALOGUE_FACTS[n % len(CATALOGUE_FACTS)]}",
        )
        for n in range(count)
    ]


def _world(folder: Path) -> tuple[UnitOfWork, Actor, Actor, int]:
    from core.domain import QAType
    from core.models import QA
    from core.services import catalog, compilation
    from core.services.catalog import ModelInput
    from core.training.text import question_key

    world = studio(f"sqlite:///{folder / 'bench.db'}")
    uow, trainer, admin = world.uow, world.trainer, world.admin
    local = world.local_connection_id
    model = catalog.create_model(uow, admin, ModelInput(name="Support", connection_id=local))
    with uow:
        for kind, items in ((QAType.TRAINING, _qas(QUESTIONS, "training")),
                            (QAType.VALIDATION, _qas(QUESTIONS, "validation"))):  # fmt: skip
            uow.session.add_all(
                QA(
                    model_id=model.id,
                    section="General",
                    question=q,
                    answer=a,
                    question_key=question_key(q),
                    qa_type=kind,
                )
                for q, a in items
            )
        uow.commit()
    compilation.request_compilation(uow, trainer, model.id)
    compilation.drain(uow, "bench", idle_timeout=60)
    return uow, admin, trainer, model.id


def _judge_connection(uow: UnitOfWork, admin: Actor, base_url: str) -> int:
    from decimal import Decimal

    from core.domain import ProviderType
    from core.services import catalog
    from core.services.catalog import ConnectionInput

    return catalog.create_connection(
        uow,
        admin,
        ConnectionInput(
            name="Judge (local test server)",
            provider_type=ProviderType.OPENAI,
            base_url=base_url,
            api_key_env=KEY_ENV,
            default_base_model="gpt-4o-mini-2024-07-18",
            price_per_million_tokens=Decimal("0.60"),
        ),
    ).id


def _open_weights_connection(uow: UnitOfWork, admin: Actor) -> int | None:
    from core.domain import ProviderType
    from core.services import catalog
    from core.services.catalog import ConnectionInput
    from core.training.lora import models

    if models.bundled_gguf() is None:
        return None
    return catalog.create_connection(
        uow,
        admin,
        ConnectionInput(
            name="Judge (open weights)",
            provider_type=ProviderType.OPEN_WEIGHTS,
            default_base_model=models.BUNDLED_ID,
        ),
    ).id


def _verdict(model: str, messages: list[object]) -> str:
    return '{"score": 4, "reason": "states the same facts"}'


def _local_model_figures(
    uow: UnitOfWork, trainer: Actor, model_id: int, judge: int
) -> list[Figure]:
    """The open-weights judge on a few questions (after one warm-up that loads the model)."""
    from sqlalchemy import select, update

    from core.domain import QAType
    from core.models import QA
    from core.services import evaluation

    with uow:
        ids = list(
            uow.session.scalars(
                select(QA.id)
                .where(QA.model_id == model_id, QA.qa_type == QAType.VALIDATION)
                .order_by(QA.id)
            )
        )
        uow.session.execute(
            update(QA).where(QA.id.in_(ids[LOCAL_MODEL_QUESTIONS:])).values(is_active=False)
        )
        uow.commit()
    evaluation.evaluate(uow, trainer, model_id, 1, judge_connection_id=judge)  # warm-up
    with stopwatch() as plain:
        evaluation.evaluate(uow, trainer, model_id, 1)
    with stopwatch() as judged:
        run = evaluation.evaluate(uow, trainer, model_id, 1, judge_connection_id=judge)
    n = LOCAL_MODEL_QUESTIONS
    name = "LLM judge, SmolLM2-135M on this CPU"
    rate = n / judged[0]
    return [
        Figure(
            name,
            f"questions judged per second ({n} questions)",
            rate,
            "/s",
            note=f"without a judge {n / plain[0]:,.1f}/s in the same run: judging is "
            f"{judged[0] / plain[0]:,.0f}× the time; {run.judged} of {n} verdicts readable, "
            f"{run.judge_tokens:,} judge tokens",
        )
    ]


def run() -> list[Figure]:
    from core.services import evaluation
    from tests.openai_server import FakeOpenAI

    with tempfile.TemporaryDirectory(prefix="arbiter-bench-judge-") as tmp:
        folder = Path(tmp)
        os.environ.setdefault("ARBITER_DATA_DIR", str(folder / "data"))
        os.environ.setdefault("ARBITER_MAX_ANSWER_TOKENS", "48")
        os.environ.setdefault("ARBITER_TRAINING_THREADS", "2")
        uow, admin, trainer, model_id = _world(folder)
        with FakeOpenAI() as fake:
            fake.chat_answer = _verdict
            os.environ[KEY_ENV] = fake.api_key
            judge = _judge_connection(uow, admin, fake.base_url)
            evaluation.evaluate(uow, trainer, model_id, 1)  # warm-up: index, SDK client
            with stopwatch() as plain:
                evaluation.evaluate(uow, trainer, model_id, 1)
            with stopwatch() as judged:
                run_ = evaluation.evaluate(uow, trainer, model_id, 1, judge_connection_id=judge)
        assert run_.judged == QUESTIONS, run_.summary()
        name = "LLM judge, local OpenAI test server (official SDK)"
        figures = [
            Figure(
                name,
                f"questions answered and judged per second ({QUESTIONS})",
                QUESTIONS / judged[0],
                "/s",
                note=f"baseline without a judge {QUESTIONS / plain[0]:,.1f}/s in the same run; "
                f"ratio {judged[0] / plain[0]:,.2f}× the time; judging alone "
                f"{QUESTIONS / max(1e-9, judged[0] - plain[0]):,.1f}/s; "
                f"{run_.judge_tokens:,} judge tokens, cost {run_.judge_cost}",
            )
        ]
        local_judge = _open_weights_connection(uow, admin)
        if local_judge is not None and os.environ.get("ARBITER_BENCH_LOCAL_JUDGE", "1") != "0":
            figures += _local_model_figures(uow, trainer, model_id, local_judge)
        return figures


if __name__ == "__main__":
    print(table(run()))
