"""The one rule for text that comes in (a form field, a JSON string, a command-line
argument, a cell of an imported file): any Unicode character XML 1.0 can hold.

Refused are the control characters but tab, line feed and carriage return (U+0000–U+0008,
U+000B, U+000C, U+000E–U+001F), half a surrogate pair (U+D800–U+DFFF alone: no UTF-8 text
holds one) and the non-characters U+FFFE and U+FFFF. PostgreSQL cannot store a NUL; the
tumour-board PDF, the iCalendar and FHIR exports and the HTML pages cannot carry the
others; and a text stored on one database must be stored on the other too. So such text
is refused where it is read, as the input it is, never passed on to fail as a database
outage or a broken document later.

A field may have a stricter rule of its own (a case label, a registry id).

Names (of drugs, of allergy substances, the words of the case format's values) are
compared in one form, :func:`name_form`: compatibility forms and accents set aside, format
characters (a zero-width space, a soft hyphen, a direction mark) dropped, case folded. A
letter that is still no letter a to z then (a Cyrillic "о" among Latin letters, a Greek
"е" or any other script) is no letter of a name pecoma reads: :func:`odd_words` finds the
words holding one, so that such a name is never taken for the name it looks like, nor for
no name at all.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Final

__all__ = ["TEXT_RULE", "escaped", "letter_named", "name_form", "odd_letters_shown",
           "odd_text_at", "odd_words", "shown", "text_is_odd"]

TEXT_RULE = ("must be plain text: no control character but tab, line feed and carriage "
             "return, no unpaired surrogate, no U+FFFE or U+FFFF")

_ODD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def text_is_odd(text: str) -> bool:
    """Whether ``text`` holds a character :data:`TEXT_RULE` refuses."""
    return _ODD.search(text) is not None


def escaped(text: str) -> str:
    """``text`` with each refused character written as its escape (``\\x00``,
    ``\\ud800``): it can be read, and it cannot break the message's page or file."""
    return _ODD.sub(lambda m: f"\\u{ord(m.group()):04x}" if ord(m.group()) > 0xFF
                    else f"\\x{ord(m.group()):02x}", text)


def shown(text: str, limit: int = 60) -> str:
    """``text`` quoted for a message, written as :func:`escaped`."""
    quoted = "'" + escaped(text).replace("'", "\\'") + "'"
    return quoted if len(quoted) <= limit else quoted[: limit - 1] + "…"


def odd_text_at(value: Any, path: str = "") -> tuple[str, str] | None:
    """The path (``a.b[0].c``; ``""`` for ``value`` itself) and the text of the first
    string or object key in nested data that holds a refused character, or ``None``."""
    if isinstance(value, str):
        return (path, value) if text_is_odd(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and text_is_odd(key):
                return inner, key
            found = odd_text_at(item, inner)
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = odd_text_at(item, f"{path}[{i}]")
            if found is not None:
                return found
    return None


#: The micro sign (Unicode folds it to the Greek letter mu) before a unit, as a dose is
#: written ("10 µg", "µmol"): written "u", as "ug" is; a mu anywhere else is a Greek letter.
_MICRO: Final = re.compile(r"(?<![^\W\d_])\u03bc(?=(?:g|l|mol|m)(?![^\W\d_]))")


def name_form(text: str) -> str:
    """``text`` in the one form names are compared in: case folded, then in Unicode's
    compatibility decomposition (NFKD: a ligature, a full-width or a superscript letter is
    its plain letters) with every mark left out (accents: "Évérolimus" is "everolimus";
    a combining overlay too) and every format character (Unicode category Cf: U+200B zero
    width space, U+200C and U+200D zero width non-joiner and joiner, U+2060 word joiner,
    U+00AD soft hyphen, U+FEFF, the direction marks and embeddings); the micro sign of a
    unit is "u" ("µg" is "ug"). Nothing that shows on a screen is changed but for its
    accents, case and width: a letter of another alphabet stays what it is
    (:func:`odd_words`)."""
    if text.isascii():
        return text.lower()
    kept = "".join(ch for ch in unicodedata.normalize("NFKD", text.casefold())
                   if unicodedata.category(ch)[0] != "M" and unicodedata.category(ch) != "Cf")
    return _MICRO.sub("u", kept)


def _odd(ch: str) -> bool:
    return ch.isalpha() and not "a" <= ch <= "z"


def odd_words(text: str) -> list[str]:
    """The words of ``text`` in :func:`name_form` holding a letter other than a to z, each
    once, in their order: a name written with a look-alike letter of another alphabet
    ("sirоlimus" with a Cyrillic о), or in another alphabet, or with a Latin letter no
    drug's name holds (a dotless ı). Digits and signs are no letters ("®", "²", "%")."""
    return list(dict.fromkeys(w for w in re.findall(r"\w+", name_form(text))
                              if any(_odd(ch) for ch in w)))


def letter_named(ch: str) -> str:
    """A character by its code point and its Unicode name: "U+043E CYRILLIC SMALL
    LETTER O"."""
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'with no name')}"


def odd_letters_shown(word: str) -> tuple[str, str]:
    """A word of :func:`odd_words` written so that it cannot be read as the word it looks
    like, each letter other than a to z as its escape (``sir\\u043elimus``), and those
    letters named (:func:`letter_named`)."""
    odd = list(dict.fromkeys(ch for ch in word if _odd(ch)))
    written = "".join(f"\\u{ord(ch):04x}" if ch in odd and ord(ch) <= 0xFFFF
                      else f"\\U{ord(ch):08x}" if ch in odd else ch for ch in word)
    return written, ", ".join(letter_named(ch) for ch in odd[:3])
