"""Accounts: users and sign-in, login sessions, the audit trail, notifications.

Every use case is ``fn(uow, actor, ...)``: one transaction, the caller's permission checked
first, plain data back. Other packages and the pages use only the names below."""

from __future__ import annotations

from core.services.accounts.audit import AuditFilter, AuditView, audit_facets, list_audit_entries
from core.services.accounts.delivery import deliver_notifications, notification_delivery_task
from core.services.accounts.notification_settings import (
    NotificationSettings,
    connection_webhook,
    model_webhook,
    notification_settings,
    set_connection_webhook,
    set_model_webhook,
    set_notification_settings,
)
from core.services.accounts.notifications import (
    NotificationView,
    list_notifications,
    mark_read,
    unread_count,
)
from core.services.accounts.sessions import (
    IDLE_HOURS,
    MAX_DAYS,
    end_session,
    resume_session,
    start_session,
)
from core.services.accounts.users import (
    MAX_FAILED_LOGINS,
    change_own_password,
    count_users,
    create_user,
    current_actor,
    get_profile,
    list_users,
    log_in,
    log_in_with_sso,
    reset_password,
    unlock_user,
    update_user,
)

__all__ = [
    "IDLE_HOURS",
    "MAX_DAYS",
    "MAX_FAILED_LOGINS",
    "AuditFilter",
    "AuditView",
    "NotificationSettings",
    "NotificationView",
    "audit_facets",
    "change_own_password",
    "connection_webhook",
    "count_users",
    "create_user",
    "current_actor",
    "deliver_notifications",
    "end_session",
    "get_profile",
    "list_audit_entries",
    "list_notifications",
    "list_users",
    "log_in",
    "log_in_with_sso",
    "mark_read",
    "model_webhook",
    "notification_delivery_task",
    "notification_settings",
    "reset_password",
    "resume_session",
    "set_connection_webhook",
    "set_model_webhook",
    "set_notification_settings",
    "start_session",
    "unlock_user",
    "unread_count",
    "update_user",
]
