"""The Telegram front: python-telegram-bot over the shared runtime; it imports no discord module.

- :mod:`.front`: the application, start-up (getMe, commands), polling or the webhook, shutdown;
- :mod:`.handlers`: which updates are questions, commands, button presses and inline queries;
- :mod:`.flow`: the one answer flow (cooldown → validate → answer → render → send → log);
- :mod:`.render`: the platform-free presentation as Telegram HTML and inline keyboards;
- :mod:`.limits`: Telegram's sending limits, and waiting out its 429s;
- :mod:`.webhook`: the aiohttp server Telegram pushes updates to, secret-token checked;
- :mod:`.errors`: the one error handler.
"""

import os

# python-telegram-bot 22 reports time periods (RetryAfter.retry_after) as timedelta once this is
# set, and warns on every access otherwise; the code here reads both forms.
os.environ.setdefault("PTB_TIMEDELTA", "true")
