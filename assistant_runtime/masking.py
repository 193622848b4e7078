"""Masks personal data and secrets in log output.

What is masked (in the formatted message, the exception text and every extra string field
of a record):

* MSISDNs (``08…``, ``62 8…``, ``+62 8…``, with spaces, dots or dashes): ``0812****7890``;
* e-mail addresses: ``b***@example.com``;
* long digit runs (12 or more digits, e.g. a 25-digit voucher SN, also with a zero-width
  space or dashes inside): every digit but the last four, ``*********************8901``;
* secrets: ``token=…``, ``password: …``, ``Bearer …``, the password of a ``scheme://user:pw@``
  URL, a Telegram bot token: ``***``.

Two layers, both installed by :func:`masking_filter` (the filter factory ``logging.yml``
names, used by both servers through ``--logging-config-file``):

1. a :class:`MaskingFilter` on the configured handlers (masks extras too, e.g. the URL of
   Sanic's access log);
2. a log record factory that masks the message of every record when it is created, so
   handlers added later by libraries (Sanic configures its own, coloredlogs replaces the
   console handler) never see a raw value either.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any, Callable, Match, Optional

# Separators that may sit between the digits of one number: space, dash, dot (MSISDN only),
# zero-width characters and their escaped forms as they appear in JSON or repr() output.
_ZW = r"(?:[\u200b\u200c\u200d\u2060\ufeff\u00a0]|\\u200[bcd]|\\u2060|\\ufeff|\\xa0|\\u00a0)"
_SEP_MSISDN = rf"(?:[ .\-]|{_ZW})?"
_SEP_DIGITS = rf"(?:[ \-]|{_ZW})?"

MSISDN_RE = re.compile(rf"(?<![\d*])(?:\+?62|0){_SEP_MSISDN}8(?:{_SEP_MSISDN}\d){{7,11}}(?!\d)")
LONG_DIGITS_RE = re.compile(rf"(?<!\d\.)(?<![\d*])\d(?:{_SEP_DIGITS}\d){{11,}}(?!\d)")
EMAIL_RE = re.compile(
    r"(?<![\w.%+-])([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})"
)
SECRET_RE = re.compile(
    r"(?i)(\b(?:auth[_-]?token|access[_-]?token|token|password|passwd|pwd|secret|"
    r"jwt[_-]?secret|api[_-]?key)\b[\"']?\s*[:=]\s*[\"']?)([^\s\"'&,;}\])]+)"
)
BEARER_RE = re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]+")
# Telegram bot token in a Bot API URL (/bot123456:AA.../sendMessage) or alone
BOT_TOKEN_RE = re.compile(r"(/bot\d+:|\b\d{6,12}:(?=[A-Za-z0-9_-]{30,}))[A-Za-z0-9_-]+")
CLI_SECRET_RE = re.compile(r"(--(?:auth-token|jwt-secret|jwt-private-key)[= ]+)\S+")
URL_PASSWORD_RE = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+(@)")


def _digits(text: str) -> str:
    return re.sub(r"\\u[0-9a-fA-F]{4}|\\x[0-9a-fA-F]{2}|\D", "", text)


def _mask_msisdn(match: Match[str]) -> str:
    digits = _digits(match.group(0))
    if len(digits) <= 8:
        return "*" * len(digits)
    return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]


def _mask_long_digits(match: Match[str]) -> str:
    digits = _digits(match.group(0))
    return "*" * (len(digits) - 4) + digits[-4:]


def _mask_email(match: Match[str]) -> str:
    return f"{match.group(1)}***@{match.group(2)}"


def mask_text(text: str) -> str:
    """Returns ``text`` with MSISDNs, e-mails, long digit runs and secrets masked.

    Idempotent: masking a masked text changes nothing.
    """
    if not text:
        return text
    text = URL_PASSWORD_RE.sub(r"\1***\2", text)
    text = SECRET_RE.sub(lambda m: m.group(1) + "***", text)
    text = BEARER_RE.sub(lambda m: m.group(1) + "***", text)
    text = CLI_SECRET_RE.sub(lambda m: m.group(1) + "***", text)
    text = BOT_TOKEN_RE.sub(lambda m: m.group(1) + "***", text)
    text = EMAIL_RE.sub(_mask_email, text)
    text = MSISDN_RE.sub(_mask_msisdn, text)
    return LONG_DIGITS_RE.sub(_mask_long_digits, text)


# Attributes every LogRecord has; anything else is an ``extra`` (e.g. Sanic's ``request``).
_STANDARD_ATTRS = set(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
) | {"message", "asctime"}


def mask_record(record: logging.LogRecord, extras: bool = True) -> None:
    """Masks a record in place: message (args merged in), exception text, stack, extras."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: keep what can be shown
        message = f"{record.msg!s} {record.args!r}"
    record.msg = mask_text(message)
    record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
    if record.exc_text:
        record.exc_text = mask_text(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_text(record.stack_info)
    if extras:
        for key, value in list(vars(record).items()):
            if key not in _STANDARD_ATTRS and isinstance(value, str):
                setattr(record, key, mask_text(value))


class MaskingFilter(logging.Filter):
    """Handler filter: masks the record, never drops it."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


_FACTORY_MARK = "_assistant_masking"


def install_record_factory() -> None:
    """Masks every record at creation (idempotent)."""
    current: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()
    if getattr(current, _FACTORY_MARK, False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        mask_record(record, extras=False)  # extras are set after the factory runs
        return record

    setattr(factory, _FACTORY_MARK, True)
    logging.setLogRecordFactory(factory)


def masking_filter() -> MaskingFilter:
    """Filter factory named in ``logging.yml``: installs the record factory as well."""
    install_record_factory()
    return MaskingFilter()


def protect_all_handlers(extra_filter: Optional[logging.Filter] = None) -> int:
    """Adds a :class:`MaskingFilter` to every handler of every logger that lacks one.

    Called once the Rasa server is configured (Sanic adds its own handlers after the
    logging config file was applied). Returns the number of handlers changed.
    """
    install_record_factory()
    loggers = [logging.getLogger()] + [
        value
        for value in logging.Logger.manager.loggerDict.values()
        if isinstance(value, logging.Logger)
    ]
    changed = 0
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(f, MaskingFilter) for f in handler.filters):
                handler.addFilter(extra_filter or MaskingFilter())
                changed += 1
    return changed
