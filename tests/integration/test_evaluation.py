"""Evaluations as a trainer meets them: a version and the untrained base model asked the
validation Q&As, per question scores, an LLM judge on another connection (and a judge that
answers nonsense or times out: those questions stay unjudged, nothing else changes), and two
versions side by side with the corrected question improved and listed first among changes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from core.domain import CompilationStatus, QAType
from core.errors import Conflict
from core.permissions import Actor
from core.services import catalog, compilation, evaluation, history
from core.training.cost import cost_of
from tests.compile_helpers import (
    OPENAI_KEY_ENV,
    TOPICS,
    Uows,
    add_qas,
    drain,
    edit_answer,
    local_connection,
    make_model,
    openai_connection,
)
from tests.openai_server import FakeOpenAI, Fault

# Validation questions worded differently from the training ones, with the expected facts.
VALIDATION = [
    ("Within how many days can a relay be returned?", TOPICS[0][2]),
    ("Orders before noon: when do they ship?", TOPICS[1][2]),
    ("How long is the warranty for power supplies?", TOPICS[3][2]),
]


@pytest.fixture
def judge_server(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> Iterator[FakeOpenAI]:
    monkeypatch.setenv("ARBITER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ARBITER_OPENAI_TIMEOUT", "1")
    with FakeOpenAI() as fake:
        monkeypatch.setenv(OPENAI_KEY_ENV, fake.api_key)
        yield fake


@pytest.fixture
def model(new_uow: Uows, admin: Actor, trainer: Actor, judge_server: FakeOpenAI) -> int:
    model_id = make_model(
        new_uow, admin, "Northwind Support", connection_id=local_connection(new_uow, admin)
    )
    training = add_qas(new_uow, model_id)
    add_qas(new_uow, model_id, VALIDATION, qa_type=QAType.VALIDATION)
    # v1 has a wrong answer on returns; v2 the corrected one.
    edit_answer(new_uow, training[0], "Relays cannot be returned.")
    _compile(new_uow, trainer, model_id)
    edit_answer(new_uow, training[0], TOPICS[0][2])
    _compile(new_uow, trainer, model_id)
    return model_id


def _compile(new_uow: Uows, trainer: Actor, model_id: int) -> None:
    requested = compilation.request_compilation(new_uow(), trainer, model_id)
    drain(new_uow)
    done = compilation.get_compilation(new_uow(), trainer, requested.id)
    assert done.status == CompilationStatus.SUCCEEDED, done.error


def _judging(score: int) -> Any:
    def answer(model: str, messages: list[Any]) -> str:
        case = json.loads(messages[-1]["content"])
        assert {"question", "expected_answer", "answer"} <= set(case)
        return json.dumps({"score": score, "reason": "states the same facts"})

    return answer


def test_a_version_and_the_base_model_are_evaluated_question_by_question(
    new_uow: Uows, trainer: Actor, model: int
) -> None:
    v2 = evaluation.evaluate(new_uow(), trainer, model, 2)
    assert v2.error is None and v2.questions == v2.answered == len(VALIDATION)
    assert v2.mean_f1 is not None and v2.mean_f1 > 0.5 and v2.judged == 0
    base = evaluation.evaluate(new_uow(), trainer, model, evaluation.BASE)
    assert base.label.startswith("base ") and base.mean_f1 is not None
    assert base.mean_f1 < v2.mean_f1  # the untrained model knows none of it
    rows = evaluation.evaluation_results(new_uow(), trainer, v2.id)
    assert len(rows) == len(VALIDATION)
    assert list(rows["f1"]) == sorted(rows["f1"])  # worst first
    assert [e.id for e in evaluation.list_evaluations(new_uow(), trainer, model)] == [
        base.id,
        v2.id,
    ]
    # An evaluation changes nothing else: the active version and its score stay.
    assert catalog.get_model(new_uow(), trainer, model).active_version_number == 2


def test_side_by_side_puts_the_corrected_question_among_the_changes_first(
    new_uow: Uows, trainer: Actor, model: int
) -> None:
    for version in (1, 2):
        evaluation.evaluate(new_uow(), trainer, model, version)
    table = evaluation.compare_evaluations(new_uow(), trainer, model, 1, 2)
    assert len(table) == len(VALIDATION)
    returns = table[table["question"] == VALIDATION[0][0]].iloc[0]
    assert returns["f1 change"] > 0.5
    assert "cannot be returned" in returns["answer 1"] and "30 days" in returns["answer 2"]
    # Regressions first, then no change, then improvements.
    assert list(table["f1 change"]) == sorted(table["f1 change"])
    with pytest.raises(Conflict, match="Evaluate base first"):
        evaluation.compare_evaluations(new_uow(), trainer, model, evaluation.BASE, 2)


def test_a_judge_grades_each_answer_and_its_tokens_are_counted(
    new_uow: Uows, admin: Actor, trainer: Actor, model: int, judge_server: FakeOpenAI
) -> None:
    judge = openai_connection(new_uow, admin, judge_server.base_url, name="Judge")
    judge_server.chat_answer = _judging(4)
    run = evaluation.evaluate(new_uow(), trainer, model, 2, judge_connection_id=judge)
    assert run.judged == len(VALIDATION) and run.mean_judge == 4 and run.judge_tokens > 0
    rows = evaluation.evaluation_results(new_uow(), trainer, run.id)
    assert set(rows["judge_reason"]) == {"states the same facts"}


def test_the_judge_s_cost_counts_against_its_connection_s_budget(
    new_uow: Uows, admin: Actor, trainer: Actor, model: int, judge_server: FakeOpenAI
) -> None:
    judge = openai_connection(
        new_uow, admin, judge_server.base_url, name="Judge", price="1000", budget="0.01"
    )
    judge_server.chat_answer = _judging(5)
    run = evaluation.evaluate(new_uow(), trainer, model, 2, judge_connection_id=judge)
    assert run.judge_tokens > 0
    assert run.judge_cost == cost_of(run.judge_tokens, Decimal("1000")) > Decimal("0.01")
    # The dashboard's cost per month and the budget both count it.
    costs = history.cost_per_month(new_uow(), admin)
    judged = costs[costs["connection"] == "Judge"]
    assert list(judged["cost"]) == [float(run.judge_cost or 0)]
    assert list(judged["budget"]) == [0.01]
    assert catalog.notify_budgets_reached(new_uow()) == 1
    # A compilation on the judge's connection sees the judge's spending this month.
    other = make_model(new_uow, admin, "Judged arbiter", connection_id=judge)
    add_qas(new_uow, other)
    spent = compilation.preflight(new_uow(), trainer, other).budget.spent_this_month
    assert spent == run.judge_cost
    # Without a judge there is no judge cost.
    assert evaluation.evaluate(new_uow(), trainer, model, 2).judge_cost is None


@pytest.mark.parametrize(
    "trouble",
    ["nonsense", "timeout"],
)
def test_a_judge_that_answers_nonsense_or_times_out_leaves_questions_unjudged(
    new_uow: Uows,
    admin: Actor,
    trainer: Actor,
    model: int,
    judge_server: FakeOpenAI,
    trouble: str,
) -> None:
    judge = openai_connection(new_uow, admin, judge_server.base_url, name="Judge")
    if trouble == "nonsense":
        judge_server.chat_answer = lambda model, messages: "I would say it is rather good!"
    else:
        judge_server.add_fault("POST", r"/chat/completions", Fault.timeout(3), times=-1)
    run = evaluation.evaluate(new_uow(), trainer, model, 2, judge_connection_id=judge)
    assert run.error is None and run.answered == len(VALIDATION) and run.judged == 0
    rows = evaluation.evaluation_results(new_uow(), trainer, run.id)
    assert all(str(e).startswith("not judged: ") for e in rows["error"])
    assert rows["f1"].notna().all()  # the answers are scored all the same
    # A reply that could not be read was paid for all the same; a timeout used nothing.
    assert (run.judge_tokens > 0) == (trouble == "nonsense")


def test_a_version_that_does_not_exist_is_a_clear_message(
    new_uow: Uows, trainer: Actor, model: int
) -> None:
    with pytest.raises(Conflict, match="has no version v9"):
        evaluation.evaluate(new_uow(), trainer, model, 9)
    assert evaluation.list_evaluations(new_uow(), trainer, model) == []
