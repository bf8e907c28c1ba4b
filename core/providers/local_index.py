"""The local provider's "fine-tuning": a TF-IDF retrieval index over the training set
(scikit-learn), stored as plain files (JSON and NumPy arrays, no pickles) so that a version
survives restarts and loads in another process.

Each learnable assistant turn of an example becomes one entry: the user text before it is
what a question is compared with, the assistant text is the answer.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import scipy.sparse as sp

    # scikit-learn ships no type information and has no stub package.
    from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]

# scikit-learn and SciPy are imported when an index is built or loaded, not at start-up:
# they take seconds to import and most commands never need them.
_VECTORIZER_OPTIONS: dict[str, Any] = {
    "ngram_range": (1, 2),
    "sublinear_tf": True,
    "strip_accents": "unicode",
}


def _vectorizer(**extra: Any) -> TfidfVectorizer:
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(**_VECTORIZER_OPTIONS, dtype=np.float32, **extra)


@dataclass(frozen=True)
class IndexEntry:
    prompt: str  # what a question is compared with (the latest user turn weighs double)
    answer: str
    example_line: int  # 1-based line of the example in the training file
    question: str = ""  # the latest user turn, as shown to people


@dataclass(frozen=True)
class Match:
    answer: str
    score: float  # cosine similarity in [0, 1]
    example_line: int
    matched_question: str


def entries_from_jsonl(content: bytes) -> list[IndexEntry]:
    entries: list[IndexEntry] = []
    for line_no, raw in enumerate(content.splitlines(), start=1):
        if not raw.strip():
            continue
        example = json.loads(raw)
        context: list[str] = []
        for message in example.get("messages", []):
            role, text = message.get("role"), str(message.get("content") or "")
            if role == "user":
                context.append(text)
            elif role == "assistant":
                if message.get("weight", 1) == 1 and context:
                    # The latest user turn matters most; earlier ones add context.
                    prompt = " ".join([*context[-2:-1], context[-1], context[-1]])
                    entries.append(
                        IndexEntry(
                            prompt=prompt, answer=text, example_line=line_no, question=context[-1]
                        )
                    )
                context = []
    return entries


def _safe_name(model_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", model_id)[:200]


def index_dir(root: Path, model_id: str) -> Path:
    return root / "models" / _safe_name(model_id)


def build_index(root: Path, model_id: str, entries: Iterable[IndexEntry]) -> int:
    """Build and store the index; returns the number of entries indexed."""
    items = list(entries)
    target = index_dir(root, model_id)
    # A folder of its own: a worker that died half-way leaves only its own folder behind,
    # and one that lost its lease cannot mix its files into its successor's.
    staging = target.with_name(f"{target.name}.{os.getpid()}.{secrets.token_hex(4)}.partial")
    staging.mkdir(parents=True)
    if items:
        import numpy as np
        import scipy.sparse as sp

        vectorizer = _vectorizer()
        matrix = vectorizer.fit_transform([e.prompt for e in items]).tocsr()
        vocabulary = {term: int(i) for term, i in vectorizer.vocabulary_.items()}
        (staging / "vocabulary.json").write_text(json.dumps(vocabulary), encoding="utf-8")
        np.save(staging / "idf.npy", vectorizer.idf_.astype(np.float32))
        sp.save_npz(staging / "matrix.npz", matrix)
    with (staging / "entries.jsonl").open("w", encoding="utf-8") as fh:
        for e in items:
            row = [e.prompt, e.answer, e.example_line, e.question]
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    (staging / "meta.json").write_text(json.dumps({"entries": len(items)}), encoding="utf-8")
    _publish(staging, target)
    return len(items)


def _publish(staging: Path, target: Path) -> None:
    """Swap the new index in: readers see the old index or the whole new one, never half."""
    moved_aside: list[Path] = []
    for attempt in range(5):
        old = staging.with_name(f"{staging.name}.old{attempt}")
        with contextlib.suppress(FileNotFoundError):
            target.rename(old)
            moved_aside.append(old)
        try:
            staging.rename(target)
            break
        except OSError:
            # Another process published the same index in between: move it aside, again.
            continue
    else:
        raise OSError(f"could not publish the index {target.name}")
    for old in moved_aside:
        shutil.rmtree(old, ignore_errors=True)


class LoadedIndex:
    def __init__(self, path: Path) -> None:
        import numpy as np
        import scipy.sparse as sp

        self.entries: list[IndexEntry] = []
        with (path / "entries.jsonl").open(encoding="utf-8") as fh:
            for line in fh:
                # Indexes built before the question was kept have three fields.
                prompt, answer, example_line, *question = json.loads(line)
                self.entries.append(
                    IndexEntry(prompt, answer, int(example_line), "".join(question) or prompt)
                )
        self.matrix: sp.csr_matrix | None = None
        self.vectorizer: TfidfVectorizer | None = None
        if self.entries:
            vocabulary = json.loads((path / "vocabulary.json").read_text(encoding="utf-8"))
            self.vectorizer = _vectorizer(vocabulary=vocabulary)
            self.vectorizer.idf_ = np.load(path / "idf.npy")
            self.matrix = sp.csr_matrix(sp.load_npz(path / "matrix.npz"))

    def best_match(self, question: str) -> Match | None:
        return self.best_matches([question])[0]

    def best_matches(self, questions: Sequence[str], chunk: int = 32) -> list[Match | None]:
        """The nearest entry to each question. Many questions at once cost little more than
        one: the vectorizer's per-call overhead (milliseconds) is paid once per chunk."""
        if self.vectorizer is None or self.matrix is None or self.matrix.shape[0] == 0:
            return [None] * len(questions)
        found: list[Match | None] = []
        for start in range(0, len(questions), chunk):
            queries = self.vectorizer.transform(questions[start : start + chunk])
            # Sparse matrix × dense query vectors: about 4× faster than sparse × sparse at
            # 100,000 entries (bench.chat); a chunk keeps the dense side small.
            scores = self.matrix @ queries.toarray().T
            for column in range(scores.shape[1]):
                best = int(scores[:, column].argmax())
                entry = self.entries[best]
                found.append(
                    Match(
                        entry.answer,
                        float(scores[best, column]),
                        entry.example_line,
                        entry.question or entry.prompt,
                    )
                )
        return found


_cache: OrderedDict[tuple[str, float], LoadedIndex] = OrderedDict()
_cache_lock = threading.Lock()
_CACHE_SIZE = 8


def load_index(root: Path, model_id: str) -> LoadedIndex | None:
    """A stored index, cached per process (and reloaded when it is rebuilt)."""
    path = index_dir(root, model_id)
    meta = path / "meta.json"
    if not meta.exists():
        return None
    key = (str(path), meta.stat().st_mtime)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    loaded = LoadedIndex(path)
    with _cache_lock:
        _cache[key] = loaded
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return loaded
