"""Fitting the engine's models on development data: ``python -m bot fit`` (see :mod:`bot.fitting.fit`)."""
