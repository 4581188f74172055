"""Entry point: ``python -m bot COMMAND``."""

import gc
import sys

# Importing the application makes a few hundred thousand objects that live as long as the process;
# each full collection during the imports would walk them all again. main() then freezes them.
gc.disable()
from bot.cli import main  # noqa: E402

gc.enable()

if __name__ == "__main__":
    sys.exit(main())
