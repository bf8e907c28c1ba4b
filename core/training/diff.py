"""What changed between two training sets, record by record: a record (Q&A or
conversation) whose example is new is *added*, one whose example is gone is *removed*, and
one whose example has other content (its text, the system message) is *changed*."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.training.builder import SourceRef

# The records named per kind of change; the counts are always complete.
LISTED = 200


@dataclass(frozen=True)
class TrainingSetDiff:
    added: int
    removed: int
    changed: int
    unchanged: int
    added_records: list[SourceRef] = field(default_factory=list)
    removed_records: list[SourceRef] = field(default_factory=list)
    changed_records: list[SourceRef] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def describe(self) -> str:
        if not self.any:
            return f"no change ({self.unchanged:,} records as before)"
        return (
            f"{self.added:,} added, {self.removed:,} removed, {self.changed:,} changed, "
            f"{self.unchanged:,} unchanged"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "removed": self.removed,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "added_records": [r.as_json() for r in self.added_records],
            "removed_records": [r.as_json() for r in self.removed_records],
            "changed_records": [r.as_json() for r in self.changed_records],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainingSetDiff:
        def refs(key: str) -> list[SourceRef]:
            return [SourceRef.from_json(r) for r in data.get(key, [])]

        return cls(
            data["added"],
            data["removed"],
            data["changed"],
            data["unchanged"],
            refs("added_records"),
            refs("removed_records"),
            refs("changed_records"),
        )


def _by_record(manifest: Iterable[Sequence[Any]]) -> dict[tuple[Any, Any], tuple[Any, Any]]:
    """Per record (kind and id): its line's digest and its source as stored. A manifest as
    read from JSON or ``(digest, sources)`` pairs of a training set's examples alike (a
    ``SourceRef`` is the same sequence as its JSON form): no reference is made per record,
    only for the few that are listed."""
    return {(raw[0], raw[1]): (digest, raw) for digest, sources in manifest for raw in sources}


def diff_manifests(old: Iterable[Sequence[Any]], new: Iterable[Sequence[Any]]) -> TrainingSetDiff:
    before, after = _by_record(old), _by_record(new)
    added = [raw for key, (_, raw) in after.items() if key not in before]
    removed = [raw for key, (_, raw) in before.items() if key not in after]
    changed = [
        raw for key, (digest, raw) in after.items() if key in before and before[key][0] != digest
    ]
    return TrainingSetDiff(
        added=len(added),
        removed=len(removed),
        changed=len(changed),
        unchanged=len(after) - len(added) - len(changed),
        added_records=[SourceRef.from_json(raw) for raw in added[:LISTED]],
        removed_records=[SourceRef.from_json(raw) for raw in removed[:LISTED]],
        changed_records=[SourceRef.from_json(raw) for raw in changed[:LISTED]],
    )
