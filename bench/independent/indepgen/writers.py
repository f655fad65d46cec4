"""CSV (utf-8 / utf-8-sig / cp1258, ',' or ';', LF or CRLF) and XLSX writers that take
column chunks; truth writers."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import unicodedata
from pathlib import Path

import numpy as np

from .vntext import COMPOSE, DECOMP, TONE_MARK, strip_diacritics

# Windows-1258 charmap that decomposes tone marks (what the codec needs)
_CP1258_MAP: dict[int, bytes] = {}
for _i in range(256):
    try:
        _ch = bytes([_i]).decode("cp1258")
    except UnicodeDecodeError:
        continue
    _CP1258_MAP[ord(_ch)] = bytes([_i])
for _ch, (_b, _q, _t) in DECOMP.items():
    _CP1258_MAP[ord(_ch)] = (COMPOSE[(_b, _q, 0)] + (TONE_MARK[_t] if _t else "")).encode("cp1258")


def encode(text: str, encoding: str) -> bytes:
    if encoding in ("utf-8", "utf-8-sig"):
        return text.encode("utf-8", errors="surrogatepass")
    if encoding == "cp1258":
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        return codecs.charmap_encode(text, "replace", _CP1258_MAP)[0]
    raise ValueError(encoding)


def header_variant(header: list[str], variant: str) -> list[str]:
    if variant == "upper":
        return [h.upper() for h in header]
    if variant == "no_diacritics":
        return [strip_diacritics(h) for h in header]
    if variant == "padded":
        return [f" {h} " if i % 2 == 0 else h for i, h in enumerate(header)]
    if variant == "lower":
        return [h.lower() for h in header]
    return list(header)


class CsvOut:
    def __init__(self, path: Path, header: list[str], encoding: str, sep: str, eol: str):
        self.path = path
        self.encoding = encoding
        self.sep = sep
        self.eol = eol
        self.rows = 0
        self.fh = open(path, "wb")  # noqa: SIM115 (closed in close())
        if encoding == "utf-8-sig":
            self.fh.write(codecs.BOM_UTF8)
        self._write([header])

    def _write(self, rows) -> None:
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=self.sep, lineterminator=self.eol, quoting=csv.QUOTE_MINIMAL)
        w.writerows(rows)
        self.fh.write(encode(buf.getvalue(), self.encoding))

    def write_cols(self, cols: list[np.ndarray]) -> None:
        if len(cols[0]) == 0:
            return
        self._write(zip(*[c.tolist() for c in cols], strict=True))
        self.rows += len(cols[0])

    def close(self) -> None:
        self.fh.close()


_DMY = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_XML_ESC = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _col_letters(n: int) -> list[str]:
    out = []
    for i in range(n):
        s, k = "", i + 1
        while k:
            k, r = divmod(k - 1, 26)
            s = chr(65 + r) + s
        out.append(s)
    return out


_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>"""
_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/></Relationships>"""
_APP = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>Microsoft Excel</Application></Properties>"""
_WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"""
_WB_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"""
_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/></numFmts><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"""
_SHEET_HEAD = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"""
_SHEET_TAIL = "</sheetData></worksheet>"


class _Sheet:
    """One-sheet workbook streamed into a zip: inline strings, numbers, date cells."""

    def __init__(self, path: Path, ncols: int):
        import zipfile

        self.path = path
        self.zf = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        for name, text in (
            ("[Content_Types].xml", _CONTENT_TYPES),
            ("_rels/.rels", _RELS),
            ("docProps/app.xml", _APP),
            ("xl/workbook.xml", _WORKBOOK),
            ("xl/_rels/workbook.xml.rels", _WB_RELS),
            ("xl/styles.xml", _STYLES),
        ):
            self.zf.writestr(name, text)
        self.fh = self.zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        self.fh.write(_SHEET_HEAD.encode())
        self.row = 0
        self.letters = _col_letters(ncols)

    def blank(self) -> None:
        self.row += 1

    def rows(self, rows) -> None:
        """rows: iterable of lists of (kind, value): kind 's' string, 'n' number, 'd' date serial."""
        out = []
        L = self.letters
        r = self.row
        for cells in rows:
            r += 1
            parts = [f'<row r="{r}">']
            for ci, (k, v) in enumerate(cells):
                if k == "s":
                    if v == "":
                        continue
                    if _SPECIAL.search(v):
                        v = _BAD_XML.sub("", v.translate(_XML_ESC))
                    parts.append(
                        f'<c r="{L[ci]}{r}" t="inlineStr"><is><t xml:space="preserve">{v}</t></is></c>'
                    )
                elif k == "n":
                    parts.append(f'<c r="{L[ci]}{r}"><v>{v}</v></c>')
                else:
                    parts.append(f'<c r="{L[ci]}{r}" s="1"><v>{v}</v></c>')
            parts.append("</row>")
            out.append("".join(parts))
        self.row = r
        self.fh.write("".join(out).encode("utf-8"))

    def close(self) -> None:
        self.fh.write(_SHEET_TAIL.encode())
        self.fh.close()
        self.zf.close()


