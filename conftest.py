"""Session-wide test settings, before any test module imports qidash.

Every test run gets a private demo folder, so demo databases are generated once per run (per xdist
worker) and never touch data/demo/. QIDASH_DB_URL and QIDASH_AUTH are cleared so the app runs in demo
mode unless a test sets them.
"""

import os
import tempfile

os.environ["QIDASH_DEMO_DIR"] = tempfile.mkdtemp(prefix="qidash-demo-")
os.environ.pop("QIDASH_DB_URL", None)
os.environ.pop("QIDASH_AUTH", None)  # sign-in's setting: a test that turns it off says so
