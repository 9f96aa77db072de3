"""The printed documents as pure functions: dataclasses in, PDF bytes out.

No database, no CUPS, no Textual: the operations layer gathers the data
(``packbench.operations.printing``), these functions draw it, and the CUPS adapter
(``packbench.printing.cups``) prints the bytes. One module to import from; the documents
live in :mod:`~packbench.printing.slips`, :mod:`~packbench.printing.labels` and
:mod:`~packbench.printing.manifest`, what they share in :mod:`~packbench.printing.common`.

* :func:`render_slips` — packing slips (A4), a batch in one PDF.
* :func:`render_label` / :func:`render_labels` — shipping labels, 102×152 or 100×190 mm.
* :func:`render_manifest` — the handover manifest for one carrier (A4).
"""

from __future__ import annotations

from packbench.printing.common import AddressLike, ShopInfo
from packbench.printing.labels import (
    LABEL_SIZES,
    LabelInput,
    LabelSize,
    render_label,
    render_labels,
)
from packbench.printing.manifest import ManifestInput, ManifestParcel, render_manifest
from packbench.printing.slips import SlipInput, location_key, render_slip, render_slips

__all__ = [
    "LABEL_SIZES",
    "AddressLike",
    "LabelInput",
    "LabelSize",
    "ManifestInput",
    "ManifestParcel",
    "ShopInfo",
    "SlipInput",
    "location_key",
    "render_label",
    "render_labels",
    "render_manifest",
    "render_slip",
    "render_slips",
]