class XlsxOut:
    """Excel export as real systems produce it: per file, ID and phone numbers may be stored as
    numbers (leading zero lost) and dd/mm/yyyy dates as date cells or bare serial numbers.
    Above the sheet limit, several numbered files."""

    MAX_SHEET_ROWS = 1_048_576

    def __init__(
        self,
        folder: Path,
        stem: str,
        header: list[str],
        policy_for_part,
        id_cols,
        date_cols,
        keep_text_cols,
        max_rows: int | None = None,
    ):
        self.folder = folder
        self.stem = stem
        self.header = header
        self.policy_for_part = policy_for_part
        self.id_cols = set(id_cols)
        self.date_cols = set(date_cols) - set(keep_text_cols)
        self.max_rows = max_rows or self.MAX_SHEET_ROWS
        self.parts: list[dict] = []
        self.sheet: _Sheet | None = None
        self.total = 0

    def _open(self) -> None:
        k = len(self.parts) + 1
        pol = dict(self.policy_for_part(k))
        tmp = self.folder / f".{self.stem}_{k:03d}.xlsx.part"
        self.sheet = _Sheet(tmp, len(self.header))
        for _ in range(pol["leading_blank_rows"]):
            self.sheet.blank()
        self.sheet.rows([[("s", h) for h in self.header]])
        pol["rows"] = 0
        pol["capacity"] = self.max_rows - 1 - pol["leading_blank_rows"]
        self.parts.append(pol)
        self._rng = np.random.default_rng(pol["seed"])

    def _save_current(self, final: bool) -> None:
        k = len(self.parts)
        name = f"{self.stem}.xlsx" if (final and k == 1) else f"{self.stem}_{k:03d}.xlsx"
        self.parts[-1]["file"] = name
        tmp = self.sheet.path
        self.sheet.close()
        tmp.replace(self.folder / name)
        self.sheet = None

    def _convert(self, lists, lo: int, hi: int, pol: dict):
        ids_mode, dates_mode = pol["ids"], pol["dates"]
        n = hi - lo
        u_id = self._rng.random(n)
        u_dt = self._rng.random(n)
        ncol = len(lists)
        for r in range(lo, hi):
            row = []
            for ci in range(ncol):
                v = lists[ci][r]
                if (
                    ci in self.id_cols
                    and v
                    and v.isdigit()
                    and len(v) < 16
                    and (ids_mode == "all" or (ids_mode == "some" and u_id[r - lo] < 0.5))
                ):
                    row.append(("n", int(v)))
                    continue
                if ci in self.date_cols and dates_mode != "text" and v:
                    m = _DMY.match(v)
                    if m:
                        try:
                            d = dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
                        except ValueError:
                            d = None
                        if d is not None and d.year >= 1900:
                            serial = (d - _EXCEL_EPOCH).days
                            if dates_mode == "serial" or (
                                dates_mode == "some_serial" and u_dt[r - lo] < 0.5
                            ):
                                row.append(("n", serial))
                                continue
                            if dates_mode == "datecell":
                                row.append(("d", serial))
                                continue
                row.append(("s", v))
            yield row

    def write_cols(self, cols: list[np.ndarray]) -> None:
        n = len(cols[0])
        i = 0
        lists = [c.tolist() for c in cols]
        while i < n:
            if self.sheet is None:
                self._open()
            pol = self.parts[-1]
            take = min(n - i, pol["capacity"] - pol["rows"])
            if take <= 0:
                self._save_current(final=False)
                continue
            self.sheet.rows(self._convert(lists, i, i + take, pol))
            pol["rows"] += take
            self.total += take
            i += take

    def close(self) -> list[dict]:
        if self.sheet is None and not self.parts:
            self._open()
        if self.sheet is not None:
            self._save_current(final=True)
        for p in self.parts:
            p.pop("capacity", None)
            p.pop("seed", None)
        return self.parts


_NEEDS_QUOTE = re.compile('[",\r\n]')


class TruthOut:
    def __init__(self, path: Path, header: list[str]):
        self.fh = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115
        self.w = csv.writer(self.fh, lineterminator="\n")
        self.w.writerow(header)
        self.rows = 0

    def write_cols(self, cols) -> None:
        if len(cols[0]) == 0:
            return
        arrs = [np.asarray(c, dtype=object) for c in cols]
        joined = "".join(arrs[1].tolist())
        if _NEEDS_QUOTE.search(joined):  # never with our id formats, but stay correct
            self.w.writerows(zip(*[a.tolist() for a in arrs], strict=True))
        else:
            line = arrs[0]
            for a in arrs[1:]:
                line = line + "," + a
            self.fh.write("\n".join(line.tolist()) + "\n")
        self.rows += len(cols[0])

    def close(self) -> None:
        self.fh.close()
