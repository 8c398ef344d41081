import sys

from privacyctl.cli import main

sys.exit(main())
