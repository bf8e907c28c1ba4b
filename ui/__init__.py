"""Streamlit helpers shared by the pages: context (session, actor), errors, navigation."""
