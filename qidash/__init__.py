"""qidash: QI capability across an Integrated Care System."""
