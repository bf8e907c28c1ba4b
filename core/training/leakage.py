"""The leakage check of a pre-flight: a validation Q&A that is (nearly) a question the
model trains on measures memory, not understanding, so its score says little."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from core.training.builder import Example, QARecord, SourceRef
from core.training.findings import Finding
from core.training.similar import similar_to


def _user_questions(examples: Sequence[Example]) -> tuple[list[str], list[Example]]:
    questions: list[str] = []
    owners: list[Example] = []
    for example in examples:
        messages = example.data.get("messages") if isinstance(example.data, dict) else None
        for message in messages if isinstance(messages, list) else ():
            if not isinstance(message, dict) or message.get("role") != "user":
                continue
            content = message.get("content")
            if isinstance(content, str) and content:
                questions.append(content)
                owners.append(example)
    return questions, owners


def leakage_findings(
    examples: Sequence[Example], validation: Sequence[QARecord], names: Mapping[int, str]
) -> list[Finding]:
    """A warning for each validation Q&A whose question a training example asks too, the
    same or nearly (``core.training.similar``)."""
    if not validation:
        return []
    questions, owners = _user_questions(examples)
    found = similar_to([v.question for v in validation], questions)
    findings = []
    for index, matches in sorted(found.items()):
        qa = validation[index]
        example = owners[matches[0]]
        more = f" and {len(matches) - 1} more" if len(matches) > 1 else ""
        findings.append(
            Finding(
                "warning",
                "validation_leak",
                f"validation Q&A #{qa.id} ({qa.question[:80]!r}) is the same or nearly the same "
                f"question as training line {example.line}{more}: its score will not show "
                "whether the model generalises",
                example.line,
                (SourceRef("qa", qa.id, qa.model_id, names.get(qa.model_id, "")), *example.sources),
            )
        )
    return findings
