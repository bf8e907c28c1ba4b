"""The demo company's data files load and read like a real company."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.demo import content
from core.training.pii import find_personal_data
from core.training.text import question_key


def test_demo_content_shape() -> None:
    every = [m for m in content.load().models if m.kind == "arbiter"]
    arbiters = [m for m in every if m.connection == "local"]
    master, *departments = arbiters
    assert master.parent is None and master.aggregate_children_training
    assert len(departments) >= 2 and all(
        d.parent == master.name and d.inherit_parent_training for d in departments
    )
    for model in arbiters:
        assert len(model.qas) >= 50, model.name
        assert len({qa.section for qa in model.qas}) >= 3, model.name
        assert 3 <= model.system_message.count(".") <= 8
        assert any(qa.qa_type == "validation" for qa in model.qas)
        assert model.conversations
        for conv in model.conversations:
            assert any(t.role == "assistant" and t.weight == 1 for t in conv.turns), conv.title
    # The planted clean-up findings exist: a conflict with the master and personal data.
    support = next(m for m in departments if "Support" in m.name)
    master_keys = {question_key(q.question): q.answer for q in master.qas}
    assert any(
        question_key(q.question) in master_keys
        and master_keys[question_key(q.question)] != q.answer
        for q in support.qas
    )
    assert any(find_personal_data(q.answer) for q in support.qas)
    # One small arbiter to fine-tune on the CPU: a dozen facts of its own, no hierarchy.
    [tuned] = [m for m in every if m.connection == "fine-tune"]
    assert tuned.parent is None and 10 <= len(tuned.qas) <= 20
    assert tuned.n_epochs and tuned.batch_size == len(tuned.qas)


def test_a_broken_data_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "company.toml").write_text(
        'company = "X"\nchat_group_title = "G"\nmodels = ["models/a.toml"]\n', encoding="utf-8"
    )
    (tmp_path / "models" / "a.toml").write_text(
        'name = "A"\nnotes = ""\nsystem_message = "S."\ninherit_parent_training = false\n'
        'aggregate_children_training = false\n\n[[qas]]\nsection = "s"\nquestion = "q"\n'
        'answr = "typo"\n',
        encoding="utf-8",
    )
    (tmp_path / "transcripts.jsonl").write_text("", encoding="utf-8")
    monkeypatch.setattr(content, "DATA", tmp_path)
    content.load.cache_clear()
    try:
        with pytest.raises(content.DemoDataError, match=r"models/a\.toml, Q&A 1"):
            content.load()
    finally:
        content.load.cache_clear()
