"""Fill a letter template and typeset it as a PDF with Typst.

- Templates: ``<templates_dir>/<language>/<kind>.typ.j2`` (Jinja2), which extend the language's
  ``_base.typ.j2``; ``<templates_dir>/letter.typ`` is the shared Typst layout, put in front of the filled
  template so that the Typst source is one self-contained text. See docs/letters.md.
- Jinja2 runs in an :class:`~jinja2.sandbox.ImmutableSandboxedEnvironment` with :class:`~jinja2.StrictUndefined`
  (a field the data does not have is an error, never an empty string). The template sees only
  ``LetterData.model_dump()``.
- Every value a template prints passes :func:`escape_typst` (the environment's ``finalize``), so data is always
  printed literally: a client called ``#set page(width: 1cm)`` or ``*x*`` is a name, not Typst code. Amounts and
  dates must go through the ``money`` and ``date`` filters (the letter's locale); printing a raw ``Decimal``,
  ``date``, ``None`` or a structure is a template error.
- Typst compiles from memory with an empty directory as its root, so a template cannot read files, and with
  the fonts built into Typst only (the same PDF on every machine); the PDF's creation date is the letter date.
  The one file in that directory is the letter's payment QR code (``/payment-qr.png``, drawn from
  ``data.payment_qr.payload`` by :mod:`.qrcode`), when the letter has one; ``letter.typ``'s ``payment-qr``
  prints it.

Any failure of a template (syntax, unknown field, a Typst compile error) raises :class:`LetterError` naming the
template file and line, so the caller can record it and go on with the next letter.
"""

from __future__ import annotations

import re
import string
import tempfile
import traceback
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import typst
from babel.dates import format_date
from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, TemplateNotFound, TemplateSyntaxError, Undefined
from jinja2.exceptions import TemplateRuntimeError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from incasso_tui.errors import N_, BadFile
from incasso_tui.i18n import Translator
from incasso_tui.letters.model import LETTER_KINDS, LetterData
from incasso_tui.letters.qrcode import qr_png
from incasso_tui.safetext import letter_text

__all__ = [
    "LAYOUT",
    "QR_FILE",
    "TEMPLATES_DIR",
    "LetterError",
    "escape_typst",
    "render_email",
    "render_pdf",
    "render_text",
    "template_name",
]

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "data" / "templates"
LAYOUT = "letter.typ"
QR_FILE = "payment-qr.png"  # in the compile root: the letter's payment QR code
_TEMPLATE_SUFFIX = ".typ.j2"
_TEMPLATE_SUFFIXES = (".typ.j2", ".txt.j2")


class LetterError(BadFile):
    """A letter cannot be made: its template is missing or wrong. ``where`` is ``<file>:<line>`` when known."""


# --- escaping ---------------------------------------------------------------------------------------------

_LINE_BREAKS = re.compile(r"[\t\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")
# Characters with a meaning in Typst markup, escaped wherever they are. `-` only where it makes a shorthand
# (`--`, `-?`, a minus sign before a digit): between two letters or digits (a date, "Jan-Willem") it is text.
# `.` only in `...` (an ellipsis).
_SPECIAL = re.compile(r"""[\\#$*_`<>@\[\]~/"']|-(?![0-9A-Za-z])|(?<![0-9A-Za-z])-|\.(?=\.)""")
_ENUM_MARKER = re.compile(r"^([0-9]+)\.")


def escape_typst(text: str) -> str:
    """Return ``text`` as Typst markup that prints exactly ``text``.

    Line breaks and tabs become one space (a value cannot start a new line, so it cannot start a heading, a
    list or a paragraph), other control characters and the bidi controls (U+202E and friends, which would print
    "<U+202E>RTL exe.fdp" as "pdf.exe LTR") are dropped, and every character Typst markup gives a
    meaning to is escaped with a backslash (Typst's own escape, valid before any character). A value can also
    stand at the start of a line in the template, so a leading punctuation mark is escaped as well (``=``
    heading, ``+`` and ``1.`` numbered list, ``.``/``(`` after an expression).

    The result is for markup (text and ``[...]`` content blocks) only, never for inside a Typst string.
    """
    text = letter_text(_LINE_BREAKS.sub(" ", text)).strip(" ")  # controls and bidi controls dropped (safetext)
    out = _SPECIAL.sub(lambda m: "\\" + m.group(), text)
    if text[:1] in string.punctuation and not out.startswith("\\"):
        return "\\" + out
    return _ENUM_MARKER.sub(r"\1\\.", out)


# --- the Jinja environment --------------------------------------------------------------------------------


def _finalize(value: object) -> str:
    """Every ``{{ ... }}`` ends here: text is escaped, anything unformatted is refused."""
    _defined(value)  # StrictUndefined: "'name' is undefined"
    if isinstance(value, str):
        return escape_typst(value)
    if isinstance(value, bool) or value is None:
        raise TemplateRuntimeError(f"cannot print {value!r}: test it with {{% if %}} instead")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        raise TemplateRuntimeError(f"the amount {value} must be printed with the money filter")
    if isinstance(value, date):
        raise TemplateRuntimeError(f"the date {value} must be printed with the date filter")
    raise TemplateRuntimeError(f"cannot print a {type(value).__name__}: print one of its fields")


