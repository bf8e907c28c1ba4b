"""Q&As: a model's fixed knowledge in a grid, paged, searched, filtered and sorted by the
database; edited cell by cell; added, pasted, imported, exported and changed in bulk.

Links to one record: ?model=ID&qa=ID (opens the page that holds it and highlights it);
?model=ID&ids=1,2,3 shows just those rows (the clean-up view links that way).
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, time
from typing import Any

import streamlit as st

from core.domain import QAType
from core.permissions import Permission
from core.services import catalog, qas
from core.services.qas import PAGE_SIZES, SORTABLE, QAFacets, QAQuery
from ui import context, qa_grid, qa_panels
from ui.errors import attempt

actor = context.actor()
can_edit = actor.can(Permission.EDIT_TRAINING)
state = st.session_state
MODEL, PAGE, SIZE, HIGHLIGHT, IDS = (
    "qas_model",
    "qas_page",
    "qas_page_size",
    "qas_highlight",
    "qas_ids",
)
SORT, DESC, SELECTED, REVISION = "qas_sort", "qas_desc", "qas_selected", "qas_revision"
OWN_SAVES, OUTCOME, CONFLICT = "qas_own_saves", "qas_outcome", "qas_conflict"
ANNOUNCE = "qas_announce"  # a save not yet confirmed with a toast
SORT_LABELS = {
    "id": "Added (oldest first)",
    "section": "Section",
    "question": "Question",
    "answer": "Answer",
    "qa_type": "Type",
    "is_active": "Active",
    "notes": "Notes",
    "changed_at": "Changed at",
}

st.title("Q&As")
st.caption(
    "Question-and-answer pairs: the fixed knowledge a model is fine-tuned on. Each active "
    "training Q&A becomes one training example."
)
# One line, so that the actions above the grid stay in view; the colours are in the help.
st.info(
    "**Validation Q&As** (amber rows) are **kept out of training** and used to score each new "
    "version. Grey italic rows are inactive; blue-grey rows come from related models.",
    icon=":material/science:",
)

models = attempt(lambda: catalog.list_models(context.uow(), actor)) or []
if not models:
    st.info("There are no models yet. An admin creates them on the Models page.")
    st.stop()
names = {m.id: m.name for m in models}
depth = {m.id: m.depth for m in models}


def _arrive_from_link() -> None:
    """?model=…&qa=…/&ids=… opens the grid on that record (once per link)."""
    params = st.query_params.to_dict()
    link = tuple(sorted(params.items()))
    if not params or state.get("qas_link") == link:
        return
    state["qas_link"] = link
    qa_id: int | None = None
    with contextlib.suppress(ValueError):
        if "qa" in params:
            qa_id = int(params["qa"])
        if "model" in params and int(params["model"]) in names:
            state[MODEL] = int(params["model"])
        if "ids" in params:
            state[IDS] = tuple(int(i) for i in params["ids"].split(",") if i.strip())
    if qa_id is None:
        return
    row = attempt(lambda: qas.get_qa(context.uow(), actor, qa_id))
    if row is None:
        return
    state[MODEL] = row.model_id
    state[HIGHLIGHT] = row.id
    for key in ("qas_search", "qas_sections", "qas_type", "qas_active", "qas_editor", "qas_since"):
        state.pop(key, None)
    state.pop(IDS, None)
    position = attempt(lambda: qas.locate_qa(context.uow(), actor, row.id, QAQuery(row.model_id)))
    size = int(state.get(SIZE, 100))
    state[PAGE] = (position or 0) // size + 1


_arrive_from_link()
state.setdefault(REVISION, 0)
state.setdefault(OWN_SAVES, {})


def _refresh() -> None:
    """Redraw the grid from the server (after a save, a refusal or a bulk action)."""
    state[REVISION] = int(state.get(REVISION, 0)) + 1


def _first_page() -> None:
    state[PAGE] = 1
    state.pop(HIGHLIGHT, None)


def _model_changed() -> None:
    _first_page()
    for key in (
        "qas_sections",
        "qas_editor",
        SELECTED,
        IDS,
        CONFLICT,
        OUTCOME,
        qa_panels.CONFIRM_KEY,
    ):
        state.pop(key, None)
    st.query_params["model"] = str(state[MODEL])


if state.get(MODEL) not in names:
    state[MODEL] = models[0].id
top_left, top_right = st.columns([1, 2])
model_id: int = top_left.selectbox(
    "Model",
    list(names),
    format_func=lambda i: "\u2003" * depth[i] + names[i],
    key=MODEL,
    on_change=_model_changed,
)
found_facets = attempt(lambda: qas.qa_facets(context.uow(), actor, model_id))
if found_facets is None:
    st.stop()
assert found_facets is not None
facets: QAFacets = found_facets
editor_options: list[int | None] = [None, *facets.editors]

search = top_right.text_input(
    "Search questions and answers",
    key="qas_search",
    placeholder='every word must appear; "quoted words" as a phrase',
    on_change=_first_page,
)
with st.container(border=True):
    f1, f2, f3, f4, f5 = st.columns([3, 1.3, 1.3, 1.8, 1.6])
    sections = f1.multiselect(
        "Sections",
        list(facets.sections),
        format_func=lambda s: f"{s or '(no section)'} ({facets.sections.get(s, 0):,})",
        key="qas_sections",
        on_change=_first_page,
    )
    qa_type = f2.selectbox(
        "Type",
        [None, QAType.TRAINING, QAType.VALIDATION],
        format_func=lambda t: "all types" if t is None else t.value,
        key="qas_type",
        on_change=_first_page,
    )
    active = f3.selectbox(
        "Active",
        [None, True, False],
        format_func=lambda a: {None: "all", True: "active", False: "inactive"}[a],
        key="qas_active",
        on_change=_first_page,
    )
    editor = f4.selectbox(
        "Changed by",
        editor_options,
        format_func=lambda u: "anyone" if u is None else facets.editors.get(u, f"user #{u}"),
        key="qas_editor",
        on_change=_first_page,
    )
    since = f5.date_input("Changed since", value=None, key="qas_since", on_change=_first_page)
    o1, o2, o3, o4 = st.columns([2, 1.2, 1.2, 2.6], vertical_alignment="bottom")
    state.setdefault(SORT, "id")
    sort = (
        o1.selectbox(
            "Sort by",
            list(SORTABLE),
            format_func=lambda s: SORT_LABELS.get(s, s),
            key=SORT,
            on_change=_first_page,
        )
        or "id"
    )
    descending = o2.toggle("Descending", key=DESC, on_change=_first_page)
    size = o3.selectbox("Page size", PAGE_SIZES, index=1, key=SIZE, on_change=_first_page)
    include_related = False
    if facets.related_models:
        related = ", ".join(f"{n} ({r.value})" for _, n, r in facets.related_models)
        include_related = o4.toggle(
            "Show related models' Q&As (read-only)",
            key="qas_related",
            help=f"This model also trains on: {related}.",
            on_change=_first_page,
        )

chosen_ids: tuple[int, ...] = tuple(state.get(IDS, ()))
if chosen_ids:
    left, right = st.columns([5, 1], vertical_alignment="center")
    left.info(f"Showing the {len(chosen_ids)} Q&As chosen in the clean-up view.")
    if right.button("Show all", key="qas_clear_ids"):
        state.pop(IDS, None)
        st.query_params.pop("ids", None)
        _first_page()
        st.rerun()

query = QAQuery(
    model_id=model_id,
    search=search,
    sections=tuple(sections),
    qa_type=qa_type,
    active=active,
    changed_by_id=editor,
    changed_since=datetime.combine(since, time.min, tzinfo=UTC) if since else None,
    ids=chosen_ids,
    include_related=include_related,
    sort=sort,
    descending=descending,
)
state.setdefault(PAGE, 1)
page_number = int(state[PAGE])
listing = attempt(
    lambda: qas.list_qas(context.uow(), actor, query, offset=(page_number - 1) * size, limit=size)
)
if listing is None:
    st.stop()
assert listing is not None
pages = max(1, -(-listing.total // size))
state[PAGE] = listing.offset // size + 1

top = listing.section_counts
per_section = " · ".join(
    f"{s or '(none)'}: {n:,}" for s, n in sorted(top.items(), key=lambda x: -x[1])[:12]
)
st.markdown(
    f"**{listing.total:,}** Q&As match"
    + (
        f" · showing {listing.offset + 1:,}–{listing.offset + len(listing.rows):,}"
        if listing.rows
        else ""
    )
    + (f" · :small[:gray[per section: {per_section}]]" if per_section else "")
)


def _on_grid_event(payload: Any) -> None:
    event = qa_grid.parse_event(payload)
    if isinstance(event, qa_grid.SortChange):
        state[SORT] = event.field or "id"
        state[DESC] = event.descending if event.field else False
        _first_page()
    elif isinstance(event, qa_grid.SelectionChange):
        state[SELECTED] = event.ids
    elif isinstance(event, qa_grid.CellEdit):
        save = qa_grid.cell_save(event, state[OWN_SAVES])
        outcome = qa_grid.save_cell(save, state[OWN_SAVES], actor, context.uow)
        state[OUTCOME] = outcome
        if outcome.saved is not None:
            state[ANNOUNCE] = outcome.saved.row_version
        if outcome.conflict is not None:
            state[CONFLICT] = outcome.conflict
        _refresh()


view = state.get(CONFLICT)
if view is not None:
    with st.container(border=True):
        st.warning(
            f"Someone else changed the **{view.label}** of Q&A #{view.qa_id} after you loaded it. "
            "Nothing was overwritten. Which value should it keep?",
            icon=":material/sync_problem:",
        )
        mine, theirs = st.columns(2)
        mine.markdown("**Your value**")
        mine.code(str(view.yours), language=None, wrap_lines=True)
        theirs.markdown("**Stored now**")
        theirs.code(str(view.theirs), language=None, wrap_lines=True)
        if mine.button("Keep mine", type="primary", key="qas_keep_mine"):
            kept = qa_grid.save_cell(qa_grid.keep_mine(view), state[OWN_SAVES], actor, context.uow)
            state.pop(CONFLICT, None)
            state[OUTCOME] = kept
            if kept.conflict is not None:
                state[CONFLICT] = kept.conflict
            _refresh()
            st.rerun()
        if theirs.button("Keep theirs", key="qas_keep_theirs"):
            state.pop(CONFLICT, None)
            state.pop(OUTCOME, None)
            _refresh()
            st.rerun()

# The versions shown: a bulk action on chosen rows is refused if any changed since.
page_versions = {r.id: r.row_version for r in listing.rows if r.editable}
selected = {i: page_versions[i] for i in state.get(SELECTED, ()) if i in page_versions}

# Actions and the pager sit above the grid, in one row of popovers: rows ticked at the top
# are acted on at the top, without scrolling past the grid (at 1440 x 900).
bar = st.container(horizontal=True, vertical_alignment="bottom", wrap=False, key="qas_toolbar")
with bar:
    if can_edit:
        with st.popover(
            f"Bulk actions ({len(selected):,} ticked)" if selected else "Bulk actions",
            icon=":material/checklist:",
            key="qas_pop_bulk",
        ):
            qa_panels.bulk_panel(
                actor, context.uow, query, selected, listing.total, names, _refresh
            )
        with st.popover("Add", icon=":material/add:", key="qas_pop_add"):
            qa_panels.add_form(actor, context.uow, model_id, _refresh)
        with st.popover("Paste rows", icon=":material/content_paste:", key="qas_pop_paste"):
            qa_panels.paste_panel(actor, context.uow, model_id, _refresh)
        with st.popover("Import", icon=":material/upload:", key="qas_pop_import"):
            qa_panels.import_panel(actor, context.uow, model_id, _refresh)
    with st.popover("Export", icon=":material/download:", key="qas_pop_export"):
        qa_panels.export_panel(actor, context.uow, query, listing.total)
    st.space("stretch")
    if st.button(
        "Previous", icon=":material/chevron_left:", disabled=page_number <= 1, key="qas_prev"
    ):
        state[PAGE] = page_number - 1
        st.rerun()
    if st.button(
        "Next", icon=":material/chevron_right:", disabled=page_number >= pages, key="qas_next"
    ):
        state[PAGE] = page_number + 1
        st.rerun()
    st.number_input(
        f"Page (of {pages:,})", min_value=1, max_value=pages, step=1, key=PAGE, width=110
    )

last = state.get(OUTCOME)
if last is not None and view is None:
    if last.error:
        st.error(last.error, icon=":material/error:")
    elif last.saved is not None:
        if state.pop(ANNOUNCE, None) == last.saved.row_version:
            # A toast nobody can miss, once per save; the line below stays as a record.
            st.toast(f"Saved Q&A #{last.saved.id}.", icon=":material/check_circle:")
        st.markdown(
            f":green[:material/check_circle: Saved Q&A #{last.saved.id} "
            f"(version {last.saved.row_version}).]"
        )

st.caption(
    "Double-click a cell to edit it; Enter saves, Shift+Enter starts a new line in long texts, "
    "Esc cancels. Click a column header to sort."
    if can_edit
    else "Your role can read the Q&As but not change them."
)
highlight = state.get(HIGHLIGHT)
qa_grid.render(
    qa_grid.grid_frame(listing.rows),
    qa_grid.grid_options(
        can_edit=can_edit,
        show_source=include_related,
        sort=sort,
        descending=descending,
        highlight_id=highlight,
        revision=int(state[REVISION]),
    ),
    key=f"qas_grid_{model_id}",
    on_event=_on_grid_event,
)
