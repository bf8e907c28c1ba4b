"""The parts of open-weights training that need no model: hyperparameters ("auto"), the fixed
data order (the same after a resume), atomic folders (a full disk leaves nothing behind and
says so), base-model paths that are not causal LMs, and the job lock."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from core.training.lora import jobs, models, trainer
from core.training.lora.errors import AdapterSaveFailed, BaseModelUnavailable


def test_auto_gives_a_small_set_enough_steps_and_a_large_one_three_epochs() -> None:
    small = trainer.plan(6)
    assert (small.batch_size, small.epochs, small.total_steps) == (6, 40, 40)
    twelve = trainer.plan(12)
    assert (twelve.batch_size, twelve.steps_per_epoch, twelve.total_steps) == (8, 2, 40)
    large = trainer.plan(5_000)
    assert (large.epochs, large.batch_size) == (3, 8)
    assert trainer.plan(200, n_epochs=2, batch_size=500).batch_size == 200
    tuned = trainer.plan(10, n_epochs=4, batch_size=5, learning_rate_multiplier=0.5)
    assert (tuned.epochs, tuned.total_steps) == (4, 8)
    assert tuned.learning_rate == pytest.approx(trainer.BASE_LEARNING_RATE / 2)


def test_the_data_order_is_fixed_by_the_seed() -> None:
    the_plan = trainer.plan(7, n_epochs=3, batch_size=3)
    first = trainer.batches(7, the_plan, seed=42)
    assert first == trainer.batches(7, the_plan, seed=42)
    assert first != trainer.batches(7, the_plan, seed=43)
    assert len(first) == the_plan.total_steps == 9
    for epoch in range(3):
        assert sorted(i for step in first[epoch * 3 : epoch * 3 + 3] for i in step) == list(
            range(7)
        )


def test_a_folder_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "adapters" / "m"

    def write(partial: Path) -> None:
        (partial / "a.safetensors").write_bytes(b"x" * 10)
        assert not target.exists()  # nothing shows until the rename

    trainer.write_folder(target, write, what="the adapter")
    assert [p.name for p in target.iterdir()] == ["a.safetensors"]

    def rewrite(partial: Path) -> None:
        (partial / "b").write_text("new")

    trainer.write_folder(target, rewrite, what="the adapter")
    assert [p.name for p in target.iterdir()] == ["b"]


def test_a_full_disk_is_a_clear_error_and_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "adapters" / "m"
    source = tmp_path / "weights"
    source.write_bytes(b"w" * 1_000_000)

    def write(_: Path) -> None:
        shutil.copyfile(source, "/dev/full")  # the kernel answers ENOSPC, as a full disk does

    with pytest.raises(AdapterSaveFailed, match=r"Could not save the adapter .*: the disk is full"):
        trainer.write_folder(target, write, what="the adapter")
    assert sorted(p.name for p in target.parent.iterdir()) == []


def test_only_complete_checkpoints_are_resumed_from(tmp_path: Path) -> None:
    (tmp_path / "step-000004").mkdir()
    (tmp_path / "step-000004" / "state.json").write_text(json.dumps({"step": 4}))
    (tmp_path / "step-000008").mkdir()  # no state.json: an interrupted save
    (tmp_path / ".step-000012.partial").mkdir()
    assert trainer.last_checkpoint(tmp_path) == tmp_path / "step-000004"
    assert trainer.last_checkpoint(tmp_path / "none") is None


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (None, "does not exist"),
        ("", "no readable config.json"),
        (json.dumps({"architectures": ["BertForMaskedLM"]}), "not a causal language model"),
    ],
)
def test_a_base_model_path_must_be_a_causal_lm(
    tmp_path: Path, config: str | None, message: str
) -> None:
    folder = tmp_path / "model"
    if config is not None:
        folder.mkdir()
        if config:
            (folder / "config.json").write_text(config)
    with pytest.raises(BaseModelUnavailable, match=message) as raised:
        models.check_base_model(str(folder))
    assert str(folder) in raised.value.message


def test_a_causal_lm_directory_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(
        json.dumps({"architectures": ["LlamaForCausalLM"], "max_position_embeddings": 4096})
    )
    assert models.check_base_model(str(tmp_path)) == tmp_path
    assert models.context_tokens(str(tmp_path)) == 4096


def test_the_job_lock_is_held_by_one_holder(tmp_path: Path) -> None:
    held = jobs.take_lock(tmp_path)
    assert held is not None
    assert jobs.take_lock(tmp_path) is None
    assert jobs.training_alive(tmp_path)
    held.close()
    assert not jobs.training_alive(tmp_path)


def test_the_training_time_estimate_uses_the_measured_speed(tmp_path: Path) -> None:
    from core.providers.open_weights import LOAD_SECONDS, OpenWeightsProvider

    provider = OpenWeightsProvider(tmp_path)
    assert provider.estimate_seconds(10_000, 3) is None  # nothing measured yet
    (tmp_path / "speed.json").write_text(json.dumps({"tokens_per_second": 500.0}))
    assert provider.estimate_seconds(10_000, 3) == pytest.approx(LOAD_SECONDS + 60)
