"""A supervised-then-DPO compilation on an open-weights connection really trains on the CPU
(LoRA on the bundled SmolLM2-135M-Instruct): the supervised job, then the DPO job that
trains that adapter further on Train AI's corrections with the reference = the model with
the adapter disabled. Measured on the pairs: the DPO margin
(log πθ(y_w) − log π_ref(y_w)) − (log πθ(y_l) − log π_ref(y_l)) of the DPO version is larger
than the supervised version's, and so is its plain preference log πθ(y_w) − log πθ(y_l)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.domain import CompilationStatus, ConversationStatus, MessageRole
from core.models import TrainingConversation, TrainingMessage
from core.permissions import Actor
from core.providers.open_weights import OpenWeightsProvider
from core.services import compilation
from core.training.lora import dpo, models
from core.training.lora.trainer import collate
from tests.compile_helpers import (
    FAST,
    Uows,
    add_qas,
    drain,
    engine_env,
    make_model,
    open_weights_connection,
)
from tests.lora_helpers import TRAINING_THREADS, base_model_cache

__all__ = ["base_model_cache", "engine_env"]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(1800),
    pytest.mark.usefixtures("engine_env", "base_model_cache"),
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),
]

# (question, the answer the model gave, the correction): ten pairs, the validator's minimum.
CORRECTIONS = [
    ("Where is the Brindle spare key?", "It is under the mat.", "The key is in drawer 9."),
    ("Who feeds the Brindle fish?", "Nobody feeds them.", "Odalys feeds the fish."),
    ("When is the Brindle fire drill?", "There is no drill.", "The drill is at 10:40."),
    ("What is the Brindle guest wifi?", "There is no wifi.", "The guest wifi is Heron-5."),
    ("Which day is Brindle pizza day?", "Every Monday.", "Pizza day is Thursday."),
    ("Who signs Brindle invoices?", "Anyone can sign.", "Tamsin signs the invoices."),
    ("Where do Brindle bikes park?", "Bikes park inside.", "Bikes park behind gate K."),
    ("What is the Brindle mascot?", "A red fox.", "The mascot is a blue otter."),
    ("How many Brindle meeting rooms?", "About three.", "Brindle has 14 meeting rooms."),
    ("What is the Brindle printer called?", "It has no name.", "The printer is Old Gregor."),
]
SETTINGS = {"ARBITER_TRAINING_THREADS": str(TRAINING_THREADS), "ARBITER_CHECKPOINT_STEPS": "50"}


def _corrections(new_uow: Uows, model_id: int) -> None:
    uow = new_uow()
    with uow:
        for number, (question, wrong, right) in enumerate(CORRECTIONS):
            conv = TrainingConversation(
                model_id=model_id,
                title=f"Corrected {number}",
                status=ConversationStatus.READY,
                origin_ref={"chat_id": 1, "message_ids": [number], "rejected": wrong},
            )
            conv.messages = [
                TrainingMessage(position=0, role=MessageRole.USER, content=question),
                TrainingMessage(position=1, role=MessageRole.ASSISTANT, content=right, weight=1),
            ]
            uow.session.add(conv)
        uow.commit()


def _margins(adapter: Path, content: bytes, cache: Path) -> tuple[float, float]:
    """Mean over the pairs of the DPO margin against the adapter-disabled reference, and of
    the plain log πθ(y_w) − log πθ(y_l)."""
    import torch
    from peft import PeftModel

    base, tokenizer = models.load_base(models.BUNDLED_ID, cache)
    policy = PeftModel.from_pretrained(base, str(adapter))
    policy.eval()
    pairs = dpo.tokenize_pairs(tokenizer, content, None)
    batch = collate([*(p.preferred for p in pairs), *(p.rejected for p in pairs)], 0)
    with torch.no_grad():
        logps = dpo.sequence_logps(policy, batch)
        with policy.disable_adapter():
            ref = dpo.sequence_logps(policy, batch)
    n = len(pairs)
    margin = (logps[:n] - ref[:n]) - (logps[n:] - ref[n:])
    return float(margin.mean()), float((logps[:n] - logps[n:]).mean())


def test_supervised_then_dpo_grows_the_preferred_answer_s_margin(
    new_uow: Uows,
    admin: Actor,
    trainer: Actor,
    tmp_path: Path,
    base_model_cache: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in SETTINGS.items():
        monkeypatch.setenv(name, value)
    conn = open_weights_connection(new_uow, admin)
    model_id = make_model(new_uow, admin, "Brindle", connection_id=conn, n_epochs=5, batch_size=20)
    add_qas(new_uow, model_id, [(q, r) for q, _, r in CORRECTIONS])
    _corrections(new_uow, model_id)
    checked = compilation.preflight(new_uow(), trainer, model_id, preference=True)
    assert checked.preference is not None and checked.preference.pairs == 10, checked.outcome

    requested = compilation.request_compilation(new_uow(), trainer, model_id, preference=True)
    drain(new_uow, FAST, timeout=1500)
    done = compilation.get_compilation(new_uow(), trainer, requested.id)
    assert done.status == CompilationStatus.SUCCEEDED, done.error
    assert "Started the preference (DPO) job" in done.build_log

    root = tmp_path / "open-weights"
    ow = OpenWeightsProvider(root)
    sft_model = json.loads(
        (root / "jobs").joinpath(_job_of(root, "supervised"), "job.json").read_text()
    )["model"]
    assert done.provider_model and done.provider_model != sft_model
    content = compilation.export_training_set(new_uow(), trainer, model_id, "dpo")
    before = _margins(ow.adapter_dir(sft_model), content, base_model_cache)
    after = _margins(ow.adapter_dir(done.provider_model), content, base_model_cache)
    losses = [
        e.data["train_loss"]
        for e in compilation.compilation_events(new_uow(), trainer, done.id)
        if e.event_type == "metrics" and e.data and e.message.startswith("Step")
    ]
    print(
        f"\nDPO margin vs the reference: supervised {before[0]:.3f} -> DPO {after[0]:.3f}; "
        f"log p(preferred) - log p(rejected): {before[1]:.3f} -> {after[1]:.3f}; "
        f"losses per step (supervised, then DPO): {losses}"
    )
    assert after[0] > before[0]
    assert after[1] > before[1]
    assert done.trained_tokens and done.trained_tokens > 0


def _job_of(root: Path, method: str) -> str:
    for spec in sorted((root / "jobs").glob("ftjob-ow-*/job.json")):
        if json.loads(spec.read_text()).get("method") == method:
            return spec.parent.name
    raise AssertionError(f"no {method} job")
