"""The Discord front: ``python -m bot discord`` (see ``run.py``)."""
