"""A validation set drawn from a model's Q&As: seeded, a share of each section, and with
the same or nearly the same question always on one side (else the validation score would
measure memory of its twin in the training set)."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence

from core.training.similar import similar_groups


def split_validation(
    sections: Sequence[str], questions: Sequence[str], share: float, seed: int
) -> list[bool]:
    """For each Q&A, whether it goes to validation. Groups of near-duplicate questions move
    as one, counted in the section of their first Q&A; each section's groups are shuffled
    with the seed and taken until the section's share is reached (a section of two or more
    groups gives at least one, and keeps at least one for training)."""
    if len(sections) != len(questions):
        raise ValueError("one section per question")
    groups = similar_groups(questions)
    grouped = {i for group in groups for i in group}
    units = [*groups, *([i] for i in range(len(questions)) if i not in grouped)]
    by_section: dict[str, list[list[int]]] = defaultdict(list)
    for unit in sorted(units, key=lambda u: u[0]):
        by_section[sections[unit[0]]].append(unit)
    chosen = [False] * len(questions)
    for section in sorted(by_section):
        units_here = by_section[section]
        size = sum(len(u) for u in units_here)
        target = round(share * size)
        if len(units_here) >= 2:
            target = min(max(target, 1), size - min(len(u) for u in units_here))
        # The seed and the section: adding a section leaves the others' draw as it was.
        order = list(units_here)
        random.Random(f"{seed}:{section}").shuffle(order)
        taken = 0
        for unit in order:
            if taken >= target:
                break
            if taken + len(unit) - target > target - taken:
                continue  # overshoots more than it helps: try a smaller group
            for i in unit:
                chosen[i] = True
            taken += len(unit)
    return chosen
