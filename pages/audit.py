"""Audit: every change to connections, models, Q&As, conversations, versions and users."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st

from core.domain import utcnow
from core.services import accounts
from core.services.accounts import AuditFilter
from ui import context, pager
from ui.errors import attempt
from ui.formatting import plural

actor = context.actor()
PAGE_SIZE = 100
st.title("Audit trail")

facets = attempt(lambda: accounts.audit_facets(context.uow(), actor)) or ([], [])
c1, c2, c3, c4 = st.columns(4)
who = c1.selectbox(
    "User", [None, *facets[0]], format_func=lambda v: v or "anyone", key="audit_user"
)
entity = c2.selectbox(
    "Entity", [None, *facets[1]], format_func=lambda v: v or "everything", key="audit_entity"
)
today = utcnow().date()
since = c3.date_input("From", value=today - timedelta(days=30), key="audit_since")
until = c4.date_input("To", value=today, key="audit_until")
text = st.text_input("Search the summaries", key="audit_text")
page = pager.current("audit_page")

filters = AuditFilter(
    actor_email=who,
    entity_type=entity,
    since=datetime.combine(since, time.min).astimezone() if since else None,
    until=datetime.combine(until + timedelta(days=1), time.min).astimezone() if until else None,
    text=text or None,
)
result = attempt(
    lambda: accounts.list_audit_entries(
        context.uow(), actor, filters, offset=(int(page) - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
)
if result is not None:
    st.caption(f"{plural(result.total, 'entry', 'entries')} match.")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "When": r.at,
                    "Who": r.actor_email,
                    "Action": r.action,
                    "Entity": f"{r.entity_type} #{r.entity_id}" if r.entity_id else r.entity_type,
                    "Summary": r.summary,
                    "Before": json.dumps(r.before, ensure_ascii=False) if r.before else "",
                    "After": json.dumps(r.after, ensure_ascii=False) if r.after else "",
                }
                for r in result.rows
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    pager.controls("audit_page", result.total, PAGE_SIZE)
