"""Near-duplicate questions and contradicting answers, found without comparing every pair.

One implementation for the clean-up view, the import preview, the validation split and the
pre-flight leakage check. Questions are compared in three steps:

1. ``question_key`` folds case, spacing and punctuation: equal keys are the same question
   (what the duplicate checks always found).
2. Blocking: each question's *content words* (its words without the filler words of a
   question, "how", "should", "do", "we"...) give a few block keys: the whole set, and the
   set with one word left out (so one changed or misspelt word still meets). Numbers and
   negations are never left out and must be equal: "order 123" is not "order 124", and
   "can we" is not "can't we". Only questions sharing a block are compared.
3. In each block ``rapidfuzz.process.cdist`` scores every pair of the block's distinct
   keys at once (in C, on all cores); pairs at or above ``threshold`` whose words are at
   most one word apart (``one_word_apart``) are near-duplicates.

Groups are the connected pairs. Answers of one group that score below ``ANSWER_SAME`` say
different things: a contradiction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from rapidfuzz import fuzz, process

from core.training.text import question_keys

# Score (0-100) from which two questions count as the same question asked differently.
QUESTION_THRESHOLD = 85.0
# Two words scoring this or more are one word misspelt.
TYPO = 75.0
# Answers scoring this or more say the same thing (typos, punctuation, a word more).
ANSWER_SAME = 90.0
# A block bigger than this is a set of words shared by so many questions that it says
# little about any two of them: it is not compared (its members meet in other blocks).
MAX_BLOCK = 1_000
# Questions with more content words than this are blocked by their rarest words only.
MAX_LEAVE_ONE_OUT = 12

# Words that make a sentence a question without saying what it is about. Negations and
# numbers are not here: they change the question.
FILLER = frozenset(
    """a an the is are was were be been being am do does did done doing have has had having
    how what when where which who whom whose why can could should would will shall may might
    must we you i me my our ours your yours us they them their it its this that these those
    of on in at to for from by with about as into onto over under and or if then so there
    here please tell know any some much many s re ll ve d m""".split()  # noqa: SIM905 (a word list reads better)
)
NEGATIONS = frozenset({"not", "no", "never", "t", "cannot", "without", "nor", "none", "nothing"})


@dataclass(frozen=True)
class Profile:
    """What the matcher keeps of one question."""

    key: str  # question_key
    content: str  # the content words, sorted, joined by spaces: what is scored
    anchor: frozenset[str]  # numbers and negations: must be equal
    words: frozenset[str]  # the content words that may be left out


def profile_of(key: str) -> Profile:
    words = key.split()
    # Keys hold letters, digits and spaces only: a word that is not all letters has a digit.
    anchor = frozenset(w for w in words if w in NEGATIONS or not w.isalpha())
    content = [w for w in words if w not in FILLER]
    free = frozenset(w for w in content if w not in anchor)
    # A question of filler words only ("What is it?") is scored on its whole key.
    text = " ".join(sorted(set(content))) if content else key
    return Profile(key, text, anchor, free)


def question_score(a: Profile, b: Profile) -> float:
    """0-100: how much two questions are the same question (one pair; the scan scores whole
    blocks at once with the same measure)."""
    if a.key == b.key:
        return 100.0
    if a.anchor != b.anchor or not one_word_apart(a.words, b.words):
        return 0.0
    return float(fuzz.ratio(a.content, b.content))


def one_word_apart(a: frozenset[str], b: frozenset[str]) -> bool:
    """The same words, or one word more, or one word misspelt: another word changes the
    question ("customers in France" is not "customers in Norway", however alike the rest)."""
    only_a, only_b = a - b, b - a
    if len(only_a) + len(only_b) <= 1:
        return True
    if len(only_a) == len(only_b) == 1:
        return fuzz.ratio(next(iter(only_a)), next(iter(only_b))) >= TYPO
    return False


def answers_differ(a: str, b: str) -> bool:
    """Two answers clearly say different things (not just other case, spacing or a typo)."""
    fa, fb = (" ".join(question_keys([x])[0].split()) or x.strip() for x in (a, b))
    return fa != fb and fuzz.ratio(fa, fb) < ANSWER_SAME


def _block_keys(p: Profile, rare: dict[str, int]) -> list[tuple[tuple[object, ...], int]]:
    """(block, role): role 0 is the question's whole set of words, role 1 its set with one
    word left out. A question one word longer meets a whole set through a role-1 key; a
    word changed (a typo, mostly after its first two letters) meets through a "changed"
    key holding the left-out word's first letters."""
    anchor = tuple(sorted(p.anchor))
    words = sorted(p.words)
    if len(words) > MAX_LEAVE_ONE_OUT:
        # Long questions: the four rarest words.
        words = sorted(sorted(words, key=lambda w: (rare.get(w, 0), w))[:4])
    keys: list[tuple[tuple[object, ...], int]] = [((anchor, tuple(words)), 0)]
    for i, word in enumerate(words if len(words) > 1 else ()):
        rest = tuple(words[:i] + words[i + 1 :])
        keys.append(((anchor, rest), 1))
        keys.append((("changed", anchor, rest, word[:2]), 0))
    return keys


def _scores(
    left: list[int], right: list[int], texts: list[str], threshold: float, *, same: bool
) -> Iterable[tuple[int, int]]:
    if len(left) * len(right) <= 4:
        # Most blocks: single calls are cheaper than a matrix.
        for r, a in enumerate(left):
            for b in right[r + 1 :] if same else right:
                if fuzz.ratio(texts[a], texts[b]) >= threshold:
                    yield min(a, b), max(a, b)
        return
    scores = process.cdist(
        [texts[i] for i in left],
        [texts[i] for i in right],
        scorer=fuzz.ratio,
        score_cutoff=threshold,
        dtype=np.float32,
        workers=-1,
    )
    rows, cols = np.nonzero(np.triu(scores, 1) if same else scores)
    for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
        a, b = left[r], right[c]
        yield min(a, b), max(a, b)


