"""Every arbiter's training set as provider-neutral chat JSONL, zipped with a manifest: to
train the models elsewhere (another cloud, a self-hosted trainer)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from core.domain import ModelKind, utcnow
from core.models import AIModel
from core.permissions import Actor, Permission, requires
from core.services.catalog import training_data
from core.uow import UnitOfWork


@dataclass(frozen=True)
class ExportedTrainingSet:
    model_id: int
    model_name: str
    filename: str
    parent_name: str | None
    base_model: str | None
    provider_type: str | None
    examples: int
    sha256: str
    content: bytes

    def manifest_entry(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "model": self.model_name,
            "parent": self.parent_name,
            "file": self.filename if self.examples else None,
            "examples": self.examples,
            "sha256": self.sha256 if self.examples else None,
            "base_model": self.base_model,
            "provider": self.provider_type,
        }


@dataclass(frozen=True)
class TrainingSetsExport:
    """Every fine-tunable model's training set as provider-neutral chat JSONL, one file per
    model, with a manifest naming each file's model, base model and example count."""

    made_at: datetime
    sets: list[ExportedTrainingSet]

    @property
    def filename(self) -> str:
        return f"arbiter-training-sets-{self.made_at:%Y-%m-%d}.zip"

    @property
    def examples(self) -> int:
        return sum(s.examples for s in self.sets)

    @property
    def files(self) -> dict[str, bytes]:
        """What the export holds, by file name: the non-empty sets and the manifest."""
        manifest = {
            "made_at": self.made_at.isoformat(),
            "format": 'chat JSONL: one {"messages": [...]} example per line, system message '
            "first; assistant messages may carry a weight",
            "models": [s.manifest_entry() for s in self.sets],
        }
        files = {s.filename: s.content for s in self.sets if s.examples}
        files["manifest.json"] = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
        return files

    def as_zip(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in self.files.items():
                archive.writestr(name, content)
        return buffer.getvalue()


def _file_name(model_id: int, name: str) -> str:
    # Model names are free text; the id keeps two names that fold alike apart.
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "model"
    return f"{model_id:04d}-{slug}.jsonl"


@requires(Permission.READ)
def export_training_sets(uow: UnitOfWork, actor: Actor) -> TrainingSetsExport:
    """Every arbiter's training set as it stands (the hierarchy applied, as a compilation
    would build it), for training it elsewhere once the provider stops fine-tuning."""
    with uow:
        s = uow.session
        models = list(
            s.scalars(
                select(AIModel).where(AIModel.kind == ModelKind.ARBITER).order_by(AIModel.name)
            )
        )
        names = {r.id: r.name for r in s.execute(select(AIModel.id, AIModel.name))}
        sets = []
        for model in models:
            inputs = training_data.model_inputs(s, model)
            built = training_data.load_training_set(s, inputs)
            sets.append(
                ExportedTrainingSet(
                    model_id=model.id,
                    model_name=model.name,
                    filename=_file_name(model.id, model.name),
                    parent_name=names.get(model.parent_id) if model.parent_id else None,
                    base_model=inputs.base_model,
                    provider_type=inputs.connection.provider_type.value
                    if inputs.connection
                    else None,
                    examples=built.size,
                    sha256=built.sha256,
                    content=built.content,
                )
            )
        return TrainingSetsExport(utcnow(), sets)
