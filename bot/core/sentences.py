"""Sentence boundaries: pysbd 0.3.4's English rules, each pattern compiled once.

pysbd (``Segmenter(language="en", clean=False)``) decides where citebot's sentences start and end,
and the evaluation scorer judges answers by the same sentences. It is also what made building a
large index slow: it builds its regular expressions from strings on every call, and a pattern made
from each sentence to find it again in the text (plus one per abbreviation and case met) overflows
the 512 patterns that ``re`` keeps compiled, so most calls compile again: 224,684 compiles for
72,768 paragraphs.

This module runs the same steps in the same order with pysbd's own rule strings (read from its
classes, not copied), compiled once, and skips a step only where it cannot change the text: a rule
whose pattern needs a character the text does not hold, an abbreviation that is never followed by
a period after a space, an alphabetical list of fewer than two items, and the escaping of regex
characters that pysbd undoes straight after. Sentences are found again in the paragraph with
``str.find`` where pysbd compiles a pattern of each. The output is pysbd's, sentence for sentence;
the tests compare the two on tricky text, and the pysbd version is pinned in pyproject.toml.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from pysbd.between_punctuation import BetweenPunctuation as _Between
from pysbd.exclamation_words import ExclamationWords as _Exclamations
from pysbd.lang.english import English as _English
from pysbd.lists_item_replacer import ListItemReplacer as _Lists
from pysbd.punctuation_replacer import EscapeRegexReservedCharacters as _Escape
from pysbd.punctuation_replacer import SubEscapedRegexReservedCharacters as _Unescape
from pysbd.utils import Rule

__all__ = ["segment"]

_Gate = Callable[[str], object]
# A pattern that only matches one fixed string: plain characters and escaped punctuation.
_LITERAL = re.compile(r"(?:\\[^A-Za-z0-9]|[^\\.^$*+?{}\[\]|()])+")


def _literal(needle: str) -> _Gate:
    return lambda text: needle in text


def _finds(pattern: str, flags: int = 0) -> _Gate:
    return re.compile(pattern, flags).search


class _Rules:
    """pysbd rules compiled, each with a test that any match of it needs (None: always run it).

    A rule whose pattern matches one fixed string needs that string. ``gates`` gives the test of
    others, by pattern, where it is cheaper than the pattern: one that starts with a literal
    character, which ``re`` finds fast. When every rule has a fixed string, one search for their
    first characters tells that none can match.
    """

    __slots__ = ("any_first", "firsts", "rules")

    def __init__(self, *rules: Rule, gates: dict[str, _Gate] | None = None) -> None:
        gates = dict(gates or {})
        unknown = set(gates) - {rule.pattern for rule in rules}
        if unknown:
            raise ValueError(f"gates for no rule: {sorted(unknown)}")
        compiled: list[tuple[_Gate | None, re.Pattern[str], str]] = []
        firsts: set[str] | None = set()
        for rule in rules:
            gate = gates.get(rule.pattern)
            if _LITERAL.fullmatch(rule.pattern):
                needle = re.sub(r"\\(.)", r"\1", rule.pattern)
                gate = gate or _literal(needle)
                if firsts is not None:
                    firsts.add(needle[0])
            else:
                firsts = None
            compiled.append((gate, re.compile(rule.pattern), rule.replacement))
        self.rules = tuple(compiled)
        self.firsts = "".join(sorted(firsts)) if firsts else None
        self.any_first = _any_of(self.firsts) if self.firsts else None


def _any_of(characters: str) -> Callable[[str], object]:
    return re.compile("[" + "".join(re.escape(c) for c in characters) + "]").search


def _rules(*rules: Rule, gates: dict[str, _Gate] | None = None) -> _Rules:
    return _Rules(*rules, gates=gates)


def _apply(rules: _Rules, text: str) -> str:
    if rules.any_first is not None and not rules.any_first(text):
        return text
    for gate, pattern, replacement in rules.rules:
        if gate is None or gate(text):
            text = pattern.sub(replacement, text)
    return text


_PUNCTUATIONS = tuple(_English.Punctuations)

# --- pysbd.punctuation_replacer.replace_punctuation ------------------------------------------------
# pysbd escapes ( ) [ ] - with a backslash before these replacements and unescapes them after.
# The replacements touch neither those characters nor a backslash, so unescaping removes exactly
# the backslashes escaping added: the pair leaves the text as it was, and is skipped (the check
# below fails at import if pysbd's rules ever stop being such a pair).
_ESCAPED = "()[]-"
_ESCAPING = [(rf"\{c}", rf"\{c}") for c in _ESCAPED]
_UNESCAPING = [(rf"\\\{c}", c) for c in _ESCAPED]
if [(r.pattern, r.replacement) for r in _Escape.All] != _ESCAPING or [
    (r.pattern, r.replacement) for r in _Unescape.All
] != _UNESCAPING:
    raise ImportError("pysbd's regex-escaping rules changed: bot.core.sentences must apply them")
_PUNCTUATION_MARKS = _rules(
    Rule(r"\.", "∯"),
    Rule(r"\。", "&ᓰ&"),
    Rule(r"\．", "&ᓱ&"),
    Rule(r"\！", "&ᓳ&"),
    Rule(r"\!", "&ᓴ&"),
    Rule(r"\?", "&ᓷ&"),
    Rule(r"\？", "&ᓸ&"),
)
_APOSTROPHE = re.compile(r"'")


def _replace_punctuation(match: re.Match[str], match_type: str | None = None) -> str:
    text = _apply(_PUNCTUATION_MARKS, match.group())
    if match_type != "single":
        text = _APOSTROPHE.sub("&⎋&", text)
    return text


def _replace_punctuation_single(match: re.Match[str]) -> str:
    return _replace_punctuation(match, match_type="single")


# --- pysbd.lists_item_replacer.ListItemReplacer -----------------------------------------------------
_ROMAN = _Lists.ROMAN_NUMERALS
_LATIN = _Lists.LATIN_NUMERALS
_ALPHA_WITH_PERIODS = re.compile(_Lists.ALPHABETICAL_LIST_WITH_PERIODS)
_ALPHA_WITH_PARENS = re.compile(_Lists.ALPHABETICAL_LIST_WITH_PARENS)
_ALPHA_LETTERS_AND_PERIODS = re.compile(_Lists.ALPHABETICAL_LIST_LETTERS_AND_PERIODS_REGEX, re.IGNORECASE)
_ALPHA_LETTERS_PARENS = re.compile(_Lists.EXTRACT_ALPHABETICAL_LIST_LETTERS_REGEX, re.IGNORECASE)
_NUMBERED_1 = re.compile(_Lists.NUMBERED_LIST_REGEX_1)
_NUMBERED_2 = re.compile(_Lists.NUMBERED_LIST_REGEX_2)
_NUMBERED_PARENS = re.compile(_Lists.NUMBERED_LIST_PARENS_REGEX)
_ROMAN_IN_PARENS = re.compile(_Lists.ROMAN_NUMERALS_IN_PARENTHESES)
_LIST_PERIOD_ITEMS = re.compile("♨.+(\n|\r).+♨")
_LIST_FOR_NUMBER = re.compile(r"for\s\d{1,2}♨\s[a-z]")
_LIST_PARENS_ITEMS = re.compile("☝.+\n.+☝|☝.+\r.+☝")
# What any match of the list patterns needs, found from its period or parenthesis.
_LETTER_PERIOD = re.compile(r"\.(?<![^\s][a-z]\.)(?<=[a-z]\.)")  # a lone a-z first or after a space
_LETTER_PAREN = re.compile(r"\)(?<=[a-z]\))")
# An alphabetical list changes the text only with two items or more (a lone item is never next
# to another), and every item the two list patterns keep is one of these: a letter or a roman
# numeral of up to five letters (pysbd's lists stop at "xx"), after a space, a bracket or nothing.
_PERIOD_ITEM = re.compile(r"(?:\s|\A)[a-z]\.")
_PAREN_ITEM = re.compile(r"(?:[\s(]|\A)(?:[a-z]|[ivx]{2,5})\)")


def _two_items(items: re.Pattern[str], text: str) -> bool:
    found = items.finditer(text)
    return next(found, None) is not None and next(found, None) is not None


_DIGIT_PERIOD_ITEM = re.compile(r"\.(?<=\d\.)(?=[\s)])")  # every NUMBERED_LIST_REGEX_1 alternative
_DIGIT_PAREN_ITEM = re.compile(r"\)(?<=\d\))(?=\s)")
_SPACE_BETWEEN_PERIOD_ITEMS = _rules(
    _Lists.SpaceBetweenListItemsFirstRule, _Lists.SpaceBetweenListItemsSecondRule
)
_SPACE_BETWEEN_PARENS_ITEMS = _rules(_Lists.SpaceBetweenListItemsThirdRule)
_LIST_PERIOD = _rules(_Lists.SubstituteListPeriodRule)
_LIST_MARKER = _rules(_Lists.ListMarkerRule)


def _replace_alphabet_list(text: str, letter: str) -> str:
    def replace(match: re.Match[str]) -> str:
        found = match.group()
        bare = found.strip(".")
        return f"\r{bare}∯" if bare == letter else found

    return _ALPHA_LETTERS_AND_PERIODS.sub(replace, text)


def _replace_alphabet_list_parens(text: str, letter: str) -> str:
    def replace(match: re.Match[str]) -> str:
        found = match.group()
        if "(" in found:
            bare = found.strip("(")
            return f"\r&✂&{bare}" if bare == letter else found
        return f"\r{found}" if found == letter else found

    return _ALPHA_LETTERS_PARENS.sub(replace, text)


def _iterate_alphabet_array(text: str, regex: re.Pattern[str], parens: bool, roman: bool) -> str:
    alphabet = _ROMAN if roman else _LATIN
    items = [i for i in regex.findall(text) if i in alphabet]
    last = len(items) - 1
    for ind, each in enumerate(items):
        # pysbd's last_array_item_replacement / other_items_replacement; items[ind - 1] wraps around.
        if each not in alphabet or items[ind - 1] not in alphabet:
            continue
        if ind == last:
            if abs(alphabet.index(items[ind - 1]) - alphabet.index(each)) != 1:
                continue
        else:
            if items[ind + 1] not in alphabet:
                continue
            if (
                alphabet.index(items[ind + 1]) - alphabet.index(each) != 1
                and abs(alphabet.index(items[ind - 1]) - alphabet.index(each)) != 1
            ):
                continue
        text = _replace_alphabet_list_parens(text, each) if parens else _replace_alphabet_list(text, each)
    return text


def _substitute_list_items(text: str, regex: re.Pattern[str], each: int, strip: bool, marker: str) -> str:
    def replace(match: re.Match[str]) -> str:
        found = match.group()
        if strip:
            found = found.strip()
        chomped = found if len(found) == 1 else found.strip(".])")
        return f"{each}{marker}" if str(each) == chomped else found

    return regex.sub(replace, text)


def _scan_lists(
    text: str, regex1: re.Pattern[str], regex2: re.Pattern[str], marker: str, strip: bool = False
) -> str:
    numbers = [int(found) for found in regex1.findall(text)]
    for ind, item in enumerate(numbers):
        next_follows = ind < len(numbers) - 1 and item + 1 == numbers[ind + 1]
        follows_previous = ind > 0 and (
            item - 1 == numbers[ind - 1]
            or (item == 0 and numbers[ind - 1] == 9)
            or (item == 9 and numbers[ind - 1] == 0)
        )
        if next_follows or follows_previous:
            text = _substitute_list_items(text, regex2, item, strip, marker)
    return text


def _add_list_line_breaks(text: str) -> str:
    """``ListItemReplacer(text).add_line_break()``."""
    if _LETTER_PERIOD.search(text) and _two_items(_PERIOD_ITEM, text):
        text = _iterate_alphabet_array(text, _ALPHA_WITH_PERIODS, parens=False, roman=False)
    if _LETTER_PAREN.search(text) and _two_items(_PAREN_ITEM, text):
        text = _iterate_alphabet_array(text, _ALPHA_WITH_PARENS, parens=True, roman=False)
    if _LETTER_PERIOD.search(text) and _two_items(_PERIOD_ITEM, text):
        text = _iterate_alphabet_array(text, _ALPHA_WITH_PERIODS, parens=False, roman=True)
    if _LETTER_PAREN.search(text) and _two_items(_PAREN_ITEM, text):
        text = _iterate_alphabet_array(text, _ALPHA_WITH_PARENS, parens=True, roman=True)
    # Numbered lists with periods.
    if _DIGIT_PERIOD_ITEM.search(text):
        text = _scan_lists(text, _NUMBERED_1, _NUMBERED_2, "♨", strip=True)
    if "♨" in text:
        if not _LIST_PERIOD_ITEMS.search(text) and not _LIST_FOR_NUMBER.search(text):
            text = _apply(_SPACE_BETWEEN_PERIOD_ITEMS, text)
        text = _apply(_LIST_PERIOD, text)
    # Numbered lists with parentheses.
    if _DIGIT_PAREN_ITEM.search(text):
        text = _scan_lists(text, _NUMBERED_PARENS, _NUMBERED_PARENS, "☝")
        text = _scan_lists(text, _NUMBERED_PARENS, _NUMBERED_PARENS, "☝")
    if "☝" in text:
        if not _LIST_PARENS_ITEMS.search(text):
            text = _apply(_SPACE_BETWEEN_PARENS_ITEMS, text)
        text = _apply(_LIST_MARKER, text)
    return text


# --- pysbd.abbreviation_replacer.AbbreviationReplacer (English) --------------------------------------
_Abbr = _English.Abbreviation
_PREPOSITIVE = frozenset(_Abbr.PREPOSITIVE_ABBREVIATIONS)
_NUMBER_ABBREVIATIONS = frozenset(_Abbr.NUMBER_ABBREVIATIONS)
_BEFORE_ABBREVIATIONS = _rules(
    _English.PossessiveAbbreviationRule,
    _English.KommanditgesellschaftRule,
    *_English.SingleLetterAbbreviationRules.All,
    gates={
        _English.PossessiveAbbreviationRule.pattern: _literal(".'s"),
        r"(?<=Co)\.(?=\sKG)": _literal("KG"),
        r"(?<=^[A-Z])\.(?=\s)": lambda text: text[1:2] == ".",
        r"(?<=\s[A-Z])\.(?=,?\s)": _finds(r"\.(?<=\s[A-Z]\.)"),
    },
)
_MULTI_PERIOD_ABBREVIATION = re.compile(_English.MULTI_PERIOD_ABBREVIATION_REGEX, re.IGNORECASE)
_LETTER_PERIOD_LETTER_PERIOD = re.compile(r"\.(?<=[a-z]\.)(?=[a-z]\.)", re.IGNORECASE)
_AM_PM = _rules(*_English.AmPmRules.All)
_STARTERS = "|".join(rf"(?=\s{word}\s)" for word in _English.AbbreviationReplacer.SENTENCE_STARTERS)
_ABBREVIATION_AS_BOUNDARY = re.compile(rf"(U∯S|U\.S|U∯K|E∯U|E\.U|U∯S∯A|U\.S\.A|I|i.v|I.V)∯({_STARTERS})")


class _Abbreviation:
    """One of pysbd's English abbreviations; the two patterns it searches with, compiled when first needed."""

    __slots__ = ("_found", "_next_word", "dotted", "stripped")

    def __init__(self, abbreviation: str) -> None:
        self.stripped = abbreviation.strip()
        self.dotted = not self.stripped.isalpha()
        self._found: re.Pattern[str] | None = None
        self._next_word: re.Pattern[str] | None = None

    @property
    def found(self) -> re.Pattern[str]:
        if self._found is None:
            # pysbd does not escape the abbreviation here: the period of "e.g" matches any character.
            self._found = re.compile(rf"(?:^|\s|\r|\n){self.stripped}", re.IGNORECASE)
        return self._found

    @property
    def next_word(self) -> re.Pattern[str]:
        if self._next_word is None:
            # The braces are literal: this finds nothing in ordinary text, as in pysbd.
            self._next_word = re.compile(r"(?<={" + re.escape(self.stripped) + "} ).{1}")
        return self._next_word


