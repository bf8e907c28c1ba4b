"""Training curves of a compilation (loss and accuracy per step, from the provider's metric
events and checkpoints) and its dataset statistics."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import select

from core.models import Compilation, CompilationAsset, CompilationEvent
from core.permissions import Actor, Permission, public, requires
from core.services.history.detail import optional_int
from core.services.shared import get_or_404
from core.uow import UnitOfWork

# Provider metric names as OpenAI reports them in metric events and checkpoints.
METRIC_NAMES = (
    "train_loss",
    "valid_loss",
    "full_valid_loss",
    "train_mean_token_accuracy",
    "valid_mean_token_accuracy",
    "full_valid_mean_token_accuracy",
)


def _metric_rows(step: Any, values: Mapping[str, Any], source: str) -> list[dict[str, Any]]:
    number = optional_int(step)
    if number is None:
        return []
    rows = []
    for name in METRIC_NAMES:
        value = values.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            rows.append({"step": number, "metric": name, "value": float(value), "source": source})
    return rows


def _checkpoint_records(content: bytes) -> list[Mapping[str, Any]]:
    """Checkpoints stored as a JSON list, or one JSON object per line."""
    text = content.decode("utf-8", errors="replace").strip()
    if not text:
        return []
    try:
        parsed = json.loads(text)
        items = parsed if isinstance(parsed, list) else parsed.get("checkpoints", [parsed])
    except (json.JSONDecodeError, AttributeError):
        items = []
        for line in text.splitlines():
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return [i for i in items if isinstance(i, Mapping)]


def _event_metrics(picked: Sequence[Sequence[Any]]) -> pd.DataFrame:
    """Long format from (step, metric, ...) rows: JSON numbers come back as numbers or as
    text depending on the database, and anything that is not a number is left out."""
    # Plain tuples: pandas probes each SQLAlchemy row for namedtuple fields, slowly.
    wide = pd.DataFrame([tuple(r) for r in picked], columns=["step", *METRIC_NAMES], dtype=object)
    wide = wide.apply(pd.to_numeric, errors="coerce")
    wide = wide[wide["step"].notna() & (wide["step"] % 1 == 0)]
    long = wide.melt(id_vars="step", var_name="metric", value_name="value").dropna()
    long["step"] = long["step"].astype(int)
    long["value"] = long["value"].astype(float)
    long["source"] = "event"
    picked_columns: pd.DataFrame = long[["step", "metric", "value", "source"]]
    return picked_columns


@requires(Permission.READ)
def training_metrics(uow: UnitOfWork, actor: Actor, compilation_id: int) -> pd.DataFrame:
    """Loss and token accuracy per step (long format: step, metric, value, source), from the
    provider's metric events and its checkpoints; a checkpoint's figure wins for its step."""
    with uow:
        get_or_404(uow.session, Compilation, compilation_id, "Compilation")
        # A long run has tens of thousands of metric events: the database picks the figures
        # out of their JSON, so that no event's data is decoded here.
        data = CompilationEvent.data
        picked = uow.session.execute(
            select(*(data[name].as_string() for name in ("step", *METRIC_NAMES))).where(
                CompilationEvent.compilation_id == compilation_id,
                CompilationEvent.event_type == "metrics",
            )
        ).all()
        asset = uow.session.scalar(
            select(CompilationAsset.content).where(
                CompilationAsset.compilation_id == compilation_id,
                CompilationAsset.kind.in_(["checkpoints", "metrics"]),
            )
        )
    rows: list[dict[str, Any]] = []
    for record in _checkpoint_records(asset or b""):
        metrics = record.get("metrics")
        values = metrics if isinstance(metrics, Mapping) else record
        rows += _metric_rows(record.get("step") or record.get("step_number"), values, "checkpoint")
    columns = ["step", "metric", "value", "source"]
    parts = [f for f in (_event_metrics(picked), pd.DataFrame(rows, columns=columns)) if len(f)]
    if not parts:
        return pd.DataFrame(columns=columns)
    # Checkpoints come last, so that theirs is the figure kept for a step both report.
    return (
        pd.concat(parts, ignore_index=True)
        .drop_duplicates(["step", "metric"], keep="last")
        .sort_values(["step", "metric"])
        .reset_index(drop=True)
    )


@public
def examples_per_source(stats: Mapping[str, Any]) -> pd.DataFrame:
    """Examples per source model of the hierarchy, from the engine's dataset statistics."""
    raw = stats.get("per_source") or stats.get("sources") or stats.get("per_model") or []
    rows: list[dict[str, Any]] = []
    if isinstance(raw, Mapping):
        raw = [
            {"model_name": name, **(v if isinstance(v, Mapping) else {"examples": v})}
            for name, v in raw.items()
        ]
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, Mapping):
            continue
        qas = optional_int(item.get("qas") or item.get("training_qas")) or 0
        conversations = (
            optional_int(item.get("conversations") or item.get("ready_conversations")) or 0
        )
        examples = optional_int(item.get("examples"))
        rows.append(
            {
                "Source model": str(
                    item.get("model_name") or item.get("model") or item.get("model_id") or "?"
                ),
                "Relation": str(item.get("relation") or ""),
                "Q&As": qas,
                "Conversations": conversations,
                "Examples": examples if examples is not None else qas + conversations,
            }
        )
    return pd.DataFrame(
        rows, columns=["Source model", "Relation", "Q&As", "Conversations", "Examples"]
    )
