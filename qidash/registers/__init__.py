"""Starting from the public registers (DESIGN.md section 9): CQC's care homes, ODS's GP practices,
PCNs and trusts, and ONS's postcode lookup, read as published and loaded for one ICB.

- :mod:`tables`: reading .ods, .xlsx and CSV rows (streaming); :mod:`cqc`, :mod:`ods`, :mod:`epcn`,
  :mod:`postcodes`: one module per register; :mod:`lookups`: the ICB and sub-ICB lookups and the
  boundaries shipped in data/;
- :func:`plan` reads the files and plans the load per kind; :func:`preview` and :func:`load` carry
  it out through the import path (qidash.ingest).
"""

from qidash.registers.load import ICB_SETTING, TOWNS_SETTING, load, preview
from qidash.registers.plan import KindPlan, Plan, plan
from qidash.registers.tables import RegisterError

__all__ = ["ICB_SETTING", "TOWNS_SETTING", "KindPlan", "Plan", "RegisterError", "load", "plan", "preview"]
