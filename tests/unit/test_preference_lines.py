"""Preference (DPO) lines as OpenAI's preference fine-tuning reads them: written sorted and
stable, and checked line by line with the line named."""

from __future__ import annotations

import io
import json

from core.training.preference import (
    MIN_PAIRS,
    PreferencePair,
    looks_like_preference_file,
    preference_jsonl,
    validate_preference_stream,
)


def _pairs(n: int) -> list[PreferencePair]:
    return [
        PreferencePair(
            [("system", "Be brief."), ("user", f"How long does delivery {i} take?")],
            f"{i} working days.",
            "I do not know.",
        )
        for i in range(n)
    ]


def test_the_pairs_are_written_sorted_and_validate() -> None:
    content = preference_jsonl(_pairs(MIN_PAIRS))
    assert content == preference_jsonl(list(reversed(_pairs(MIN_PAIRS))))
    stream = io.BytesIO(content)
    assert looks_like_preference_file(stream) and stream.tell() == 0
    report = validate_preference_stream(stream, token_limit=65_536)
    assert report.errors == 0 and report.example_count == MIN_PAIRS


def test_each_broken_line_is_named() -> None:
    good = preference_jsonl(_pairs(MIN_PAIRS)).splitlines()
    same = json.loads(good[0])
    same["non_preferred_output"] = same["preferred_output"]
    assistant_last = json.loads(good[1])
    assistant_last["input"]["messages"].append({"role": "assistant", "content": "hm"})
    two = json.loads(good[2])
    two["preferred_output"] *= 2
    edited = [json.dumps(same), json.dumps(assistant_last), json.dumps(two), "{broken"]
    content = "\n".join([*edited, *(x.decode() for x in good[3:])]).encode()
    report = validate_preference_stream(io.BytesIO(content), token_limit=65_536)
    found = {(f.line, f.message) for f in report.findings}
    assert (1, "the preferred and the non-preferred answers are the same") in found
    assert (2, "the prompt must end with the user's message") in found
    assert (3, "preferred_output must be one assistant message with text") in found
    assert any(line == 4 for line, _ in found)


def test_a_chat_file_is_not_taken_for_a_preference_file() -> None:
    chat = b'{"messages": [{"role": "user", "content": "preferred_output"}]}\n'
    assert not looks_like_preference_file(io.BytesIO(chat))
    assert not looks_like_preference_file(io.BytesIO(b""))


def test_the_dpo_loss_is_log_2_at_no_margin_and_falls_as_the_margin_grows() -> None:
    import math

    import torch

    from core.training.lora.dpo import dpo_loss

    ref_w, ref_l = torch.tensor([-10.0, -12.0]), torch.tensor([-11.0, -9.0])
    loss, margin = dpo_loss(ref_w, ref_l, ref_w, ref_l, beta=0.1)
    assert margin.tolist() == [0.0, 0.0] and math.isclose(float(loss), math.log(2), rel_tol=1e-6)
    # The policy raises the preferred answer by 5 nats and lowers the other by 5: margin 10.
    loss, margin = dpo_loss(ref_w + 5, ref_l - 5, ref_w, ref_l, beta=0.1)
    assert margin.tolist() == [10.0, 10.0]
    assert math.isclose(float(loss), -math.log(1 / (1 + math.exp(-1.0))), rel_tol=1e-6)


def test_providers_that_cannot_train_on_pairs_say_why() -> None:
    from core.domain import ProviderType
    from core.providers.registry import preference_refusal

    assert preference_refusal(ProviderType.OPENAI) is None
    assert preference_refusal(ProviderType.OPEN_WEIGHTS) is None
    assert "learns nothing" in (preference_refusal(ProviderType.LOCAL) or "")
    assert "2024-10-21" in (preference_refusal(ProviderType.AZURE_OPENAI) or "")
