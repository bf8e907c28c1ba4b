"""Choosing the model a page works on: from ``?model=ID`` when another page linked here,
else the last choice of this session, else the default model. A page whose work is spread
over models (the curation queue) passes its counts: the picker then names them, and opens
on a model with work waiting rather than on an empty one."""

from __future__ import annotations

import contextlib
import hashlib

import streamlit as st

from core.services.catalog import ModelSummary
from ui.formatting import plural

_CHOSEN = "chosen_model_id"


def _first_choice(models: list[ModelSummary], counts: dict[int, int] | None) -> int:
    by_id = {m.id: m for m in models}
    remembered = st.session_state.get(_CHOSEN)
    default = next((m.id for m in models if m.is_default), models[0].id)
    first = remembered if remembered in by_id else default
    if counts and not counts.get(first):
        # Opening on a model with nothing to do tells a trainer there is nothing to do.
        busiest = max((m.id for m in models), key=lambda i: counts.get(i, 0))
        if counts.get(busiest):
            return busiest
    return first


def _signature(counts: dict[int, int]) -> str:
    text = ",".join(f"{i}:{n}" for i, n in sorted(counts.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def pick_model(
    models: list[ModelSummary],
    key: str,
    label: str = "Model",
    counts: dict[int, int] | None = None,
    counted: str = "waiting",
) -> ModelSummary | None:
    if not models:
        st.info("There are no models yet; an admin creates them on the Models page.")
        return None
    ids = [m.id for m in models]
    by_id = {m.id: m for m in models}
    wanted: int | None = None
    if "model" in st.query_params:
        with contextlib.suppress(ValueError):
            wanted = int(st.query_params["model"])
    # With counts, they are part of the widget's key: Streamlit kept showing a keyed
    # selectbox's old label ("6 waiting") after the rerun of a decision, under a caption
    # that said 5. A widget of new counts is a new one, opened on the model chosen before.
    widget = key if counts is None else f"{key}_{_signature(counts)}"
    if wanted in by_id and st.session_state.get(f"{key}__from_query") != wanted:
        # A link names the model: follow it once, then let the user choose freely.
        st.session_state[widget] = wanted
        st.session_state[f"{key}__from_query"] = wanted
    if st.session_state.get(widget) not in by_id:
        before = st.session_state.get(f"{key}__id")
        st.session_state[widget] = before if before in by_id else _first_choice(models, counts)

    def _label(i: int) -> str:
        name = ("\u2003" * by_id[i].depth) + by_id[i].name
        if counts is None:
            return name
        return f"{name} · {counts.get(i, 0):,} {counted}"

    chosen = st.selectbox(label, ids, format_func=_label, key=widget)
    st.session_state[f"{key}__id"] = chosen
    if counts is not None:
        total = sum(counts.get(i, 0) for i in ids)
        busy = sum(1 for i in ids if counts.get(i))
        st.caption(
            f"{total:,} {counted} in all, under {busy:,} of {plural(len(ids), 'model')}."
            if total
            else f"Nothing {counted} under any model."
        )
    st.session_state[_CHOSEN] = chosen
    return by_id.get(chosen) if chosen is not None else None
