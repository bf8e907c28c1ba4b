"""An LLM as judge of an answer against the expected one: the rubric asked of the judge, and
reading its verdict. A verdict that cannot be read is no verdict (the question stays
unjudged), never a guess."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

RUBRIC = (
    "You grade an assistant's answer against the expected answer to a question. Score 1-5: "
    "5 = states the same facts as the expected answer and nothing that contradicts it; "
    "4 = the same facts with minor omissions; 3 = partly right; 2 = mostly wrong or missing "
    "the key fact; 1 = wrong or contradicting the expected answer. Wording does not matter, "
    'facts do. Reply with JSON only: {"score": <1-5>, "reason": "<one line>"}.'
)
REASON_MAX = 300
_SCORE_LINE = re.compile(r"score\W{0,3}([1-5])\b", re.IGNORECASE)


class UnreadableVerdict(ValueError):
    """When the judge's reply holds no score from 1 to 5."""


@dataclass(frozen=True)
class Verdict:
    score: int
    reason: str


def judge_messages(question: str, expected: str, answer: str) -> list[tuple[str, str]]:
    """(role, content) pairs for any chat provider; the texts are quoted as JSON so that an
    answer cannot pose as instructions to the judge."""
    case = json.dumps(
        {"question": question, "expected_answer": expected, "answer": answer}, ensure_ascii=False
    )
    return [("system", RUBRIC), ("user", case)]


def read_verdict(reply: str) -> Verdict:
    text = reply.strip()
    start, end = text.find("{"), text.rfind("}")
    if start != -1 and end > start:
        try:
            found = json.loads(text[start : end + 1])
        except (ValueError, RecursionError):
            found = None
        if isinstance(found, dict):
            score = found.get("score")
            if _is_grade(score):
                return Verdict(int(score), _reason(found.get("reason")))  # type: ignore[arg-type]
    matched = _SCORE_LINE.search(text)
    if matched:
        return Verdict(int(matched.group(1)), _reason(text))
    raise UnreadableVerdict(f"the judge's reply holds no score from 1 to 5: {text[:120]!r}")


def _reason(value: object) -> str:
    line = " ".join(str(value or "").split())
    return line[:REASON_MAX]


def _is_grade(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return float(value).is_integer() and 1 <= value <= 5