_ABBREVIATIONS = tuple(_Abbreviation(a) for a in _Abbr.ABBREVIATIONS)
_LETTER_ABBREVIATIONS = {a.stripped: i for i, a in enumerate(_ABBREVIATIONS) if not a.dotted}
_DOTTED_ABBREVIATIONS = tuple(i for i, a in enumerate(_ABBREVIATIONS) if a.dotted)
# An abbreviation changes the text only where it follows a space (or starts the text) and a
# period follows it: each replacement turns that period into ∯. The words of the text that hold a
# period, up to the first one, are all the abbreviations that can (case folded as re.IGNORECASE
# folds them); the others are skipped.
# Characters that re.IGNORECASE matches with an ASCII letter other than by str.lower().
_ASCII_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})


@lru_cache(maxsize=4096)
def _abbreviation_period(kind: str, abbreviation: str) -> re.Pattern[str]:
    if kind == "prepositive":
        return re.compile(rf"(?<=\s{abbreviation})\.(?=(\s|:\d+))")
    if kind == "number":
        return re.compile(rf"(?<=\s{abbreviation})\.(?=(\s\d|\s+\())")
    escaped = re.escape(abbreviation)
    return re.compile(rf"(?<=\s{escaped})\.(?=((\.|\:|-|\?|,)|(\s([a-z]|I\s|I'm|I'll|\d|\())))")


