"""The command line with an open-weights connection: create-connection (with a LoRA rank),
create-model, and ask (the base model answers a model that has no version yet); errors are
one line and a non-zero exit."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_cli import run
from tests.lora_helpers import base_model_cache

__all__ = ["base_model_cache"]
pytestmark = [
    pytest.mark.slow,
    # Real training on a shared CPU: minutes when the machine is busy.
    pytest.mark.timeout(1800),
]


def test_create_a_fine_tune_model_and_ask_it(tmp_path: Path, base_model_cache: Path) -> None:
    env = {"ARBITER_MAX_ANSWER_TOKENS": "12", "ARBITER_BASE_MODEL_CACHE": str(base_model_cache)}
    bad = run(
        ["create-connection", "Tuned", "--type", "open_weights", "--lora-rank", "999"], tmp_path
    )
    assert bad.returncode == 1 and "LoRA rank" in bad.stderr
    made = run(
        [
            "create-connection",
            "Local fine-tune",
            "--type",
            "open_weights",
            "--base-model",
            "SmolLM2-135M-Instruct",
            "--lora-rank",
            "8",
        ],
        tmp_path,
    )
    assert made.returncode == 0, made.stderr
    model = run(
        ["create-model", "Quill", "--connection", "local fine-tune", "--system-message", "Hi."],
        tmp_path,
    )
    assert model.returncode == 0, model.stderr
    assert "Created arbiter Quill on Local fine-tune." in model.stdout
    asked = run(["ask", "Quill", "What is the capital of France?"], tmp_path, **env)
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.strip()
    for args, message in (
        (["ask", "Quill", "Hello?", "--version", "2"], "error: Quill has no version v2."),
        (["ask", "Nobody", "Hello?"], "error: There is no model named 'Nobody'."),
    ):
        failed = run(args, tmp_path, **env)
        assert failed.returncode == 1
        assert failed.stderr.strip().splitlines() == [message]
