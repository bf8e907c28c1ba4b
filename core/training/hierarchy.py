"""The model hierarchy: parents, children, and whose training data a model gets.

A model with ``inherit_parent_training`` gets the data of all its ancestors; one with
``aggregate_children_training`` gets the data of all its descendants. Pure functions over a
``{id: ModelNode}`` map, so they serve the builder, the previews and the Q&A grid alike.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ModelNode:
    id: int
    name: str
    parent_id: int | None
    inherit_parent_training: bool
    aggregate_children_training: bool


class Relation(enum.StrEnum):
    OWN = "own"
    INHERITED = "inherited"  # from an ancestor
    AGGREGATED = "aggregated"  # from a descendant


def ancestors(nodes: Mapping[int, ModelNode], model_id: int) -> list[int]:
    """Parent first, then grandparent, …; stops at a cycle rather than looping."""
    result: list[int] = []
    current = nodes[model_id].parent_id
    while current is not None and current not in result and current != model_id:
        result.append(current)
        current = nodes[current].parent_id if current in nodes else None
    return result


def children_map(nodes: Mapping[int, ModelNode]) -> dict[int | None, list[int]]:
    children: dict[int | None, list[int]] = {}
    for node in sorted(nodes.values(), key=lambda n: n.name.lower()):
        children.setdefault(node.parent_id, []).append(node.id)
    return children


def descendants(nodes: Mapping[int, ModelNode], model_id: int) -> list[int]:
    """Depth-first, children in name order."""
    children = children_map(nodes)
    result: list[int] = []
    stack = list(reversed(children.get(model_id, [])))
    while stack:
        current = stack.pop()
        if current in result or current == model_id:
            continue
        result.append(current)
        stack.extend(reversed(children.get(current, [])))
    return result


def would_create_cycle(
    nodes: Mapping[int, ModelNode], model_id: int, new_parent: int | None
) -> bool:
    if new_parent is None:
        return False
    if new_parent == model_id:
        return True
    return new_parent in descendants(nodes, model_id)


def training_sources(nodes: Mapping[int, ModelNode], model_id: int) -> list[tuple[int, Relation]]:
    """The models whose training data go into this model's set, own first."""
    node = nodes[model_id]
    sources: list[tuple[int, Relation]] = [(model_id, Relation.OWN)]
    if node.inherit_parent_training:
        sources += [(a, Relation.INHERITED) for a in ancestors(nodes, model_id)]
    if node.aggregate_children_training:
        sources += [(d, Relation.AGGREGATED) for d in descendants(nodes, model_id)]
    return sources


def tree_order(nodes: Mapping[int, ModelNode]) -> list[tuple[int, int]]:
    """(model id, depth) in display order: each parent followed by its subtree."""
    children = children_map(nodes)
    roots = [n for n in children.get(None, [])]
    # Orphans whose parent is missing are shown at the top level rather than lost.
    roots += [n.id for n in nodes.values() if n.parent_id is not None and n.parent_id not in nodes]
    order: list[tuple[int, int]] = []
    seen: set[int] = set()
    stack = [(r, 0) for r in reversed(roots)]
    while stack:
        current, depth = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        order.append((current, depth))
        stack.extend((c, depth + 1) for c in reversed(children.get(current, [])))
    return order
