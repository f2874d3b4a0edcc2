"""Reading one mail (pure): headers, the text to show, the parts to keep, whatever its MIME.

Stdlib ``email`` does the MIME, with the ``compat32`` policy: the modern policy's header objects
cost more than the rest of the parse (every ``get_content_type`` parses a header) and are not
needed, since every header we read is decoded here from its raw value. What is left to us is what
real mail gets wrong: charsets that are mislabelled or unknown to Python (``ks_c_5601-1987``, ``gb2312`` text
holding GBK, "ISO-8859-1" that is Windows-1252), raw 8-bit bytes in headers, headers the modern
policy cannot parse at all. A value is never lost to an exception: the worst case is a decoded
string with U+FFFD in it.
"""

from __future__ import annotations

import codecs
import email
import hashlib
import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from email.policy import compat32
from email.utils import getaddresses, parseaddr

from normalizer.rules import html_to_text

CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "x-sjis": "cp932",
    "big5": "big5hkscs",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
    "utf8": "utf-8",
    "iso-8859-8-i": "iso-8859-8",
}
"""Declared charset -> the codec that reads what senders really write under that label (a
superset: Windows-1252 for Latin-1, GB18030 for GB2312, UTF-8 for 8-bit bytes labelled ASCII)."""
_MSG_ID = re.compile(r"<[^<>\s]+>")
_BLANK = re.compile(r"\n{3,}")


@dataclass(frozen=True, slots=True)
class Part:
    """A part kept as a file: an attachment, an inline image, a calendar invite, a forwarded mail."""

    filename: str
    content_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(slots=True)
class Mail:
    """What the parser needs from one mail, decoded."""

    message: Message
    subject: str = ""
    from_name: str | None = None
    from_address: str | None = None
    reply_to: str | None = None
    message_id: str | None = None
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    text: str = ""
    html: str | None = None
    parts: list[Part] = field(default_factory=list)
    has_headers: bool = True


def read_mail(data: bytes) -> Mail:
    """The mail ``data``, decoded as far as it can be."""
    message = email.message_from_bytes(data, policy=compat32)
    mail = Mail(message=message)
    mail.has_headers = bool(message.raw_items())
    hint = next((c for c in (p.get_content_charset() for p in message.walk()) if c), None)
    mail.subject = header_text(message, "Subject", hint)
    mail.from_name, mail.from_address = _address(message, "From", hint)
    _, mail.reply_to = _address(message, "Reply-To", hint)
    ids = message_ids(header_text(message, "Message-ID"))
    mail.message_id = ids[0] if ids else None
    mail.in_reply_to = message_ids(header_text(message, "In-Reply-To"))
    mail.references = message_ids(header_text(message, "References"))
    texts: list[str] = []
    htmls: list[str] = []
    _collect(message, texts, htmls, mail.parts, top=True)
    mail.text = "\n\n".join(t for t in texts if t.strip())
    mail.html = "\n".join(htmls) if htmls else None
    return mail


_CONTENT_TYPE_LINE = re.compile(rb"^content-type:", re.IGNORECASE | re.MULTILINE)
_CONTENT_TYPE = re.compile(rb"^content-type:[ \t]*([!-~]+/[!-:<-~]+)[ \t]*(?:;|\r?$)", re.IGNORECASE | re.MULTILINE)
_TEXT_TYPES = frozenset(
    {b"text/plain", b"text/html", b"multipart/alternative", b"multipart/mixed", b"multipart/related"}
)


def may_hold_files(data: bytes) -> bool:
    """Whether the mail may have a part to keep as a file, told from its bytes without parsing:
    False only when every Content-Type is plain or HTML text or a multipart of them and nothing
    says attachment, filename or Content-ID (most mail), so that those are not parsed twice."""
    lowered = data.lower()
    if b"attachment" in lowered or b"filename" in lowered or b"content-id" in lowered or b"name=" in lowered:
        return True
    types = _CONTENT_TYPE.findall(data)
    if len(types) != len(_CONTENT_TYPE_LINE.findall(data)):  # a folded or odd one: look properly
        return True
    return not {t.lower() for t in types} <= _TEXT_TYPES


def header_text(message: Message, name: str, hint: str | None = None) -> str:
    """A header's decoded value, or "" when absent: RFC 2047 words read with the charset aliases
    (GBK under a "gb2312" label), raw UTF-8 (RFC 6532) or raw 8-bit bytes (read as UTF-8, else
    ``hint``, the mail's own declared charset, else Windows-1252). Read from the raw value: the
    modern policy turns raw 8-bit bytes into U+FFFD, and raises on some broken headers."""
    wanted = name.lower()
    raw = next((str(v) for k, v in message.raw_items() if k.lower() == wanted), None)
    if raw is None:
        return ""
    return _decode_words(_unescape(raw, hint)).replace("\r", "").replace("\n", " ").replace("\t", " ").strip()


def header_lengths(message: Message) -> Iterator[tuple[str, int]]:
    """Each header's name and the length of its raw value."""
    for name, value in message.raw_items():
        yield name, len(str(value))


