"""Streamlit-only helpers: the one place outside pages/ that imports Streamlit."""