def _defined(value: object) -> None:
    """A filter given an undefined value fails with Jinja's own message ("'dict object' has no attribute 'x'")."""
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()


def _blocks(value: str) -> str:
    """An IBAN or payment reference in groups of four, as printed on paper: ``NL91 ABNA 0417 1643 00``."""
    _defined(value)
    if not isinstance(value, str):
        raise TemplateRuntimeError(f"the blocks filter needs text, not {type(value).__name__}")
    return " ".join(value[i : i + 4] for i in range(0, len(value), 4))


@lru_cache(maxsize=16)
def _environment(templates_dir: Path, language: str) -> ImmutableSandboxedEnvironment:
    tr = Translator(language)

    def money(value: object) -> str:
        _defined(value)
        if not isinstance(value, Decimal):
            raise TemplateRuntimeError(f"the money filter needs an amount, not {type(value).__name__}")
        return tr.money(value)

    def date_(value: object) -> str:
        _defined(value)
        if not isinstance(value, date):
            raise TemplateRuntimeError(f"the date filter needs a date, not {type(value).__name__}")
        return format_date(value, format="long", locale=tr.locale)  # 5 maart 2026 / 5 March 2026

    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(templates_dir, encoding="utf-8"),
        undefined=StrictUndefined,
        finalize=_finalize,
        autoescape=False,  # Jinja's autoescape is HTML's; finalize does Typst's escaping
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(money=money, date=date_, blocks=_blocks)
    return env


def template_name(kind: str, language: str) -> str:
    """The template file of ``kind`` in ``language``, relative to the templates directory."""
    return f"{language}/{kind}{_TEMPLATE_SUFFIX}"


# --- filling ------------------------------------------------------------------------------------------------


class _Filled(NamedTuple):
    source: str
    layout_lines: int  # the first lines of ``source`` are letter.typ's (plus one blank line)
    templates_dir: Path
    template: str


def _template_error(template: str, line: int | None, detail: str) -> LetterError:
    where = f"{template}:{line}" if line else template
    return LetterError(N_("Letter template {where}: {detail}"), where=where, detail=detail)


def _failing_template_line(exc: BaseException, templates_dir: Path) -> tuple[str, int] | None:
    """The innermost template frame of a rendering error (Jinja puts template file and line in the traceback)."""
    root = templates_dir.resolve()
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = Path(frame.filename)
        if path.name.endswith(_TEMPLATE_SUFFIXES) and path.resolve().is_relative_to(root) and frame.lineno:
            return path.resolve().relative_to(root).as_posix(), frame.lineno
    return None


def _rendering_error(exc: Exception, root: Path, name: str) -> LetterError:
    """A failure while template ``name`` ran, located at the innermost template line when there is one."""
    located = _failing_template_line(exc, root)
    detail = exc.message if isinstance(exc, TemplateError) and exc.message else f"{type(exc).__name__}: {exc}"
    return _template_error(*(located or (name, None)), detail)


def _fill(data: LetterData, templates_dir: Path | None) -> _Filled:
    root = (templates_dir or TEMPLATES_DIR).resolve()
    name = template_name(data.kind, data.language)
    if data.kind not in LETTER_KINDS:
        raise LetterError(N_("There is no letter of the kind {kind}"), where=name, kind=data.kind)
    try:
        layout = (root / LAYOUT).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LetterError(
            N_("The letter layout {where} cannot be read: {detail}"), where=LAYOUT, detail=str(exc)
        ) from None
    env = _environment(root, data.language)
    try:
        template = env.get_template(name)
    except TemplateNotFound as exc:
        if exc.name == name:
            raise LetterError(
                N_("There is no letter template {where} for {kind} letters in language {language}"),
                where=name,
                kind=data.kind,
                language=data.language,
            ) from None
        raise _template_error(name, None, f"it uses the template {exc.name}, which does not exist") from None
    except TemplateSyntaxError as exc:
        raise _template_error(exc.name or name, exc.lineno, exc.message or str(exc)) from None
    try:
        body = template.render(data.context())
    except TemplateNotFound as exc:
        raise _template_error(name, None, f"it uses the template {exc.name}, which does not exist") from None
    except TemplateSyntaxError as exc:  # an included template is only parsed when reached
        raise _template_error(exc.name or name, exc.lineno, exc.message or str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - a template is untrusted: whatever fails in it is its error
        raise _rendering_error(exc, root, name) from None
    prefix = layout.rstrip("\n") + "\n\n"
    return _Filled(prefix + body, prefix.count("\n"), root, name)


def render_text(data: LetterData, *, templates_dir: Path | None = None) -> str:
    """The Typst source of the letter: the shared layout followed by the filled template."""
    return _fill(data, templates_dir).source


# --- typesetting ------------------------------------------------------------------------------------------

_DIAGNOSTIC_LOCATION = re.compile(r"┌─ .*?:(\d+):\d+")
_JINJA_TAG = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}")


