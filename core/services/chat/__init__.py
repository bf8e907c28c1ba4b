"""Chats with people and AI models, and the models' streamed answers.

Every use case is ``fn(uow, actor, ...)``: one transaction, the caller's permission checked
first, plain data back. Other packages and the pages use only the names below."""

from __future__ import annotations

from core.services.chat.answers import answer_all, stream_answer
from core.services.chat.ask import Answered, ask_model
from core.services.chat.chats import (
    ChatSummary,
    Directory,
    Member,
    chat_directory,
    create_chat,
    get_chat,
    list_chats,
    update_chat,
)
from core.services.chat.messages import (
    ChatMessageView,
    Posted,
    chat_activity,
    get_message,
    list_messages,
    post_message,
    retry_answer,
)

__all__ = [
    "Answered",
    "ChatMessageView",
    "ChatSummary",
    "Directory",
    "Member",
    "Posted",
    "answer_all",
    "ask_model",
    "chat_activity",
    "chat_directory",
    "create_chat",
    "get_chat",
    "get_message",
    "list_chats",
    "list_messages",
    "post_message",
    "retry_answer",
    "stream_answer",
    "update_chat",
]
