"""The answer path, one module per stage, in the order a question goes through them.

1. :mod:`~bot.core.pipeline.analysis`: what the question asks and what kind of answer it wants.
2. :mod:`~bot.core.pipeline.retrieval`: the question's weighted terms and the candidate sentences.
3. :mod:`~bot.core.pipeline.features`: what each candidate has that an answer has.
4. :mod:`~bot.core.pipeline.ranking`: the fitted ranking model orders the candidates.
5. :mod:`~bot.core.pipeline.answerability`: the fitted answerability model gives the probability
   that the first candidate answers the question; a few categorical rules decline outright.
6. :mod:`~bot.core.pipeline.selection`: the one to three sentences cited.

:class:`~bot.core.service.QAService` runs them; :mod:`bot.core.model` loads the fitted models.
"""

# The package only groups the stages: import each from its own module.
__all__: list[str] = []
