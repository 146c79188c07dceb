"""Streamlit-only helpers: the one place outside pages/ that imports Streamlit."""

import gc

# What is alive when the app first imports this package (Streamlit, SQLAlchemy, the models: about
# 140,000 objects) lives as long as the process. Move it out of the cyclic collector's reach once, so
# each full collection does not scan it again. At scale 50 a first page view's full collections (while
# pandas and plotly load) took about 0.34 s, now 0.13 s; each later one skips those objects too.
# (The collector's thresholds are set in app.py.)
gc.freeze()