def _scan_for_replacements(text: str, found: str, ind: int, next_chars: list[str]) -> str:
    char = next_chars[ind] if ind < len(next_chars) else ""
    key = found.strip().lower()
    if char.isupper() and key not in _PREPOSITIVE:
        return text
    if key in _PREPOSITIVE:
        kind = "prepositive"
    elif key in _NUMBER_ABBREVIATIONS:
        kind = "number"
    else:
        kind = "other"
    return _abbreviation_period(kind, found.strip()).sub("∯", " " + text)[1:]


def _abbreviations_in_line(text: str, candidates: Iterable[int]) -> str:
    lowered = text.lower()
    for index in candidates:
        abbreviation = _ABBREVIATIONS[index]
        if abbreviation.stripped not in lowered:
            continue
        found = abbreviation.found.findall(text)
        if not found:
            continue
        next_chars = abbreviation.next_word.findall(text)
        for ind, match in enumerate(found):
            text = _scan_for_replacements(text, match, ind, next_chars)
    return text


def _replace_abbreviations(text: str) -> str:
    text = _apply(_BEFORE_ABBREVIATIONS, text)
    words = {w.partition(".")[0].translate(_ASCII_FOLD).lower() for w in text.split() if "." in w}
    candidates = sorted(
        {_LETTER_ABBREVIATIONS[w] for w in words if w in _LETTER_ABBREVIATIONS}.union(_DOTTED_ABBREVIATIONS)
    )
    text = "".join(_abbreviations_in_line(line, candidates) for line in text.splitlines(True))
    if _LETTER_PERIOD_LETTER_PERIOD.search(text):
        text = _MULTI_PERIOD_ABBREVIATION.sub(lambda m: m.group().replace(".", "∯"), text)
    if "∯" in text:
        text = _apply(_AM_PM, text)
        text = _ABBREVIATION_AS_BOUNDARY.sub("\\1.", text)
    return text


