import sys

from unified_supply_chain.cli import main

sys.exit(main())
