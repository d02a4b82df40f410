"""A small reader and writer of gettext .po files, so the tests can check the committed catalogue without GNU gettext.

The test of the Spanish catalogue (core/tests/test_translations.py) reads the .po with `read`, turns it into the
catalogue a compiled .mo must hold (`expected_catalog`: what Python's `gettext.GNUTranslations` loads from a .mo) and
compares it with the committed .mo, so a .po edited without compiling fails. `write` writes entries back (used when
translations are filled in by a script). Only the parts of the format Django's makemessages writes are read:
comments, flags, msgctxt, msgid, msgid_plural, msgstr and msgstr[n]; obsolete entries (#~) are skipped.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

_KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(\".*\")\s*$")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


@dataclass
class Entry:
    """One message: its context, id, plural id, translations (one, or one per plural form), flags and comments."""

    msgid: str
    msgstr: list[str] = field(default_factory=lambda: [""])
    msgctxt: str | None = None
    msgid_plural: str | None = None
    flags: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)  # every other comment line, as written ("#: path:12", "#. …")

    @property
    def key(self) -> str:
        """The id as a compiled catalogue keys it: context and id joined by EOT when there is a context."""
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"

    @property
    def translated(self) -> bool:
        return all(s != "" for s in self.msgstr) and "fuzzy" not in self.flags


def _unquote(text: str) -> str:
    body = text.strip()
    if len(body) < 2 or body[0] != '"' or body[-1] != '"':
        raise ValueError(f"Not a quoted .po string: {text!r}")
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), body[1:-1])


def read(path: Path) -> list[Entry]:
    """Every entry of the file, the header (msgid "") first, in file order; obsolete entries left out."""
    entries: list[Entry] = []
    fields: dict[str, str] = {}
    flags: list[str] = []
    comments: list[str] = []
    current: str | None = None

    def flush() -> None:
        nonlocal fields, flags, comments, current
        if "msgid" in fields:
            plural = sorted((k for k in fields if k.startswith("msgstr[")), key=lambda k: int(k[7:-1]))
            entries.append(
                Entry(
                    msgid=fields["msgid"],
                    msgstr=[fields[k] for k in plural] if plural else [fields.get("msgstr", "")],
                    msgctxt=fields.get("msgctxt"),
                    msgid_plural=fields.get("msgid_plural"),
                    flags=flags,
                    comments=comments,
                )
            )
        fields, flags, comments, current = {}, [], [], None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            flush()
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#"):
            if "msgid" in fields:
                flush()
            if line.startswith("#,"):
                flags += [f.strip() for f in line[2:].split(",") if f.strip()]
            else:
                comments.append(raw)
            continue
        match = _KEYWORD.match(line)
        if match:
            keyword = match.group(1)
            if keyword in ("msgctxt", "msgid") and "msgid" in fields and keyword != "msgid_plural":
                flush()
            current = keyword
            fields[current] = _unquote(match.group(2))
        elif line.startswith('"') and current is not None:
            fields[current] += _unquote(line)
        else:
            raise ValueError(f"{path}:{number}: cannot read {raw!r}")
    flush()
    return entries


def expected_catalog(entries: list[Entry]) -> dict[object, str]:
    """The catalogue a .mo compiled from these entries holds, keyed as `gettext.GNUTranslations._catalog` keys it:
    the id (context\\x04id) for a message, (id, n) for each plural form. Untranslated and fuzzy entries are not
    compiled (msgfmt leaves them out), so they are left out here too; the header is kept."""
    out: dict[object, str] = {}
    for entry in entries:
        if entry.msgid and not entry.translated:
            continue
        if entry.msgid_plural is None:
            out[entry.key] = entry.msgstr[0]
        else:
            for n, text in enumerate(entry.msgstr):
                out[(entry.key, n)] = text
    return out


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\r", "\\r")
    lines = escaped.split("\n")
    parts = [line + "\\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    if len(parts) <= 1:
        return f'"{parts[0] if parts else ""}"'
    return '""\n' + "\n".join(f'"{p}"' for p in parts)


def write(path: Path, entries: list[Entry]) -> None:
    """Write the entries as a .po file (one line per string, a multi-line string split at its newlines)."""
    blocks = []
    for entry in entries:
        lines = list(entry.comments)
        if entry.flags:
            lines.append("#, " + ", ".join(entry.flags))
        if entry.msgctxt is not None:
            lines.append(f"msgctxt {_quote(entry.msgctxt)}")
        lines.append(f"msgid {_quote(entry.msgid)}")
        if entry.msgid_plural is None:
            lines.append(f"msgstr {_quote(entry.msgstr[0])}")
        else:
            lines.append(f"msgid_plural {_quote(entry.msgid_plural)}")
            lines += [f"msgstr[{n}] {_quote(text)}" for n, text in enumerate(entry.msgstr)]
        blocks.append("\n".join(lines))
    path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