# --- pysbd.processor.Processor ----------------------------------------------------------------------
_NUMBERS = _rules(
    *_English.Numbers.All,
    gates={
        r"(?<=\d)\.(?=\S)": _finds(r"\.(?<=\d\.)"),
        r"(?<=\r\d)\.(?=(\s\S)|\))": _literal("\r"),
        r"(?<=^\d)\.(?=(\s\S)|\))": lambda text: text[1:2] == ".",
        r"(?<=^\d\d)\.(?=(\s\S)|\))": lambda text: text[2:3] == ".",
    },
)
_CONTINUOUS_PUNCTUATION = re.compile(_English.CONTINUOUS_PUNCTUATION_REGEX)
_NUMBERED_REFERENCE = re.compile(_English.NUMBERED_REFERENCE_REGEX)
_PERIOD_BEFORE_REFERENCE = re.compile(r"\.(?=[\[\d])")
_MARK_BEFORE_REFERENCE = re.compile(r"∯(?=[\[\d])")
_PERIOD_RULES = _rules(
    _English.Abbreviation.WithMultiplePeriodsAndEmailRule,
    _English.GeoLocationRule,
    _English.FileFormatRule,
    gates={
        _English.Abbreviation.WithMultiplePeriodsAndEmailRule.pattern: _finds(
            r"\.(?<=[a-zA-Z0-9_]\.)(?=[a-zA-Z0-9_])"
        ),
        _English.GeoLocationRule.pattern: _literal("°"),
        _English.FileFormatRule.pattern: _finds(r"\.(?<=\s\.)"),
    },
)
_PARENS_BETWEEN_DOUBLE_QUOTES = re.compile(_English.PARENS_BETWEEN_DOUBLE_QUOTES_REGEX)
_SPACE_BEFORE_PAREN = re.compile(r"\s(?=\()")
_SPACE_AFTER_PAREN = re.compile(r"(?<=\))\s")
_NEWLINE_AND_ELLIPSES = _rules(
    _English.SingleNewLineRule,
    *_English.EllipsisRules.All,
    gates={
        _English.SingleNewLineRule.pattern: _literal("\n"),
        _English.EllipsisRules.ThreeSpaceRule.pattern: _finds(r"\.\s\."),
        _English.EllipsisRules.FourSpaceRule.pattern: _finds(r"\.\s\."),
        _English.EllipsisRules.FourConsecutiveRule.pattern: _literal("..."),
        _English.EllipsisRules.ThreeConsecutiveRule.pattern: _literal("..."),
    },
)
# Each of those rules needs a newline, three periods in a row, or a period, a space and a period.
_SPACED_PERIODS = re.compile(r"\.\s\.")
_SUB_SYMBOLS = _rules(*_English.SubSymbolsRules.All)
_SUB_SINGLE_QUOTE = _rules(_English.SubSingleQuoteRule)
_REINSERT_ELLIPSES = _rules(*_English.ReinsertEllipsisRules.All)
# Every character any of the last three substitutions starts from: a piece without one skips them.
_MARKERS = [r.firsts for r in (_SUB_SYMBOLS, _SUB_SINGLE_QUOTE, _REINSERT_ELLIPSES)]
if None in _MARKERS:
    raise ImportError("pysbd's symbol rules are no longer plain strings: _MARKED cannot gate them")
