"""How notifications reach a user beyond the app (their own opt-ins), and, for admins, the
chat webhook of each model or connection."""

from __future__ import annotations

import streamlit as st

from core.permissions import Actor, Permission
from core.services import accounts, catalog
from ui import context
from ui.errors import attempt, errors_shown


def opt_ins(actor: Actor) -> None:
    found = attempt(lambda: accounts.notification_settings(context.uow(), actor))
    if found is None:
        return
    with st.form("notify_opt_in", border=True):
        st.markdown("**Also tell me**")
        email = st.toggle(
            f"by e-mail, at `{found.address}`",
            value=found.email,
            disabled=not found.email_available,
            help=None
            if found.email_available
            else "This server has no mail server configured (ARBITER_SMTP_HOST); ask an admin.",
        )
        webhook = st.toggle(
            "in the model's team chat (its Slack or Teams webhook, where an admin set one)",
            value=found.webhook,
        )
        if st.form_submit_button("Save", type="primary"):
            with errors_shown():
                accounts.set_notification_settings(
                    context.uow(), actor, email=email and found.email_available, webhook=webhook
                )
                st.toast("Saved: you will be told as chosen.", icon=":material/check_circle:")


def webhooks(actor: Actor) -> None:
    if not actor.can(Permission.MANAGE_MODELS) or not actor.can(Permission.MANAGE_CONNECTIONS):
        return
    with st.expander("Team chat webhooks (admins)", icon=":material/webhook:"):
        st.caption(
            "A Slack incoming webhook or a Teams workflow address. A model's own webhook wins; "
            "otherwise its connection's is used. Posts go out for the users who opted in."
        )
        models = attempt(lambda: catalog.list_models(context.uow(), actor)) or []
        conns = attempt(lambda: catalog.list_connections(context.uow(), actor)) or []
        owners = [("model", m.id, f"Model: {m.name}") for m in models] + [
            ("connection", c.id, f"Connection: {c.name}") for c in conns
        ]
        if not owners:
            st.info("There are no models or connections yet.")
            return
        chosen = st.selectbox(
            "For", range(len(owners)), format_func=lambda i: owners[i][2], key="notify_hook_for"
        )
        kind, owner_id, _ = owners[chosen or 0]
        current = attempt(
            lambda: (
                accounts.model_webhook(context.uow(), actor, owner_id)
                if kind == "model"
                else accounts.connection_webhook(context.uow(), actor, owner_id)
            )
        )
        url = st.text_input(
            "Webhook address",
            value=current or "",
            key=f"notify_hook_{kind}_{owner_id}",
            placeholder="https://hooks.slack.com/services/…",
            type="password",  # the address is the channel's secret
        )
        if st.button("Save webhook", key="notify_hook_save"):
            with errors_shown():
                if kind == "model":
                    accounts.set_model_webhook(context.uow(), actor, owner_id, url or None)
                else:
                    accounts.set_connection_webhook(context.uow(), actor, owner_id, url or None)
                st.toast("Webhook removed." if not url else "Webhook saved.")
