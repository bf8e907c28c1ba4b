"""Accounts: users and sign-in, login sessions, the audit trail, notifications.

Every use case is ``fn(uow, actor, ...)``: one transaction, the caller's permission checked
first, plain data back. Other packages and the pages use only the names below."""

from __future__ import annotations

from core.services.accounts.audit import AuditFilter, AuditView, audit_facets, list_audit_entries
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
    "NotificationView",
    "audit_facets",
    "change_own_password",
    "count_users",
    "create_user",
    "current_actor",
    "end_session",
    "get_profile",
    "list_audit_entries",
    "list_notifications",
    "list_users",
    "log_in",
    "log_in_with_sso",
    "mark_read",
    "reset_password",
    "resume_session",
    "start_session",
    "unlock_user",
    "unread_count",
    "update_user",
]