_MARKED = _any_of("".join(m for m in _MARKERS if m))
_ALL_LETTERS = re.compile(r"\A[a-zA-Z]*\Z")
_QUOTATION_AT_END = re.compile(_English.QUOTATION_AT_END_OF_SENTENCE_REGEX)
_SPLIT_QUOTATION_AT_END = re.compile(_English.SPLIT_SPACE_QUOTATION_AT_END_OF_SENTENCE_REGEX)
_EXCLAMATION_WORDS = re.compile(_Exclamations.EXCLAMATION_REGEX)
_DOUBLE_PUNCTUATION = re.compile(_English.DoublePunctuationRules.DoublePunctuation)
_DOUBLE_PUNCTUATION_RULES = _rules(*_English.DoublePunctuationRules.All)
_QUOTE_AND_EXCLAMATION = _rules(
    _English.QuestionMarkInQuotationRule,
    *_English.ExclamationPointRules.All,
    gates={
        _English.QuestionMarkInQuotationRule.pattern: _literal("?"),
        **{rule.pattern: _literal("!") for rule in _English.ExclamationPointRules.All},
    },
)
_FINAL_EXCLAMATION = re.compile(r"&ᓴ&$")
_SENTENCE_BOUNDARY = re.compile(_English.SENTENCE_BOUNDARY_REGEX)

