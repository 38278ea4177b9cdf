"""`python -m agentmem.cli …` runs the `agentmem` command (how `serve` starts its worker)."""

import sys

from agentmem.cli.main import main

sys.exit(main())
