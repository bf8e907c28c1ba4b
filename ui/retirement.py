"""Base-model retirement on the pages: flags for models whose base model retires soon, and
the admins' table of shutdown dates."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.domain import ProviderType, utcnow
from core.permissions import Actor
from core.services import catalog
from core.services.catalog import (
    OPENAI_WIND_DOWN_NOTICE,
    RETIREMENT_WINDOW_DAYS,
    BaseModelInput,
    RetirementFlag,
)
from ui import context
from ui.errors import attempt, errors_shown


def models_at_risk(actor: Actor) -> dict[int, RetirementFlag]:
    return attempt(lambda: catalog.models_at_risk(context.uow(), actor)) or {}


def flags_banner(flags: dict[int, RetirementFlag]) -> None:
    """One warning naming every model whose base model retires within the window."""
    if not flags:
        return
    names = ", ".join(sorted(f.model_name for f in flags.values()))
    st.warning(
        f"Base model retiring within {RETIREMENT_WINDOW_DAYS} days for: {names}. "
        "See the dashboard's deprecation radar.",
        icon=":material/event_busy:",
    )


def model_flag(flags: dict[int, RetirementFlag], model_id: int) -> None:
    flag = flags.get(model_id)
    if flag is not None:
        st.warning(
            f"{flag.text} Choose another base model and recompile before then.",
            icon=":material/event_busy:",
        )


def wind_down_notice(actor: Actor, *, key: str) -> None:
    """OpenAI's wind-down notice, with the export of every model's training set beside it."""
    text, action = st.columns([4, 1], vertical_alignment="center")
    text.warning(OPENAI_WIND_DOWN_NOTICE, icon=":material/campaign:")

    def archive() -> bytes:
        # Built only when the button is pressed: it reads every model's training data.
        return catalog.export_training_sets(context.uow(), actor).as_zip()

    action.download_button(
        "Export all training sets",
        data=archive,
        file_name=f"arbiter-training-sets-{utcnow():%Y-%m-%d}.zip",
        mime="application/zip",
        icon=":material/download:",
        key=key,
        on_click="ignore",
        help="A zip with every arbiter's training set as chat JSONL (one file per model, "
        "as a compilation would build it) and a manifest naming each one's base model.",
    )


def base_model_admin(actor: Actor) -> None:
    """Admins: shutdown dates the providers do not give, and a refresh from the providers."""
    with st.expander("Base models and shutdown dates (admin)"):
        st.caption(
            "Dates from a provider's model list are filled in by the worker once a day and by "
            "the refresh below; where a provider gives none, enter the date it announced. A "
            "provider's date replaces a typed one at the next refresh. Every change is audited."
        )
        if st.button("Refresh from the providers", icon=":material/sync:", key="bm_refresh"):
            report = attempt(lambda: catalog.refresh_from_providers(context.uow(), actor))
            if report is not None:
                st.toast(
                    f"Asked {report.connections_asked} connection(s); "
                    f"{report.dates_found} shutdown date(s) found."
                )
                for problem in report.problems:
                    st.warning(problem)
        rows = attempt(lambda: catalog.list_base_models(context.uow(), actor)) or []
        if rows:
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "Provider": r.provider_type.value,
                            "Base model": r.name,
                            "Shutdown date": r.shutdown_date,
                            "From": r.source or "",
                            "Fine-tunable": r.fine_tunable,
                            "Notes": r.notes,
                        }
                        for r in rows
                    ]
                ),
                hide_index=True,
                width="stretch",
            )
        with st.form("bm_form", clear_on_submit=True):
            c1, c2, c3 = st.columns([1, 2, 1])
            provider = c1.selectbox(
                "Provider", list(ProviderType), format_func=lambda p: p.value, key="bm_provider"
            )
            name = c2.text_input("Base model", key="bm_name", placeholder="gpt-4o-mini-2024-07-18")
            shutdown = c3.date_input("Shutdown date", value=None, key="bm_date")
            notes = st.text_input("Notes (e.g. where it was announced)", key="bm_notes")
            if st.form_submit_button("Save shutdown date", type="primary"):
                with errors_shown():
                    saved = catalog.save_base_model(
                        context.uow(),
                        actor,
                        BaseModelInput(provider or ProviderType.OPENAI, name, shutdown, notes),
                    )
                    st.toast(f"Saved {saved.name}.")
                    st.rerun()
        stored = [r for r in rows if r.id is not None]
        if stored:
            c1, c2 = st.columns([3, 1])
            labels = {int(r.id or 0): f"{r.name} ({r.provider_type.value})" for r in stored}
            chosen = c1.selectbox(
                "Forget what was typed in or reported (the catalogue file's facts remain)",
                list(labels),
                format_func=labels.__getitem__,
                key="bm_remove",
            )
            c2.write("")
            if c2.button("Remove", key="bm_remove_go", icon=":material/delete:"):
                with errors_shown():
                    catalog.delete_base_model(context.uow(), actor, int(chosen))
                    st.rerun()
