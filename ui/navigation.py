"""The pages of the app and who sees them: the same permission table as the services."""

from __future__ import annotations

from dataclasses import dataclass

from core.permissions import Actor, Permission


@dataclass(frozen=True)
class PageSpec:
    path: str
    title: str
    icon: str
    permission: Permission
    section: str


PAGES: tuple[PageSpec, ...] = (
    PageSpec("pages/models.py", "Models", ":material/account_tree:", Permission.READ, "Train"),
    PageSpec("pages/qas.py", "Q&As", ":material/quiz:", Permission.READ, "Train"),
    PageSpec(
        "pages/qa_cleanup.py",
        "Q&A clean-up",
        ":material/cleaning_services:",
        Permission.READ,
        "Train",
    ),
    PageSpec(
        "pages/conversations.py",
        "Training conversations",
        ":material/question_answer:",
        Permission.READ,
        "Train",
    ),
    PageSpec(
        "pages/transcripts.py", "Transcript curation", ":material/rule:", Permission.READ, "Train"
    ),
    PageSpec("pages/chats.py", "Chats", ":material/forum:", Permission.CHAT, "Use"),
    PageSpec(
        "pages/compilations.py",
        "Compilations",
        ":material/model_training:",
        Permission.READ,
        "Monitor",
    ),
    PageSpec(
        "pages/dashboard.py", "Dashboard", ":material/monitoring:", Permission.READ, "Monitor"
    ),
    PageSpec(
        "pages/connections.py",
        "Connections",
        ":material/cable:",
        Permission.VIEW_CONNECTIONS,
        "Administer",
    ),
    PageSpec("pages/users.py", "Users", ":material/group:", Permission.MANAGE_USERS, "Administer"),
    PageSpec("pages/audit.py", "Audit", ":material/history:", Permission.VIEW_AUDIT, "Administer"),
    PageSpec(
        "pages/notifications.py",
        "Notifications",
        ":material/notifications:",
        Permission.READ,
        "Account",
    ),
    PageSpec("pages/account.py", "My account", ":material/person:", Permission.READ, "Account"),
)


def pages_for(actor: Actor) -> list[PageSpec]:
    return [p for p in PAGES if actor.can(p.permission)]