_LEADING_APOSTROPHE_WORD = re.compile(_Between.WORD_WITH_LEADING_APOSTROPHE)
_APOSTROPHE_SPACE = re.compile(r"'\s")
_BETWEEN_SINGLE_QUOTES = re.compile(_Between.BETWEEN_SINGLE_QUOTES_REGEX)
# (what every match holds, pattern), in the order of BetweenPunctuation's replace().
_BETWEEN: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("‘", re.compile(_Between.BETWEEN_SINGLE_QUOTE_SLANTED_REGEX)),
    ('"', re.compile(_Between.BETWEEN_DOUBLE_QUOTES_REGEX_2)),
    ("[", re.compile(_Between.BETWEEN_SQUARE_BRACKETS_REGEX_2)),
    ("(", re.compile(_Between.BETWEEN_PARENS_REGEX_2)),
    ("«", re.compile(_Between.BETWEEN_QUOTE_ARROW_REGEX_2)),
    ("--", re.compile(_Between.BETWEEN_EM_DASHES_REGEX_2)),
    ("“", re.compile(_Between.BETWEEN_QUOTE_SLANTED_REGEX_2)),
)


def _continuous_punctuation(match: re.Match[str]) -> str:
    return match.group().replace("!", "&ᓴ&").replace("?", "&ᓷ&")


def _between_punctuation(text: str) -> str:
    if "'" in text and not (_LEADING_APOSTROPHE_WORD.search(text) and not _APOSTROPHE_SPACE.search(text)):
        text = _BETWEEN_SINGLE_QUOTES.sub(_replace_punctuation_single, text)
    for needed, pattern in _BETWEEN:
        if needed in text:
            text = pattern.sub(_replace_punctuation, text)
    return text


