"""Choosing the model a page works on: from ``?model=ID`` when another page linked here,
else the last choice of this session, else the default model."""

from __future__ import annotations

import contextlib

import streamlit as st

from core.services.catalog import ModelSummary

_CHOSEN = "chosen_model_id"


def pick_model(models: list[ModelSummary], key: str, label: str = "Model") -> ModelSummary | None:
    if not models:
        st.info("There are no models yet; an admin creates them on the Models page.")
        return None
    ids = [m.id for m in models]
    by_id = {m.id: m for m in models}
    wanted: int | None = None
    if "model" in st.query_params:
        with contextlib.suppress(ValueError):
            wanted = int(st.query_params["model"])
    if wanted in by_id and st.session_state.get(f"{key}__from_query") != wanted:
        # A link names the model: follow it once, then let the user choose freely.
        st.session_state[key] = wanted
        st.session_state[f"{key}__from_query"] = wanted
    if st.session_state.get(key) not in by_id:
        remembered = st.session_state.get(_CHOSEN)
        default = next((m.id for m in models if m.is_default), ids[0])
        st.session_state[key] = remembered if remembered in by_id else default
    chosen = st.selectbox(
        label,
        ids,
        format_func=lambda i: ("\u2003" * by_id[i].depth) + by_id[i].name,
        key=key,
    )
    st.session_state[_CHOSEN] = chosen
    return by_id.get(chosen) if chosen is not None else None
