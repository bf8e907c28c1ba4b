"""What a validation found: findings that name their line and records, and the report of
a whole training set (counts, tokens, findings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.training.builder import SourceRef

# Each kind of finding is listed this many times at most; the count is always complete.
FINDINGS_PER_CODE = 200


@dataclass(frozen=True)
class Finding:
    severity: str  # "error" or "warning"
    code: str
    message: str
    line: int | None = None  # the example's line in the training file
    sources: tuple[SourceRef, ...] = ()

    @property
    def where(self) -> str:
        if self.sources and self.sources[0].kind != "line":
            named = ", ".join(s.describe() for s in self.sources[:3])
            more = f" and {len(self.sources) - 3} more" if len(self.sources) > 3 else ""
            return named + more + (f" (line {self.line})" if self.line else "")
        return f"line {self.line}" if self.line else "training set"

    def __str__(self) -> str:
        return f"{self.severity}: {self.where}: {self.message}"

    def as_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "line": self.line,
            "sources": [s.as_json() for s in self.sources],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        return cls(
            data["severity"],
            data["code"],
            data["message"],
            data.get("line"),
            tuple(SourceRef.from_json(s) for s in data.get("sources", [])),
        )


@dataclass
class Report:
    example_count: int
    example_tokens: list[int]
    token_limit: int
    findings: list[Finding] = field(default_factory=list)
    counts: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def total_tokens(self) -> int:
        return sum(self.example_tokens)

    @property
    def errors(self) -> int:
        return sum(n for (severity, _), n in self.counts.items() if severity == "error")

    @property
    def warnings(self) -> int:
        return sum(n for (severity, _), n in self.counts.items() if severity == "warning")

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def add(self, finding: Finding) -> None:
        key = (finding.severity, finding.code)
        seen = self.counts.get(key, 0)
        self.counts[key] = seen + 1
        if seen < FINDINGS_PER_CODE:
            self.findings.append(finding)

    def summary(self) -> str:
        return (
            f"{self.example_count:,} examples, {self.total_tokens:,} tokens, "
            f"{plural(self.errors, 'error')}, {plural(self.warnings, 'warning')}"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "example_count": self.example_count,
            "total_tokens": self.total_tokens,
            "token_limit": self.token_limit,
            "errors": self.errors,
            "warnings": self.warnings,
            "counts": [[s, c, n] for (s, c), n in sorted(self.counts.items())],
            "findings": [f.as_json() for f in self.findings],
        }


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")