def _process_text(text: str) -> list[str]:
    if text[-1] not in _PUNCTUATIONS:
        text += "ȸ"
    if "!" in text or "ǃ" in text:  # every exclamation word holds one or the other
        text = _EXCLAMATION_WORDS.sub(_replace_punctuation, text)
    text = _between_punctuation(text)
    if not _DOUBLE_PUNCTUATION.match(text):
        text = _apply(_DOUBLE_PUNCTUATION_RULES, text)
    text = _apply(_QUOTE_AND_EXCLAMATION, text)
    if "(" in text:
        text = _ROMAN_IN_PARENS.sub(r"&✂&\1&⌬&", text)
    text = _FINAL_EXCLAMATION.sub("!", text)
    return [m.group() for m in _SENTENCE_BOUNDARY.finditer(text)]


def _post_process(text: str, marked: bool = True) -> str | list[str]:
    if len(text) > 2 and _ALL_LETTERS.search(text):
        return text
    if marked:
        text = _apply(_REINSERT_ELLIPSES, text)
    if _QUOTATION_AT_END.search(text):
        return _SPLIT_QUOTATION_AT_END.split(text)
    return text.replace("\n", "").strip()


def _flatten(items: list[Any]) -> list[str]:
    """``Processor.rm_none_flatten``: drops empty items, then unpacks lists (keeping their empties)."""
    items = [i for i in items if i]
    out: list[str] = []
    for item in items:
        if isinstance(item, list):
            out.extend(item)
        else:
            out.append(item)
    return out


def _paren_between_quotes(match: re.Match[str]) -> str:
    return _SPACE_AFTER_PAREN.sub("\r", _SPACE_BEFORE_PAREN.sub("\r", match.group()))


def _split_into_segments(text: str) -> list[str]:
    if "(" in text:
        text = _PARENS_BETWEEN_DOUBLE_QUOTES.sub(_paren_between_quotes, text)
    segments = _flatten(text.split("\r"))
    segments = [
        _apply(_NEWLINE_AND_ELLIPSES, s) if "\n" in s or "..." in s or _SPACED_PERIODS.search(s) else s
        for s in segments
    ]
    pieces = _flatten([_process_text(s) if any(p in s for p in _PUNCTUATIONS) else [s] for s in segments])
    sentences: list[str] = []
    for piece in pieces:
        # Most pieces hold no marker the three substitutions replace, and a sentence holds only
        # what its piece held: for those, the substitutions are skipped.
        marked = _MARKED(piece) is not None
        processed = _post_process(_apply(_SUB_SYMBOLS, piece) if marked else piece, marked)
        found = processed if isinstance(processed, list) else [processed] if processed else []
        sentences.extend([_apply(_SUB_SINGLE_QUOTE, s) for s in found] if marked else found)
    return sentences


def _process(text: str) -> list[str]:
    """``Processor(text, English).process()``: pysbd's sentences, before they are found in the text."""
    text = text.replace("\n", "\r")
    text = _add_list_line_breaks(text)
    text = _replace_abbreviations(text)
    text = _apply(_NUMBERS, text)
    if "!!" in text or "??" in text or "!?" in text or "?!" in text:
        text = _CONTINUOUS_PUNCTUATION.sub(_continuous_punctuation, text)
    if _PERIOD_BEFORE_REFERENCE.search(text) or ("∯" in text and _MARK_BEFORE_REFERENCE.search(text)):
        text = _NUMBERED_REFERENCE.sub(r"∯\2\r\7", text)
    text = _apply(_PERIOD_RULES, text)
    return _split_into_segments(text)


_TRAILING_SPACE = re.compile(r"\s*")


def segment(text: str) -> list[str]:
    """What ``pysbd.Segmenter(language="en", clean=False).segment(text)`` returns.

    Each sentence is found again in ``text`` from the end of the one before, with the whitespace
    after it; a sentence that cannot be found is dropped, as pysbd does.
    """
    if not text:
        return []
    found: list[str] = []
    prior_end = 0
    for sentence in _process(text):
        if not sentence:
            # pysbd's re.finditer(r"\s*", text): the first (possibly empty) match ending past prior_end.
            for match in _TRAILING_SPACE.finditer(text):
                if match.end() > prior_end:
                    found.append(match.group())
                    prior_end = match.end()
                    break
            continue
        position = 0
        while True:
            start = text.find(sentence, position)
            if start < 0:
                break
            end = start + len(sentence)
            while end < len(text) and text[end].isspace():
                end += 1
            if end > prior_end:
                found.append(text[start:end])
                prior_end = end
                break
            position = end
    return found
