"""Arbiter Studio core: the service layer shared by the pages, the CLI and the worker.

Nothing under ``core`` imports Streamlit; a test enforces it.
"""
