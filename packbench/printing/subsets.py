"""Embedded TrueType fonts whose PDF objects are made once, not once per document.

reportlab embeds a TrueType font as subsets of up to 256 characters, numbered in the order
the document first uses them, and for every document builds each subset's font program,
compresses it, and formats its widths and ToUnicode map: on a one-page label that was about
half of the rendering time, for the same forty kilobytes every time.

:class:`CachedTTFont` changes two things, and nothing in what a PDF reader sees:

- the first subset of every document starts with the same characters in the same order
  (printable ASCII, then :data:`SEED`: Latin-1's letters and signs, typographic punctuation,
  and the letters of the Latin Extended-A block that European names use most), so almost
  every label and slip has the same first subset, whatever the names on it;
- each subset's objects (the compressed font program, the compressed ToUnicode map and the
  formatted widths) are kept, keyed by the subset's exact characters and position, and
  written again as they are. A subset not seen before (a name in Greek, say) is made the
  ordinary way, once, and kept too (a bounded number of them).

The PDF bytes of a document are the same whether its subsets came from the cache or not.
"""

from __future__ import annotations

import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from reportlab.pdfbase import pdfdoc
from reportlab.pdfbase.ttfonts import (
    FF_NONSYMBOLIC,
    FF_SYMBOLIC,
    SUBSETN,
    TTFont,
    makeToUnicodeCMap,
)

__all__ = ["SEED", "CachedTTFont"]

#: Characters given codes in every document's first subset, after printable ASCII. At most
#: 159 fit (codes 1-31 and 128-255; reportlab keeps 0 for .notdef and 32-127 for ASCII).
SEED = (
    # Latin-1 Supplement, printable (no NBSP, which reportlab draws as a space, nor the soft
    # hyphen, which `clean` drops): æ ø å, é ü ö ß and the rest of western Europe's names
    "".join(chr(c) for c in range(0xA1, 0x100) if c != 0xAD)
    # typographic punctuation: the ellipsis clipped text ends with, dashes, quotes, euro
    + "…–—‘’‚“”„•€"
    # Latin Extended-A: Polish, Czech and Slovak, Hungarian, Turkish, Croatian
    + "ĄąĆćĘęŁłŃńŚśŹźŻż"
    + "ČčĎďĚěŇňŘřŠšŤťŮůŽž"
    + "ŐőŰűĞğİıŞşĐđ"
)

_CACHED_SUBSETS = 64


