import sys

from qidash.cli import main

sys.exit(main())
