"""The Evaluate tab of the Models page: ask a version (or the untrained base model) the
validation Q&As, read each question's answer and scores worst first, and put two of them
side by side, regressions first, to see whether a version is better."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.csv_export import frame_to_csv
from core.permissions import Actor, Permission
from core.services import compilation, evaluation
from core.services.catalog import ConnectionView, ModelDetail
from core.services.evaluation import EvaluationView
from ui import context
from ui.errors import attempt, errors_shown
from ui.formatting import when

SCORES = {
    "f1": st.column_config.NumberColumn("Token F1", format="%.3f"),
    "similarity": st.column_config.NumberColumn("Similarity", format="%.3f"),
    "exact": st.column_config.CheckboxColumn("Exact"),
    "judge_score": st.column_config.NumberColumn("Judge (1-5)"),
}


def _side_label(side: int | str) -> str:
    return "the base model (no training)" if side == evaluation.BASE else f"v{side}"


def render(model: ModelDetail, actor: Actor, connections: list[ConnectionView]) -> None:
    versions = attempt(lambda: compilation.list_versions(context.uow(), actor, model.id)) or []
    sides: list[int | str] = [v.number for v in versions] + [evaluation.BASE]
    if actor.can(Permission.COMPILE):
        _run_form(model, actor, sides, connections)
    runs = attempt(lambda: evaluation.list_evaluations(context.uow(), actor, model.id)) or []
    if not runs:
        st.info(
            "No evaluation yet. Evaluate a version to see every validation question with its "
            "answer and scores; evaluate two to compare them side by side."
        )
        return
    _runs_table(runs)
    _one_run(model, actor, runs)
    _side_by_side(model, actor, runs)


def _run_form(
    model: ModelDetail, actor: Actor, sides: list[int | str], connections: list[ConnectionView]
) -> None:
    judges = [c for c in connections if c.default_base_model]
    c1, c2, c3 = st.columns([2, 2, 1])
    side = c1.selectbox("Evaluate", sides, format_func=_side_label, key=f"eval_side_{model.id}")
    judge = c2.selectbox(
        "LLM judge (optional)",
        [None, *[c.id for c in judges]],
        format_func=lambda i: (
            "none: scores only"
            if i is None
            else next(f"{c.name} ({c.default_base_model})" for c in judges if c.id == i)
        ),
        key=f"eval_judge_{model.id}",
        help="Grades each answer 1-5 against the expected one, with a one-line reason.",
    )
    c3.write("")
    if c3.button("Evaluate", type="primary", key=f"eval_go_{model.id}", icon=":material/quiz:"):
        with st.spinner(f"Asking {_side_label(side)} the validation Q&As…"), errors_shown():
            run = evaluation.evaluate(context.uow(), actor, model.id, side, judge)
            (st.error if run.error else st.success)(run.summary())


def _runs_table(runs: list[EvaluationView]) -> None:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Evaluated": r.label,
                    "When": when(r.created_at),
                    "Answered": f"{r.answered} of {r.questions}",
                    "Token F1": r.mean_f1,
                    "Exact": r.mean_exact,
                    "Similarity": r.mean_similarity,
                    "Judge (1-5)": r.mean_judge,
                    "Problem": r.error or "",
                }
                for r in runs
            ]
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "Token F1": st.column_config.NumberColumn(format="%.3f"),
            "Exact": st.column_config.NumberColumn(format="percent"),
            "Similarity": st.column_config.NumberColumn(format="%.3f"),
            "Judge (1-5)": st.column_config.NumberColumn(format="%.2f"),
        },
    )


def _one_run(model: ModelDetail, actor: Actor, runs: list[EvaluationView]) -> None:
    usable = [r for r in runs if r.error is None]
    if not usable:
        return
    st.markdown("**Question by question** (worst first; click a column to sort)")
    run_id = st.selectbox(
        "Evaluation",
        [r.id for r in usable],
        format_func=lambda i: next(f"{r.label}, {when(r.created_at)}" for r in usable if r.id == i),
        key=f"eval_run_{model.id}",
    )
    rows = attempt(lambda: evaluation.evaluation_results(context.uow(), actor, int(run_id)))
    if rows is None:
        return
    sections = sorted(s for s in rows["section"].unique() if s)
    chosen = st.multiselect("Sections", sections, key=f"eval_sections_{model.id}_{run_id}")
    if chosen:
        rows = rows[rows["section"].isin(chosen)]
    st.dataframe(
        rows.drop(columns=["qa_id"]), hide_index=True, width="stretch", column_config=SCORES
    )


def _side_by_side(model: ModelDetail, actor: Actor, runs: list[EvaluationView]) -> None:
    evaluated: list[int | str] = []
    for r in runs:
        side: int | str = r.version_number if r.version_number is not None else evaluation.BASE
        if r.error is None and side not in evaluated:
            evaluated.append(side)
    if len(evaluated) < 2:
        st.caption("Evaluate a second version (or the base model) to compare them side by side.")
        return
    st.markdown("**Side by side** (regressions first)")
    c1, c2 = st.columns(2)
    a = c1.selectbox("A", evaluated, index=1, format_func=_side_label, key=f"eval_a_{model.id}")
    b = c2.selectbox("B", evaluated, index=0, format_func=_side_label, key=f"eval_b_{model.id}")
    table = attempt(lambda: evaluation.compare_evaluations(context.uow(), actor, model.id, a, b))
    if table is None:
        return
    changes = table["f1 change"]
    st.caption(
        f"{_side_label(a)} → {_side_label(b)}: {int((changes > 0).sum())} better, "
        f"{int((changes < 0).sum())} worse, {int((changes == 0).sum())} the same (token F1)."
    )
    styled = table.drop(columns=["qa_id"]).style.map(
        _change_colour, subset=["f1 change", "judge change"]
    )
    st.dataframe(styled, hide_index=True, width="stretch")
    st.download_button(
        "Download CSV",
        data=frame_to_csv(table),
        file_name=f"{model.name}-{a}-vs-{b}.csv",
        mime="text/csv",
        icon=":material/download:",
        key=f"eval_csv_{model.id}",
        on_click="ignore",
    )


def _change_colour(value: object) -> str:
    if not isinstance(value, int | float) or pd.isna(value) or value == 0:
        return ""
    return "color: #1b5e20" if value > 0 else "color: #b71c1c; font-weight: 600"