def message_ids(value: str) -> tuple[str, ...]:
    """The ``<id>`` tokens of a Message-ID, In-Reply-To or References value, in order; a bare
    id without angle brackets (some clients) is taken whole."""
    found = tuple(_MSG_ID.findall(value))
    if found:
        return found
    bare = value.strip()
    return (f"<{bare}>",) if bare and " " not in bare and "@" in bare else ()


def _decode_words(raw: str) -> str:
    if "=?" not in raw:
        return raw
    try:
        pieces = email.header.decode_header(raw)
    except Exception:  # noqa: BLE001 - undecodable encoded words: the raw text
        return raw
    return "".join(
        decode_text(value, charset) if charset else value.decode("raw-unicode-escape")
        for value, charset in ((v if isinstance(v, bytes) else v.encode("raw-unicode-escape"), c) for v, c in pieces)
    )


def _unescape(text: str, hint: str | None = None) -> str:
    """Raw 8-bit header bytes arrive as surrogate escapes: read them as UTF-8, else in ``hint``,
    else as Windows-1252."""
    if not _has_raw_bytes(text):
        return text
    data = text.encode("utf-8", "surrogateescape")
    for codec in dict.fromkeys(("utf-8", _codec(hint) if hint else "cp1252", "cp1252")):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", "replace")


_ANGLE_ADDRESS = re.compile(r"<\s*([^<>\s]+@[^<>\s]+)\s*>")


def _address(message: Message, name: str, hint: str | None = None) -> tuple[str | None, str | None]:
    value = header_text(message, name, hint)
    if not value:
        return None, None
    angle = _ANGLE_ADDRESS.search(value)
    if angle:  # "a@b <c@d>": the address in brackets, whatever the name looks like
        display = value[: angle.start()].strip().strip('"').strip()
        return display or None, angle.group(1)
    try:
        pairs = getaddresses([value])
    except Exception:  # noqa: BLE001 - a malformed list: the first address parseaddr finds
        pairs = [parseaddr(value)]
    for display, address in pairs:
        if "@" in address:
            return (display.strip() or None), address.strip()
    return None, None


def decode_text(data: bytes, charset: str | None) -> str:
    """Bytes in a declared charset, read with the codec senders really mean by it; when they are
    not valid in it, UTF-8, then the declared charset with replacement characters."""
    codec = _codec(charset)
    for attempt in dict.fromkeys((codec, "utf-8")):
        try:
            return data.decode(attempt)
        except (UnicodeDecodeError, LookupError):
            continue
    fallback = "cp1252" if codec == "utf-8" else codec
    return data.decode(fallback, "replace")


def _codec(charset: str | None) -> str:
    declared = (charset or "utf-8").strip().strip('"').lower()
    codec = CHARSET_ALIASES.get(declared, declared)
    try:
        codecs.lookup(codec)
    except LookupError:
        return "utf-8"
    return codec


