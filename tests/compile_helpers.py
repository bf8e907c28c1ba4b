"""Building blocks of the compilation tests: a company with models and training data, a
fast engine (short polls, leases and grace periods), and running the worker until idle."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.domain import ConversationStatus, MessageRole, ProviderType, QAType
from core.models import QA, Compilation, TrainingConversation, TrainingMessage
from core.permissions import Actor
from core.providers.local import LOCAL_BASE_MODEL
from core.services import catalog, compilation
from core.services.catalog import ModelInput
from core.services.compilation import EngineSettings
from core.training.text import question_key
from core.uow import UnitOfWork

Uows = Callable[[], UnitOfWork]
OPENAI_KEY_ENV = "ARBITER_KEY_TEST_OPENAI"
FAST = EngineSettings(
    lease_seconds=30,
    doubt_seconds=1.5,
    retry_seconds=0.05,
    max_provider_errors=5,
    poll_seconds=0.01,
)

TOPICS = [
    (
        "returns",
        "How long do customers have to return a relay?",
        "Customers may return relays within 30 days with the order number.",
    ),
    (
        "shipping",
        "When do orders placed before noon ship?",
        "Orders placed before noon ship the same working day from Venlo.",
    ),
    (
        "invoices",
        "Which currency do we invoice Polish customers in?",
        "Polish customers are invoiced in euro unless their contract says zloty.",
    ),
    (
        "warranty",
        "How long is the warranty on power supplies?",
        "Power supplies carry a two-year warranty from the delivery date.",
    ),
    (
        "samples",
        "Can a customer get free samples of sensors?",
        "Yes, up to three sensor samples per project, approved by sales.",
    ),
    (
        "discounts",
        "What discount do distributors get on connectors?",
        "Distributors get twelve percent on connectors above one thousand euro.",
    ),
    (
        "hours",
        "When is the Dublin support desk open?",
        "The Dublin support desk is open from eight to six on working days.",
    ),
    (
        "datasheets",
        "Where do customers find datasheets?",
        "Datasheets are on each product page under the Downloads tab.",
    ),
    (
        "rma",
        "What does a return merchandise number look like?",
        "An RMA number starts with RMA, then the year and five digits.",
    ),
    (
        "export",
        "Do we ship relays to Switzerland?",
        "Yes, relays ship to Switzerland with customs papers prepared by Venlo.",
    ),
    (
        "payment",
        "What are the standard payment terms?",
        "Standard payment terms are thirty days net from the invoice date.",
    ),
    (
        "calibration",
        "Do we calibrate pressure sensors?",
        "Pressure sensors are calibrated in Venlo before shipping, with a certificate.",
    ),
]


def local_connection(new_uow: Uows, admin: Actor) -> int:
    return catalog.create_connection(
        new_uow(),
        admin,
        catalog.ConnectionInput(
            name="Local", provider_type=ProviderType.LOCAL, default_base_model=LOCAL_BASE_MODEL
        ),
    ).id


def open_weights_connection(
    new_uow: Uows, admin: Actor, name: str = "Local fine-tune (SmolLM2-135M)"
) -> int:
    """An open-weights connection on the bundled SmolLM2-135M-Instruct."""
    from core.training.lora.models import BUNDLED_ID

    return catalog.create_connection(
        new_uow(),
        admin,
        catalog.ConnectionInput(
            name=name, provider_type=ProviderType.OPEN_WEIGHTS, default_base_model=BUNDLED_ID
        ),
    ).id


def openai_connection(
    new_uow: Uows,
    admin: Actor,
    base_url: str,
    *,
    price: str = "0",
    budget: str | None = None,
    name: str = "OpenAI test",
) -> int:
    return catalog.create_connection(
        new_uow(),
        admin,
        catalog.ConnectionInput(
            name=name,
            provider_type=ProviderType.OPENAI,
            base_url=base_url,
            api_key_env=OPENAI_KEY_ENV,
            default_base_model="gpt-4o-mini-2024-07-18",
            price_per_million_tokens=Decimal(price),
            monthly_budget=Decimal(budget) if budget is not None else None,
        ),
    ).id


def make_model(new_uow: Uows, admin: Actor, name: str, **settings: object) -> int:
    settings.setdefault("system_message", f"You are {name}, Northwind's arbiter. Be brief.")
    return catalog.create_model(new_uow(), admin, ModelInput(name=name, **settings)).id  # type: ignore[arg-type]


def add_qas(
    new_uow: Uows,
    model_id: int,
    items: list[tuple[str, str]] | None = None,
    qa_type: QAType = QAType.TRAINING,
) -> list[int]:
    uow = new_uow()
    with uow:
        rows = [
            QA(
                model_id=model_id,
                section="General",
                question=q,
                answer=a,
                question_key=question_key(q),
                qa_type=qa_type,
            )
            for q, a in (items if items is not None else [(q, a) for _, q, a in TOPICS])
        ]
        uow.session.add_all(rows)
        uow.commit()
        return [r.id for r in rows]


def add_conversation(new_uow: Uows, model_id: int, status: ConversationStatus) -> int:
    uow = new_uow()
    with uow:
        conv = TrainingConversation(model_id=model_id, title="Corrected answer", status=status)
        conv.messages = [
            TrainingMessage(
                position=0, role=MessageRole.USER, content="Can I return a used relay?"
            ),
            TrainingMessage(position=1, role=MessageRole.ASSISTANT, content="No, never.", weight=0),
            TrainingMessage(position=2, role=MessageRole.USER, content="That is wrong."),
            TrainingMessage(
                position=3,
                role=MessageRole.ASSISTANT,
                content="Sorry: used relays may be returned within 30 days if undamaged.",
                weight=1,
            ),
        ]
        uow.session.add(conv)
        uow.commit()
        return conv.id


def edit_answer(new_uow: Uows, qa_id: int, answer: str) -> None:
    uow = new_uow()
    with uow:
        qa = uow.session.get(QA, qa_id)
        assert qa is not None
        qa.answer = answer
        uow.commit()


def drain(new_uow: Uows, settings: EngineSettings = FAST, timeout: float = 30) -> int:
    return compilation.drain(new_uow(), "test-worker", settings=settings, idle_timeout=timeout)


def stored_compilation(new_uow: Uows, compilation_id: int) -> Compilation:
    uow = new_uow()
    with uow:
        found = uow.session.get(Compilation, compilation_id)
        assert found is not None
        uow.session.expunge(found)
        return found


def count(new_uow: Uows, entity: type, **where: object) -> int:
    uow = new_uow()
    with uow:
        query = select(func.count()).select_from(entity)
        for key, value in where.items():
            query = query.where(getattr(entity, key) == value)
        return int(uow.session.scalar(query) or 0)


@pytest.fixture
def engine_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    """Local-provider files in the test's folder; fast polls for workers started here."""
    monkeypatch.setenv("ARBITER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ARBITER_POLL_SECONDS", "0.01")
    monkeypatch.setenv("ARBITER_RETRY_SECONDS", "0.05")
    monkeypatch.setenv("ARBITER_JOB_DOUBT_SECONDS", "1.5")