class _Groups:
    """Union-find over indexes."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _distinct(questions: Sequence[str]) -> tuple[list[str], dict[str, list[int]]]:
    keys = question_keys(questions)
    where: dict[str, list[int]] = defaultdict(list)
    for index, key in enumerate(keys):
        if key:
            where[key].append(index)
    return list(where), where


def similar_pairs(
    questions: Sequence[str], *, threshold: float = QUESTION_THRESHOLD
) -> set[tuple[int, int]]:
    """Every pair ``(i, j)``, ``i < j``, of indexes into ``questions`` that are the same or
    nearly the same question, found block by block."""
    distinct, where = _distinct(questions)
    pairs: set[tuple[int, int]] = set()
    for indexes in where.values():
        pairs.update(combinations(indexes, 2))
    profiles = [profile_of(k) for k in distinct]
    for a, b in _similar_pairs(profiles, threshold):
        for i in where[distinct[a]]:
            for j in where[distinct[b]]:
                pairs.add((min(i, j), max(i, j)))
    return pairs


def similar_groups(
    questions: Sequence[str], *, threshold: float = QUESTION_THRESHOLD
) -> list[list[int]]:
    """Groups (of two or more indexes into ``questions``, ascending, groups by their first
    index) of questions that are the same or nearly the same question, directly or through
    another member of the group."""
    distinct, where = _distinct(questions)
    groups = _Groups(len(distinct))
    for a, b in _similar_pairs([profile_of(k) for k in distinct], threshold):
        groups.join(a, b)
    members: dict[int, list[int]] = defaultdict(list)
    for position, key in enumerate(distinct):
        members[groups.find(position)] += where[key]
    return sorted((sorted(m) for m in members.values() if len(m) > 1), key=lambda m: m[0])


def _similar_pairs(
    profiles: list[Profile], threshold: float, new_from: int | None = None
) -> Iterable[tuple[int, int]]:
    """Pairs of near-duplicate profiles; with ``new_from``, only pairs of which one is at
    or after that index (questions checked against a set: blocks without a new member
    cost nothing but their keys)."""
    rare: dict[str, int] = defaultdict(int)
    for p in profiles:
        for w in p.words:
            rare[w] += 1
    blocks: dict[tuple[object, ...], tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    start = 0 if new_from is None else new_from
    for index in range(start, len(profiles)):
        for block, role in _block_keys(profiles[index], rare):
            blocks[block][role].append(index)
    for index in range(start):
        # Against new questions: only the blocks a new question is in.
        for block, role in _block_keys(profiles[index], rare):
            if block in blocks:
                blocks[block][role].append(index)
    texts = [p.content for p in profiles]
    seen: set[tuple[int, int]] = set()
    for whole, less in blocks.values():
        if len(whole) + len(less) < 2 or len(whole) + len(less) > MAX_BLOCK:
            continue
        for pair in _block_pairs(whole, less, texts, threshold, new_from):
            a, b = pair
            if pair not in seen and one_word_apart(profiles[a].words, profiles[b].words):
                seen.add(pair)
                yield pair


def _block_pairs(
    whole: list[int], less: list[int], texts: list[str], threshold: float, new_from: int | None
) -> Iterable[tuple[int, int]]:
    if new_from is None:
        yield from _scores(whole, whole, texts, threshold, same=True)
        if whole and less:
            yield from _scores(whole, less, texts, threshold, same=False)
        return
    # Members are appended in index order: the new ones are a tail of each list.
    new_whole = [i for i in whole if i >= new_from]
    new_less = [i for i in less if i >= new_from]
    if new_whole:
        yield from _scores(new_whole, whole, texts, threshold, same=False)
        if less:
            yield from _scores(new_whole, less, texts, threshold, same=False)
    if new_less and whole:
        yield from _scores(new_less, whole, texts, threshold, same=False)


def naive_similar_pairs(
    questions: Sequence[str], *, threshold: float = QUESTION_THRESHOLD
) -> set[tuple[int, int]]:
    """Every pair compared with ``question_score``: the reference the blocked scan is
    measured (and tested) against. Quadratic; for small sets only."""
    profiles = [profile_of(k) for k in question_keys(questions)]
    return {
        (a, b)
        for a, b in combinations(range(len(profiles)), 2)
        if profiles[a].key and profiles[b].key
        if question_score(profiles[a], profiles[b]) >= threshold
    }


def similar_to(
    new: Sequence[str], existing: Sequence[str], *, threshold: float = QUESTION_THRESHOLD
) -> dict[int, list[int]]:
    """For each question of ``new`` (by index) the indexes of ``existing`` it is the same or
    nearly the same question as, directly (import previews, the leakage check)."""
    if not new or not existing:
        return {}
    old_keys, where = _distinct(existing)
    new_keys = question_keys(new)
    offset = len(old_keys)
    # Each distinct question once: a question asked 50 times is compared once.
    profiles = [profile_of(k) for k in [*old_keys, *new_keys]]
    found: dict[int, set[int]] = defaultdict(set)
    for index, key in enumerate(new_keys):
        found[index].update(where.get(key, ()))  # the same question, exactly
    for a, b in _similar_pairs(profiles, threshold, offset):
        if a < offset <= b:
            found[b - offset].update(where[old_keys[a]])
    return {index: sorted(olds) for index, olds in found.items() if olds}
