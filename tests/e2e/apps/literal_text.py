"""A tiny app for tests/e2e/test_imported_text_browser.py: hostile text through markdown_literal in every
Streamlit element that reads Markdown, and as it is in those that show plain text."""

import sys
from pathlib import Path

import pandas as pd
import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from qidash.text import markdown_literal as literal
from tests.hostile import MARKDOWN_SAMPLE as HOSTILE

shown = literal(HOSTILE)

st.markdown("markdown " + shown)
st.markdown(literal("# heading\n- list\n> quote\n1. one"))
st.caption("caption " + shown)
st.write("write " + shown)
st.metric("metric " + shown, "value " + shown, delta="delta " + shown, help="help " + shown)
st.subheader("subheader " + shown, anchor=False)
st.title("title " + shown, anchor=False)
with st.expander("expander " + shown):
    st.write("inside")
st.tabs(["tab " + shown, "other"])
st.radio("radio " + shown, ["option " + shown, "other"])
st.segmented_control("segmented " + shown, ["segment " + shown, "other"])
st.table(pd.DataFrame({"name": ["table " + shown]}))
st.info("info " + shown)
st.warning("warning " + shown)
# Plain text: these show what they are given, so imported text goes in as it is.
st.selectbox("selectbox", ["selectbox " + HOSTILE, "other"])
st.multiselect("multiselect", ["multiselect " + HOSTILE], default=["multiselect " + HOSTILE])
st.dataframe(pd.DataFrame({"dataframe": ["dataframe " + HOSTILE, "https://evil.example/cell"]}))
