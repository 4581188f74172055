"""Entry point: ``python -m bot COMMAND``."""

import gc
import os
import sys

# citebot uses no pydantic plugin, and looking for them reads every installed package's metadata
# at the first model built: 10 ms of every command's start. Whoever sets this chooses otherwise.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

# Importing the application makes a few hundred thousand objects that live as long as the process;
# each full collection during the imports would walk them all again. main() then freezes them.
gc.disable()
from bot.cli import main  # noqa: E402

gc.enable()

if __name__ == "__main__":
    sys.exit(main())