class _Formatted(pdfdoc.PDFObject):  # type: ignore[misc]  # reportlab ships no types
    """A PDF value formatted once (the widths array), written again as it is."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def format(self, document: object) -> bytes:
        return self.data


@dataclass(frozen=True)
class _SubsetObjects:
    widths: bytes  # the formatted /Widths array
    cmap: bytes  # the ToUnicode CMap, compressed when the document compresses
    program: bytes  # the subset's TrueType program, likewise
    program_length: int  # /Length1: the program's length before compression


def _stream(content: bytes, compressed: bool, **entries: object) -> Any:
    """A stream whose content is already encoded: reportlab writes it as it is."""
    dictionary = pdfdoc.PDFDictionary(dict(entries))
    if compressed:
        dictionary["Filter"] = pdfdoc.PDFArray([pdfdoc.PDFName("FlateDecode")])
    return pdfdoc.PDFStream(dictionary, content)


class CachedTTFont(TTFont):  # type: ignore[misc]  # reportlab ships no types
    """A TrueType font with a seeded first subset and its subsets' PDF objects cached."""

    def __init__(self, name: str, filename: str) -> None:
        super().__init__(name, filename, asciiReadable=1)
        self._lock = threading.Lock()
        self._subsets: OrderedDict[tuple[object, ...], _SubsetObjects] = OrderedDict()
        key = _Key()
        TTFont.splitString(self, SEED, key)
        self._seed = self.state.pop(key)

    # -- the seeded state

    def _state_for(self, doc: object) -> Any:
        state = self.state.get(doc)
        if state is None:
            seed = self._seed
            state = TTFont.State.__new__(TTFont.State)
            state.assignments = dict(seed.assignments)
            state.nextCode = seed.nextCode
            state.internalName = None
            state.frozen = 0
            state.subsets = [list(s) for s in seed.subsets]
            self.state[doc] = state
        return state

    def _assignState(  # reportlab's name
        self, doc: object, asciiReadable: object = None, namePrefix: str | None = None
    ) -> Any:
        state = self._state_for(doc)
        if namePrefix is not None:
            state.namePrefix = namePrefix
        return state

    def splitString(self, text: str, doc: object, encoding: str = "utf-8") -> Any:
        self._state_for(doc)
        return super().splitString(text, doc, encoding)

    def getSubsetInternalName(self, subset: int, doc: object) -> Any:
        self._state_for(doc)
        return super().getSubsetInternalName(subset, doc)

    # -- the subsets' objects

    def _objects(self, n: int, subset: list[int], base_name: str, doc: Any) -> _SubsetObjects:
        compressed = bool(doc.compression)
        key = (n, compressed, *subset)
        with self._lock:
            found = self._subsets.get(key)
            if found is not None:
                self._subsets.move_to_end(key)
                return found
        face = self.face
        program = face.makeSubset(subset)
        cmap = makeToUnicodeCMap(base_name, subset).encode("ascii")
        widths = pdfdoc.PDFArray([face.getCharWidth(c) for c in subset]).format(doc)
        made = _SubsetObjects(
            widths=widths,
            cmap=zlib.compress(cmap) if compressed else cmap,
            program=zlib.compress(program) if compressed else program,
            program_length=len(program),
        )
        with self._lock:
            self._subsets[key] = made
            while len(self._subsets) > _CACHED_SUBSETS:
                self._subsets.popitem(last=False)
        return made

    def addObjects(self, doc: Any) -> None:
        """What :meth:`TTFont.addObjects` writes (reportlab 4.x), from the cache."""
        state = self._state_for(doc)
        state.frozen = 1
        face = self.face
        compressed = bool(doc.compression)
        for n, subset in enumerate(state.subsets):
            internal_name = self.getSubsetInternalName(n, doc)[1:]
            base_name = b"".join((SUBSETN(n), b"+", face.name, face.subfontNameX)).decode("pdfdoc")
            made = self._objects(n, subset, base_name, doc)
            program = _stream(made.program, compressed, Length1=made.program_length)
            program_ref = doc.Reference(program, f"fontFile:{face.filename}({base_name})")
            descriptor = pdfdoc.PDFDictionary(
                {
                    "Type": "/FontDescriptor",
                    "Ascent": face.ascent,
                    "CapHeight": face.capHeight,
                    "Descent": face.descent,
                    "Flags": (face.flags & ~FF_NONSYMBOLIC) | FF_SYMBOLIC,
                    "FontBBox": pdfdoc.PDFArray(face.bbox),
                    "FontName": pdfdoc.PDFName(base_name),
                    "ItalicAngle": face.italicAngle,
                    "StemV": face.stemV,
                    "FontFile2": program_ref,
                    "MissingWidth": face.defaultWidth,
                }
            )
            font = pdfdoc.PDFTrueTypeFont()
            font.__Comment__ = f"Font {self.fontName} subset {n}"
            font.Name = internal_name
            font.BaseFont = base_name
            font.FirstChar = 0
            font.LastChar = len(subset) - 1
            font.Widths = _Formatted(made.widths)
            font.ToUnicode = doc.Reference(
                _stream(made.cmap, compressed), f"toUnicodeCMap:{base_name}"
            )
            font.FontDescriptor = doc.Reference(descriptor, f"fontDescriptor:{base_name}")
            doc.Reference(font, internal_name)
            doc.idToObject["BasicFonts"].dict[internal_name] = font
        del self.state[doc]


class _Key:
    """A throwaway document for building the seeded state (the state map is weak-keyed)."""
