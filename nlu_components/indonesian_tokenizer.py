"""Indonesian tokenizer with a slang / abbreviation normaliser for Rasa 3.

Tokens come from ``spacy.blank("id").tokenizer`` (no model download, no stop-word
removal). Each token keeps its ORIGINAL text, start and end, so entity offsets refer
to the message the agent typed; its ``lemma`` holds a normalised, lower-cased form
("udh" -> "sudah", "gk" -> "tidak", "plg" -> "pelanggan", "100k" -> "100 ribu"),
which ``CountVectorsFeaturizer`` uses because its ``use_lemma`` defaults to True.

Two extra rules keep entity boundaries stable:

* a phone number (MSISDN), a 25-digit recharge serial number and an e-mail address
  are always ONE token, found with the same regular expressions the training data
  gives to ``RegexFeaturizer`` / ``RegexEntityExtractor`` (``data/nlu/regex_lookup.yml``).
  DIET can therefore only tag the whole number, never "0812" and "3456 7890" as two
  MSISDNs, and its span agrees with the regex extractor's span;
* words or codes joined by "-" or "_" ("m-kios", "GOL-2311-88812", "abu-abu") are one
  token as well.

Negations are never dropped: no token is removed except pure punctuation, and every
informal negation maps to "tidak" / "belum" / "bukan".
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import spacy
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

from sop_engine.normaliser import (  # noqa: F401 (re-exported for the tests)
    SLANG_PATH,
    UNITS,
    SlangNormalizer,
    code_shape,
    load_slang,
    number_shape,
)

DEFAULT_SLANG_FILE = SLANG_PATH

# Keep these three patterns identical to the `regex:` entries of the same names in
# data/nlu/regex_lookup.yml (a unit test compares them).
MSISDN_PATTERN = (
    r"(?<![\w+])(?<!\d[ .-])(?:\+62|62|0)[ -]?8\d{1,3}"
    r"(?:[ .-]?\d{3,5}(?![ ]?(?:rb|rbu|ribu|k|jt|juta)\b)){1,3}(?![\w@])"
)
SERIAL_NUMBER_PATTERN = r"(?<![\w])02\d{23}(?![\w])"
EMAIL_PATTERN = (
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
    r"(?![\w-])"
)
# letters/digits joined by "-" or "_" (m-kios, GOL-2311-88812, abu-abu, 22-11-2025)
COMPOUND_PATTERN = (
    r"(?<![\w-])[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)+(?![\w-])"
    # codes with "/" that mix letters and digits (OID/77120-AB); dates and "voice/sms" stay split
    r"|(?<![\w/-])(?=[\w/-]*\d)(?=[\w/-]*[A-Za-z])[A-Za-z0-9]+(?:[-_/][A-Za-z0-9]+)+(?![\w/-])"
)

# IGNORECASE like RegexEntityExtractor with `case_sensitive: false` (config.yml)
PROTECTED_PATTERNS: Tuple[Tuple[str, re.Pattern[str]], ...] = (
    ("email", re.compile(EMAIL_PATTERN, re.IGNORECASE)),
    ("serial_number", re.compile(SERIAL_NUMBER_PATTERN, re.IGNORECASE)),
    ("msisdn", re.compile(MSISDN_PATTERN, re.IGNORECASE)),
    ("compound", re.compile(COMPOUND_PATTERN)),
)

NEGATIONS = frozenset({"tidak", "belum", "bukan", "jangan"})

# "no kak", "no thanks", "no belum": after these (normalised) words "no" is the English no
_AFTER_ENGLISH_NO = frozenset(
    {"kak", "admin", "gan", "bro", "sis", "ya", "deh", "dong", "sih", "thanks", "terima kasih"}
    | NEGATIONS
)

# the lemma of a protected span names its kind: the featurizers see "msisdnnum" for every
# phone number, whatever its format, instead of digits that look like any other number
PROTECTED_LEMMAS = {"msisdn": "msisdnnum", "serial_number": "serialnum", "email": "emailaddr"}


class NormalisedToken(Token):
    """A Rasa token whose fingerprint costs one hash instead of one per field.

    Why: during training Rasa fingerprints the whole training data after every pipeline node
    (its cache key); Rasa's ``Token.fingerprint`` hashes each field separately and then the
    list of hashes. One fingerprint of the tokenised training data took 0.32 s with Rasa's
    tokens and takes 0.22 s with these; a full training takes 14 of them.
    The fingerprint still covers every field (text, offsets, lemma, data), so the cache sees
    every change a token can carry.
    """

    def fingerprint(self) -> str:
        content = json.dumps(
            [self.text, self.start, self.end, self.lemma, self.data],
            sort_keys=True,
            ensure_ascii=False,
            default=repr,
        )
        return hashlib.md5(content.encode("utf-8"), usedforsecurity=False).hexdigest()


def _is_punctuation(text: str) -> bool:
    return all(unicodedata.category(ch).startswith("P") for ch in text)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class IndonesianTokenizer(Tokenizer):
    """spaCy `id` tokenizer whose tokens carry a slang-normalised lemma."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
            # YAML with `slang:` and `nya_stems:`; None = sop_engine/slang.yaml (shared table)
            "slang_file": None,
            # extra slang entries from config.yml, e.g. {"bkl": "bakal"}
            "extra_slang": {},
        }

    @staticmethod
    def required_packages() -> List[str]:
        return ["spacy"]

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """Retrain when the slang file changes (it is not part of the config)."""
        path = Path(config.get("slang_file") or DEFAULT_SLANG_FILE)
        try:
            return hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return None

    def __init__(self, config: Dict[str, Any]) -> None:
        super().__init__(config)
        slang_file = self._config.get("slang_file")
        self.normalizer = SlangNormalizer.from_file(
            Path(slang_file) if slang_file else None, self._config.get("extra_slang") or {}
        )
        self._spacy_tokenizer = spacy.blank("id").tokenizer

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> IndonesianTokenizer:
        return cls({**cls.get_default_config(), **config})

    def _protected_lemma(self, text: str, kind: str) -> str:
        if kind in PROTECTED_LEMMAS:
            return PROTECTED_LEMMAS[kind]
        return self.normalizer.compound(text)

    # ------------------------------------------------------------------ spans
    @staticmethod
    def protected_spans(text: str) -> List[Tuple[int, int, str]]:
        """Non-overlapping (start, end, kind) spans that must stay one token."""
        spans: List[Tuple[int, int, str]] = []
        for kind, pattern in PROTECTED_PATTERNS:
            for match in pattern.finditer(text):
                start, end = match.span()
                if start == end:
                    continue
                if any(start < e and s < end for s, e, _ in spans):
                    continue
                spans.append((start, end, kind))
        return sorted(spans)

    def _spacy_tokens(self, text: str, offset: int) -> List[Token]:
        tokens = []
        for tok in self._spacy_tokenizer(text):
            word = tok.text
            if not word.strip() or _is_punctuation(word):
                continue
            tokens.append(NormalisedToken(word, offset + tok.idx, lemma=self.normalizer.word(word)))
        return tokens

    def tokenize(self, message: Message, attribute: str) -> List[Token]:
        text = message.get(attribute)
        tokens: List[Token] = []
        position = 0
        for start, end, kind in self.protected_spans(text):
            tokens.extend(self._spacy_tokens(text[position:start], position))
            tokens.append(
                NormalisedToken(
                    text[start:end], start, lemma=self._protected_lemma(text[start:end], kind)
                )
            )
            position = end
        tokens.extend(self._spacy_tokens(text[position:], position))
        tokens = self._fix_glued_units(tokens)
        tokens = self._fix_lone_no(tokens, text)

        if not tokens:
            # only punctuation / emoji: keep the whole text as one token
            stripped = text.strip()
            if stripped:
                start = text.index(stripped)
                tokens = [NormalisedToken(stripped, start, lemma=stripped.lower())]
        return self._apply_token_pattern(tokens)

    @staticmethod
    def _fix_glued_units(tokens: List[Token]) -> List[Token]:
        """A suffix spaCy split off a number ("50rb", "4g", "1jt") is a unit, not slang."""
        for previous, token in zip(tokens, tokens[1:], strict=False):
            if previous.end == token.start and previous.text[-1:].isdigit():
                lowered = token.text.lower()
                token.lemma = UNITS.get(lowered, lowered)
        return tokens

    @staticmethod
    def _fix_lone_no(tokens: List[Token], text: str) -> List[Token]:
        """'no' means 'nomor' only when a word follows ("no hp", "no. 0812...").

        A lone "no", "no, belum", "no!" or "no kak" is the English "no".
        """
        for i, token in enumerate(tokens):
            if token.text.lower() != "no":
                continue
            if (
                i == len(tokens) - 1
                or any(ch in ",!?;" for ch in text[token.end : tokens[i + 1].start])
                or tokens[i + 1].lemma in _AFTER_ENGLISH_NO
            ):
                token.lemma = "no"
        return tokens