def part_bytes(part: Message) -> bytes:
    """The decoded body of a leaf part (base64 and quoted-printable undone; broken base64 decoded
    as far as it goes)."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - undecodable transfer encoding: the raw text
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def part_text(part: Message) -> str:
    return decode_text(part_bytes(part), part.get_content_charset())


def _collect(node: Message, texts: list[str], htmls: list[str], parts: list[Part], *, top: bool = False) -> None:
    """Walk the tree: the body text of each alternative group (plain preferred), every other
    part a file. A forwarded message is kept whole as a file and its text is shown too."""
    ctype = node.get_content_type()
    if ctype in {"message/rfc822", "message/news", "message/global"}:
        _forwarded(node, texts, htmls, parts)
        return
    if node.is_multipart():
        children = _children(node)
        if ctype == "multipart/alternative":
            _alternative(children, texts, htmls, parts)
            return
        for child in children:
            _collect(child, texts, htmls, parts)
        return
    if node.get_content_maintype() == "multipart":
        repaired = _repaired(node)
        if repaired is not None:
            _collect(repaired, texts, htmls, parts)
        else:  # its boundary never comes: the text as it is
            texts.append(part_text(node))
    elif _is_file(node, top):
        parts.append(_as_part(node, len(parts) + 1))
    elif ctype == "text/html":
        htmls.append(part_text(node))
        texts.append(html_to_text(htmls[-1]))
    elif ctype.startswith("text/") or node.get_content_maintype() == "text" or not node.get("Content-Type"):
        texts.append(part_text(node))
    else:
        parts.append(_as_part(node, len(parts) + 1))


_BOUNDARY = re.compile(r"boundary\s*=\s*\"?([^\";\r\n]+)\"?", re.IGNORECASE)


def _repaired(node: Message) -> Message | None:
    """A multipart the parser could not split because its boundary parameter is malformed
    (``boundary=----=_NextPart...`` unquoted): split again with the boundary quoted."""
    found = _BOUNDARY.search(header_text(node, "Content-Type"))
    payload = node.get_payload()
    if not found or not isinstance(payload, str):
        return None
    boundary = found.group(1).strip()
    if f"--{boundary}" not in payload:
        return None
    head = f'Content-Type: {node.get_content_type()}; boundary="{boundary}"\r\n\r\n'
    again = email.message_from_bytes(head.encode() + payload.encode("utf-8", "surrogateescape"), policy=compat32)
    return again if again.is_multipart() else None


def _children(node: Message) -> list[Message]:
    payload = node.get_payload()
    return [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []


def _alternative(children: list[Message], texts: list[str], htmls: list[str], parts: list[Part]) -> None:
    """The text/plain of an alternative group, else its HTML as text; the HTML is kept beside
    the text for officers. Files inside the group (related images) are kept."""
    plain = next((c for c in children if c.get_content_type() == "text/plain"), None)
    rest = [c for c in children if c is not plain]
    if plain is not None:
        texts.append(part_text(plain))
    chosen_html = False
    for child in rest:
        if child.get_content_type() == "text/html" and not chosen_html:
            html = part_text(child)
            htmls.append(html)
            if plain is None:
                texts.append(html_to_text(html))
            chosen_html = True
        elif child.is_multipart():
            inner_texts: list[str] = []
            _collect(child, inner_texts if plain is None and not chosen_html else [], htmls, parts)
            texts.extend(inner_texts)
            chosen_html = chosen_html or bool(inner_texts)
        elif child.get_content_type() == "text/calendar" or _is_file(child, False):
            parts.append(_as_part(child, len(parts) + 1))


def _forwarded(node: Message, texts: list[str], htmls: list[str], parts: list[Part]) -> None:
    payload = node.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if isinstance(inner, Message):
        data = _as_bytes(inner)
        subject = header_text(inner, "Subject")
        sender = header_text(inner, "From")
        inner_texts: list[str] = []
        _collect(inner, inner_texts, htmls, parts)
        head = "\n".join(line for line in (f"From: {sender}" if sender else "", f"Subject: {subject}") if line)
        texts.append(f"---------- Forwarded message ----------\n{head}\n\n" + "\n\n".join(inner_texts))
        name = _safe_filename(f"{(subject or 'forwarded')[:200]}.eml", ".eml")
    else:
        data = part_bytes(node)
        name = "forwarded.eml"
    if data:
        parts.append(Part(name, "message/rfc822", data))


_WRITTEN_BACK = compat32.clone(linesep="\r\n", mangle_from_=False)
"""Headers written back as they came (no refolding), CRLF, no ``>From`` in the body."""


def _as_bytes(message: Message) -> bytes:
    try:
        return message.as_bytes(policy=_WRITTEN_BACK)
    except Exception:  # noqa: BLE001 - a forwarded mail too broken to write back out
        return b""


def _is_file(part: Message, top: bool) -> bool:
    """A part the sender attached (or embedded) rather than wrote: a filename, an attachment
    disposition, a Content-ID image, a calendar invite; never the single body of a mail."""
    disposition = (part.get_content_disposition() or "").lower()
    ctype = part.get_content_type()
    if ctype == "text/calendar":
        return True
    if top:
        return disposition == "attachment" or (not ctype.startswith("text/") and bool(part.get("Content-Type")))
    if disposition == "attachment" or _filename(part):
        return True
    return not ctype.startswith("text/") and part.get_content_maintype() != "multipart"


_PARAMETER_HEADERS = ("content-disposition", "content-type")


def _filename(part: Message) -> str | None:
    """The filename parameter: RFC 2231, RFC 2047 words (what many clients write) or raw 8-bit."""
    try:
        name = _with_raw_parameters(part).get_filename()
    except Exception:  # noqa: BLE001 - a filename parameter the policy cannot read
        name = None
    return _decode_words(_unescape(str(name))).strip() if name else None


def _with_raw_parameters(part: Message) -> Message:
    """The part, or when its parameter headers hold raw 8-bit bytes (which ``compat32`` would
    hand out as U+FFFD) a stand-in with those headers decoded by :func:`_unescape`."""
    raw = [(k, v) for k, v in part.raw_items() if k.lower() in _PARAMETER_HEADERS]
    if not any(_has_raw_bytes(str(v)) for _, v in raw):
        return part
    hint = part.get_content_charset()
    stand_in = Message()
    for name, value in raw:
        stand_in[name] = _unescape(str(value), hint)
    return stand_in


def _has_raw_bytes(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _as_part(part: Message, number: int) -> Part:
    ctype = part.get_content_type()
    extension = ".ics" if ctype == "text/calendar" else (mimetypes.guess_extension(ctype) or ".bin")
    name = _filename(part) or f"attachment-{number}{extension}"
    return Part(_safe_filename(name, extension), ctype[:255], part_bytes(part))


def _safe_filename(name: str, extension: str) -> str:
    """No path, no control characters, at most 255 characters with its extension kept."""
    name = re.sub(r"[\x00-\x1f\x7f/\\]", "_", name).strip(" .") or "attachment"
    if len(name) <= 255:
        return name
    stem, dot, ext = name.rpartition(".")
    keep = f".{ext}" if dot and len(ext) <= 16 else extension
    return (stem if dot else name)[: 255 - len(keep)] + keep


def plain_paragraphs(text: str) -> str:
    return _BLANK.sub("\n\n", text.replace("\r\n", "\n")).strip()
