import warnings

# discord.py imports the stdlib audioop (deprecated in 3.11) for voice we do not use; import it
# once here with that one warning silenced, since pytest turns warnings into errors.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord  # noqa: F401