def _matching_line(template_source: str, generated: str) -> int | None:
    """The line of a template that produced the ``generated`` line: the first line whose literal parts all
    occur, in order, in it (best effort; a line made of Jinja tags only cannot be matched)."""
    for number, line in enumerate(template_source.splitlines(), start=1):
        parts = [p.strip() for p in _JINJA_TAG.split(line) if p.strip()]
        if not parts:
            continue
        pos = 0
        for part in parts:
            pos = generated.find(part, pos)
            if pos < 0:
                break
            pos += len(part)
        else:
            return number
    return None


def _locate_typst_error(filled: _Filled, line: int) -> tuple[str, int | None]:
    """Map a line of the Typst source back to letter.typ or to a language template."""
    if line < filled.layout_lines:
        return LAYOUT, line
    lines = filled.source.splitlines()
    generated = lines[line - 1].strip() if line <= len(lines) else ""
    language_dir = filled.templates_dir / filled.template.split("/")[0]
    candidates = [filled.templates_dir / filled.template, *sorted(language_dir.glob(f"_*{_TEMPLATE_SUFFIX}"))]
    for path in candidates:
        found = _matching_line(path.read_text(encoding="utf-8"), generated) if generated else None
        if found:
            return path.relative_to(filled.templates_dir).as_posix(), found
    return filled.template, None


def render_pdf(data: LetterData, *, templates_dir: Path | None = None) -> bytes:
    """The letter as a PDF (A4), typeset by Typst."""
    filled = _fill(data, templates_dir)
    created = datetime.combine(data.letter_date, time(), tzinfo=UTC)
    with tempfile.TemporaryDirectory(prefix="incasso-letter-") as empty_root:
        if data.payment_qr is not None:  # 4 pixels a module: sharp at 3.2 cm even where a viewer smooths images
            (Path(empty_root) / QR_FILE).write_bytes(qr_png(data.payment_qr.payload, scale=4))
        try:
            pdf, warnings = typst.compile_with_warnings(
                filled.source.encode("utf-8"),
                format="pdf",
                root=empty_root,
                ignore_system_fonts=True,
                timestamp=created,
            )
        except typst.TypstError as exc:
            raise _typst_error(filled, exc.diagnostic or "", f"Typst: {exc.message}") from None
    if warnings:  # a missing font or a dubious construct: a letter to a debtor is not sent with a warning
        first = warnings[0]
        raise _typst_error(filled, getattr(first, "diagnostic", "") or "", f"Typst warning: {first.message}")
    assert isinstance(pdf, bytes)
    return pdf


def _typst_error(filled: _Filled, diagnostic: str, detail: str) -> LetterError:
    match = _DIAGNOSTIC_LOCATION.search(diagnostic)
    template, line = _locate_typst_error(filled, int(match.group(1))) if match else (filled.template, None)
    return _template_error(template, line, detail)


# --- the e-mail that carries a letter -----------------------------------------------------------------------

EMAIL_TEMPLATE = "email.txt.j2"
_HEADER_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def _finalize_text(value: object) -> str:
    """Plain text: control characters and line breaks in data become one space (no header injection)."""
    _defined(value)
    if isinstance(value, str):
        return letter_text(_HEADER_UNSAFE.sub(" ", value))  # and no bidi controls (safetext.letter_text)
    return _finalize(value)  # numbers, amounts, dates: the same rules as in a letter


@lru_cache(maxsize=16)
def _text_environment(templates_dir: Path, language: str) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(templates_dir, encoding="utf-8"),
        undefined=StrictUndefined,
        finalize=_finalize_text,
        autoescape=False,
        keep_trailing_newline=False,
    )
    env.filters.update(_environment(templates_dir, language).filters)
    return env


def render_email(data: LetterData, *, templates_dir: Path | None = None) -> tuple[str, str]:
    """(subject, body) of the e-mail that carries the letter as a PDF: ``<language>/email.txt.j2``, whose first
    line is the subject and the rest (after one blank line) the body."""
    root = (templates_dir or TEMPLATES_DIR).resolve()
    name = f"{data.language}/{EMAIL_TEMPLATE}"
    try:
        text = _text_environment(root, data.language).get_template(name).render(data.context())
    except TemplateNotFound:
        raise LetterError(N_("There is no e-mail template {where}"), where=name) from None
    except TemplateSyntaxError as exc:
        raise _template_error(exc.name or name, exc.lineno, exc.message or str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - a template is untrusted: whatever fails in it is its error
        raise _rendering_error(exc, root, name) from None
    subject, _, body = text.strip().partition("\n")
    subject = subject.strip()
    if not subject or not body.strip():
        raise _template_error(name, 1, "the first line must be the subject, followed by a blank line and the body")
    return subject, body.strip() + "\n"
