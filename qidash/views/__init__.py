"""What each page shows, shaped from the measures engine: one function per page returning a frozen
dataclass of plain values and DataFrames. No Streamlit here; pages render these."""
