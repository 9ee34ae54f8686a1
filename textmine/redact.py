"""Personal-data redaction: e-mails, phone numbers, personal identity codes, IBANs, case ids.

Every text that reaches a model, a report or a redacted output passes through
:func:`redact_text`. Each kind of personal data is replaced by a placeholder such as
``<EMAIL>``; ordinary numbers (dates, "9 months", "3,84") are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd
import phonenumbers
from stdnum import iban as _iban
from stdnum.fi import hetu as _hetu
from stdnum.se import personalid as _se_pid

PLACEHOLDERS = ("<EMAIL>", "<PHONE>", "<HETU>", "<PERSONNUMMER>", "<IBAN>", "<CASE_ID>")

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_HETU = re.compile(r"\b\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]\b", re.IGNORECASE)
_SE_PID = re.compile(r"\b(?:19|20)?\d{6}[-+]?\d{4}\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
# Case, diary and application numbers: a keyword followed by an identifier, or an
# identifier shaped like one (letters and at least five digits, or 7+ digits alone).
_CASE_KEYWORD = re.compile(
    r"(?i)\b(?:dnro|dno|diaari(?:numero)?|diarie(?:nummer|nr)?|hakemus(?:numero|nro)|asia(?:numero|nro)|"
    r"ärende(?:nummer|nr)?|ansöknings(?:nummer|nr)|application\s+(?:number|no\.?|id)|case\s+(?:number|no\.?|id)|"
    r"diary\s+(?:number|no\.?))\s*[:#]?\s*([A-Z0-9][A-Z0-9/\-.]{3,})"
)
_CASE_SHAPE = re.compile(r"\b(?:[A-Z]{2,5}[-/]?\d{5,}(?:[-/]\d+)?|\d{7,})\b")
_DIGITS = re.compile(r"\d")
_PHONE_CHARS = re.compile(r"\d[\d\s\-()/.]{5,}\d")
_DATE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")


def _sub_valid(pattern: re.Pattern[str], text: str, placeholder: str, valid: object) -> str:
    def repl(m: re.Match[str]) -> str:
        return placeholder if valid(m.group(0)) else m.group(0)  # type: ignore[operator]

    return pattern.sub(repl, text)


def _iban_repl(m: re.Match[str]) -> str:
    """Replace a valid IBAN; a trailing word the pattern swallowed ("... 85 OK") is kept."""
    value = m.group(0)
    if _iban.is_valid(value):
        return "<IBAN>"
    head, _, tail = value.rpartition(" ")
    return f"<IBAN> {tail}" if head and _iban.is_valid(head) else value


def _is_se_pid(value: str) -> bool:
    return bool(_se_pid.is_valid(value)) and len(re.sub(r"\D", "", value)) in (10, 12)


def _redact_phones(text: str) -> str:
    if not _PHONE_CHARS.search(text):
        return text
    spans = []
    for region in ("FI", "SE"):
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            if not _DATE.match(match.raw_string.strip()):
                spans.append((match.start, match.end))
    if not spans:
        return text
    out, last = [], 0
    for start, end in sorted(set(spans)):
        if start < last:
            continue
        out.append(text[last:start])
        out.append("<PHONE>")
        last = end
    out.append(text[last:])
    return "".join(out)


def redact_text(text: str) -> str:
    """Return ``text`` with every kind of personal data replaced by its placeholder.

    Examples
    --------
    >>> redact_text("Mail me at anna@example.com or call 040 123 4567")
    'Mail me at <EMAIL> or call <PHONE>'
    """
    if not text:
        return text
    text = _EMAIL.sub("<EMAIL>", text)
    if not _DIGITS.search(text):
        return text
    text = _IBAN.sub(_iban_repl, text)
    text = _sub_valid(_HETU, text, "<HETU>", lambda v: _hetu.is_valid(v.upper()))
    text = _sub_valid(_SE_PID, text, "<PERSONNUMMER>", _is_se_pid)
    text = _CASE_KEYWORD.sub(lambda m: m.group(0)[: m.start(1) - m.start(0)] + "<CASE_ID>", text)
    text = _redact_phones(text)
    return _CASE_SHAPE.sub("<CASE_ID>", text)


# What each replacement of redact_text needs at the least, as patterns cheap to scan for: a
# text showing none of them is left exactly as it is. E-mail addresses need an "@"; every
# other kind is looked for only in texts with a digit, and needs five digits in a row
# (personal identity codes, case ids), an IBAN's country code and check digits, a
# phone-like digit run, or a case-number keyword.
_NEEDS_DIGITS = re.compile(r"\d{5}|[A-Z]{2}\d\d|" + _PHONE_CHARS.pattern)
_CASE_WORDS = ("dnro", "dno", "diaari", "diarie", "hakemusn", "asian", "ärende", "ansöknings", "application", "case", "diary")
_SEPARATOR = "\x00"  # matched by none of the patterns


def _may_hold_personal_data(texts: list[str]) -> set[int]:
    """Positions of the texts that redact_text might change (a superset, found by scanning
    the texts joined into one string: one search per pattern instead of six per text)."""
    hits = {i for i, t in enumerate(texts) if "@" in t}
    digits = [i for i, t in enumerate(texts) if _DIGITS.search(t)]
    joined = _SEPARATOR.join(texts[i] for i in digits)
    folded = joined.casefold()
    if joined.count(_SEPARATOR) != max(len(digits) - 1, 0) or len(folded) != len(joined):
        return hits | set(digits)
    ends = np.cumsum([len(texts[i]) + 1 for i in digits])  # just past each text's separator

    def holding(starts: list[int]) -> set[int]:
        return {digits[k] for k in np.searchsorted(ends, starts, side="right").tolist()}

    found = holding([m.start() for m in _NEEDS_DIGITS.finditer(joined)])
    keywords: list[int] = []
    for word in _CASE_WORDS:
        at = folded.find(word)
        while at != -1:
            keywords.append(at)
            at = folded.find(word, at + 1)
    # "application" and "case" are common words: only texts where the case-number pattern
    # itself matches need it (any earlier replacement needs a pattern found above)
    found |= {i for i in holding(keywords) - found if _CASE_KEYWORD.search(texts[i])}
    return hits | found


def redact_texts(texts: Iterable[object]) -> list[str]:
    """Redact many texts, working once per distinct text; missing values become ''."""
    clean = ["" if value is None or (isinstance(value, float) and value != value) else str(value) for value in texts]
    distinct = list(dict.fromkeys(clean))
    redacted = {distinct[i]: redact_text(distinct[i]) for i in _may_hold_personal_data(distinct)}
    return [redacted.get(text, text) for text in clean]


def redact(df: pd.DataFrame, *, columns: list[str] | None = None) -> pd.DataFrame:
    """Return a copy of ``df`` whose text columns are redacted (same index and order).

    Parameters
    ----------
    columns:
        Columns to redact; by default every column of strings.
    """
    out = df.copy()
    if columns is None:
        columns = [c for c in df.columns if df[c].dtype == object or pd.api.types.is_string_dtype(df[c])]
    for col in columns:
        values = out[col]
        mask = values.notna()
        out.loc[mask, col] = redact_texts(values[mask].astype(str))
    return out
