"""The list-wise side of the checks: most messages of a training set (every Q&A example)
are plain, so they are tested all at once, and only a failing test looks for its culprits."""

from __future__ import annotations

import itertools
from array import array
from dataclasses import dataclass
from itertools import repeat
from typing import Any, cast

from core.training.bulk import bulk

# Messages of this shape (most of a training set: every Q&A example) need none of the
# detailed checks, which are then done for whole lists at once; the rest go message by
# message. A weight is allowed on assistant messages only.
PLAIN_ROLES = frozenset({"system", "user", "assistant"})


PLAIN_KEYS = frozenset({"role", "content", "weight"})


LEARNABLE = "assistant"


NOT_LEARNABLE = "assistant, weight 0"


@dataclass(frozen=True)
class Plan:
    """What a sequence of plain messages holds, by position: the learnable assistant
    messages, the (single user message, assistant message) pairs, and the error if the
    example teaches nothing."""

    learnable: tuple[int, ...]
    pairs: tuple[tuple[int, int], ...]
    error: tuple[str, str] | None


def plan_of(marks: tuple[str, ...]) -> Plan:
    learnable: list[int] = []
    pairs: list[tuple[int, int]] = []
    users = assistants = 0
    last_user: int | None = None
    for position, mark in enumerate(marks):
        if mark == "user":
            users += 1
            last_user = position
        elif mark != "system":
            assistants += 1
            if mark == LEARNABLE:
                learnable.append(position)
                if last_user is not None and users == 1:
                    pairs.append((last_user, position))
    error = None
    if assistants == 0:
        error = ("example_missing_assistant_message", "no assistant message")
    elif not learnable:
        error = (
            "no_learnable_message",
            "every assistant message has weight 0: the example teaches nothing",
        )
    return Plan(tuple(learnable), tuple(pairs), error)


PlainMessages = tuple[
    list[tuple[int, list[Any]]], list[dict[str, Any]], list[str], list[str], list[int]
]


def plain_messages(candidates: list[tuple[int, list[Any]]]) -> PlainMessages:
    """The examples (of those with a messages list) whose messages are all plain; their
    messages in one list, with their roles and contents; the indexes of the messages with a
    weight. Each test runs over all messages at once and only looks for the culprits when
    it fails."""
    while candidates:
        flat = [m for _, messages in candidates for m in messages]
        bad: set[int] = set()
        if set(map(type, flat)) != {dict}:
            bad = {j for j, m in enumerate(flat) if type(m) is not dict}
        else:
            roles = list(map(dict.get, flat, repeat("role")))
            contents = list(map(dict.get, flat, repeat("content")))
            if set(map(type, roles)) != {str}:
                bad = {j for j, r in enumerate(roles) if type(r) is not str}
            elif not PLAIN_ROLES.issuperset(roles):
                bad = {j for j, r in enumerate(roles) if r not in PLAIN_ROLES}
            elif set(map(type, contents)) != {str}:
                bad = {j for j, c in enumerate(contents) if type(c) is not str}
            elif not all(contents) or any(map(str.isspace, cast("list[str]", contents))):
                bad = {j for j, c in enumerate(contents) if not c or c.isspace()}
            else:
                # Role and content are there: a message with more keys has a weight or
                # another key.
                weighted = [j for j, size in enumerate(map(len, flat)) if size > 2]
                bad = {
                    j
                    for j in weighted
                    if not PLAIN_KEYS.issuperset(flat[j])
                    or roles[j] != "assistant"
                    or type(weight := flat[j]["weight"]) is not int
                    or weight not in (0, 1)
                }
                if not bad:
                    return (
                        candidates,
                        flat,
                        cast("list[str]", roles),
                        cast("list[str]", contents),
                        weighted,
                    )
        owner = [k for k, (_, messages) in enumerate(candidates) for _ in messages]
        dropped = {owner[j] for j in bad}
        candidates = [c for k, c in enumerate(candidates) if k not in dropped]
    return [], [], [], [], []


@bulk
def duplicate_groups(values: array[int]) -> list[list[int]]:
    """The positions of the values that occur more than once, grouped, in the order of
    their first occurrence."""
    order = sorted(range(len(values)), key=values.__getitem__)
    groups = [
        members
        for _, group in itertools.groupby(order, key=values.__getitem__)
        if len(members := list(group)) > 1
    ]
    groups.sort(key=lambda members: members[0])
    return groups
