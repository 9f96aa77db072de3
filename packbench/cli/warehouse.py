"""The warehouse and the parcels: pick routes, slotting, boxes, shipping and handovers."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from packbench.cli.common import (
    CliError,
    _layout,
    _open_db,
    one_line,
    settle_crash_left_bookings,
)
from packbench.config import Settings
from packbench.screens.plain import shown


def cmd_ship(args: argparse.Namespace, settings: Settings) -> int:
    """#14: ``packbench ship ORDER…``: book each packed order exactly as the ship station does
    (the carrier's web API or the built-in carrier), then print its labels or save them."""
    from sqlmodel import select

    from packbench.data.models import CarrierLabel, Order, Parcel, Shipment
    from packbench.operations.common import Actor, Refused
    from packbench.operations.ship_labels import label_documents_for, print_labels
    from packbench.operations.shipping import create_shipment
    from packbench.printing.cups import make_printer

    db = _open_db(settings)
    actor = Actor(station="ship", terminal=settings.bench.terminal)
    settle_crash_left_bookings(db, actor, settings)
    out: list[dict[str, object]] = []
    failed = 0
    for raw in args.orders:
        number = raw.upper().removeprefix(settings.codes.order_prefix.upper())
        with db.read() as s:
            oid = s.exec(select(Order.id).where(Order.number == number)).first()
        entry: dict[str, object] = {"number": number}
        try:
            if oid is None:
                raise Refused(f"There is no order {number}.")
            view = create_shipment(db, actor, settings.ship, oid, code=raw)
            if args.out:
                args.out.mkdir(parents=True, exist_ok=True)
                for i, doc in enumerate(label_documents_for(db, settings, oid), start=1):
                    ext = "zpl" if doc.raw else "pdf"
                    (args.out / f"{number}-{i}.{ext}").write_bytes(doc.data)
            else:
                printer = make_printer(server=settings.printers.server or None)
                result = print_labels(db, actor, settings, printer, oid, queue=args.printer)
                if not result.ok:
                    entry["print_error"] = result.message
        except Refused as exc:
            entry["error"] = exc.message
            failed += 1
            out.append(entry)
            if not args.json:
                print(f"{number}: {exc.message}", file=sys.stderr)
            continue
        with db.read() as s:
            shipment = s.get(Shipment, view.shipment_id) if view.shipment_id else None
            parcels = s.exec(
                select(Parcel).where(Parcel.order_id == oid, Parcel.status != "void")
            ).all()
            if shipment is not None and shipment.booking_state == "booked":
                labels = s.exec(
                    select(CarrierLabel).where(CarrierLabel.shipment_id == shipment.id)
                ).all()
                fmt = labels[0].format if labels else "pdf"
            else:
                fmt = settings.printers.for_station("ship").label_format or "pdf"
            entry.update(
                carrier=view.carrier,
                consignment=shipment.consignment_number if shipment else None,
                parcels=[
                    {"sscc": p.sscc, "tracking_number": p.tracking_number, "label_format": fmt}
                    for p in sorted(parcels, key=lambda p: p.seq)
                ],
            )
        out.append(entry)
        if not args.json:
            numbers = ", ".join(str(p["tracking_number"]) for p in entry["parcels"])  # type: ignore[attr-defined]  # entry is the dict built just above
            print(f"{number}: {view.carrier} {entry['consignment'] or ''} {numbers}".strip())
    if args.json:
        print(json.dumps({"orders": out}, ensure_ascii=False))
    return 1 if failed else 0


def cmd_route(args: argparse.Namespace, settings: Settings) -> int:
    from packbench.core.routing import LocationError, shortest_route

    layout = _layout(args, settings)
    try:
        route = shortest_route(layout, args.locations)
    except LocationError as exc:
        raise CliError(str(exc), code=2) from None
    if args.json:
        out = {"sequence": list(route.sequence), "distance_m": round(route.distance_m, 3)}
        print(json.dumps(out, ensure_ascii=False))
        return 0
    for n, code in enumerate(route.sequence, start=1):
        print(f"{n:3d}  {code}")
    print(f"round trip from the depot at aisle {layout.depot}: {route.distance_m:.1f} m")
    return 0


def cmd_slotting(args: argparse.Namespace, settings: Settings) -> int:
    from packbench.operations.slotting import slotting_report

    if args.days < 1:
        raise CliError(f"--days must be at least 1, got {args.days}", code=2)
    layout = _layout(args, settings)
    report = slotting_report(_open_db(settings), layout, days=args.days)
    if args.json:
        json.dump(report.to_json(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    print(shown(report.as_text()))  # SKUs and product names come from the shop
    return 0


def cmd_box(args: argparse.Namespace, settings: Settings) -> int:
    """``packbench box``: bad input is exit 2, items no box holds exit 1; one line on stderr."""
    from packbench.core.packing import PackingError, parse_request, suggest, suggestion_to_json

    try:
        if args.boxes == "-":
            text = sys.stdin.read()
        else:
            text = Path(args.boxes).read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"box: cannot read {args.boxes}: {exc.strerror}", code=2) from None
    except UnicodeDecodeError:
        raise CliError(f"box: {args.boxes} is not UTF-8 text", code=2) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"box: not valid JSON: {exc}", code=2) from None
    try:
        boxes, items = parse_request(doc)
    except PackingError as exc:
        raise CliError(f"box: {exc}", code=2) from None
    try:
        suggestion = suggest(boxes, items)
    except PackingError as exc:
        raise CliError(f"box: {exc}", code=1) from None
    out = suggestion_to_json(suggestion)
    if args.json:
        json.dump(out, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    for n, parcel in enumerate(out["parcels"], start=1):
        dims = "×".join(map(str, parcel["inner_mm"]))
        units = len(parcel["items"])
        print(
            shown(
                f"parcel {n}: {parcel['box']} ({dims} mm), {units} units, "
                f"{parcel['weight_g']} g, {parcel['fill']:.0%} full"
            )
        )
    if out["alternatives"]:
        print(shown(f"also fits: {', '.join(out['alternatives'])}"))
    return 0


def cmd_boxes(args: argparse.Namespace, settings: Settings) -> int:
    from packbench.operations.common import Refused

    db = _open_db(settings)
    if args.boxes_command == "list":
        from packbench.operations.packstation import box_rows

        rows = box_rows(db)
        if args.json:
            json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
            sys.stdout.write("\n")
            return 0
        for r in rows:
            size = "×".join(map(str, r["inner_mm"]))
            what = "flat L×W×max thickness" if r["kind"] == "bag" else "inner L×W×H"
            flags = ("standard " if r["standard"] else "") + ("" if r["active"] else "NOT IN USE")
            line = (
                f"{r['code']:<12} {r['kind']:<4} {size:>13} mm ({what}), max {r['max_weight_g']} g,"
                f" tare {r['tare_g']} g, {r['cost_ore'] / 100:.2f} kr  {r['name']}  {flags}"
            )
            print(shown(line.rstrip()))
        return 0
    from packbench.operations.boxadvice import advice_json, advise_boxes

    try:
        advice = advise_boxes(db, args.count)
    except Refused as exc:
        raise CliError(f"boxes advise: {exc.message}", code=2) from None
    data = advice_json(advice)
    if args.json:
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    print(
        f"{advice.orders} packed/shipped orders; {advice.compared} fit one parcel of today's "
        "catalogue."
    )
    for b in data["boxes"]:
        size = "×".join(map(str, b["inner_mm"]))
        print(
            shown(f"  {b['label']:<22} {size:>13} mm  {b['share']:6.1%} of orders  ({b['orders']})")
        )
    print(
        f"empty volume: {data['empty_litres']} l with these, {data['baseline_empty_litres']} l "
        f"with today's catalogue — {data['saved_litres']} l ({data['saved_pct']} %) saved"
    )
    if advice.uncovered:
        print(shown(f"not held by these {args.count}: {', '.join(advice.uncovered)}"))
    if advice.too_big:
        print(shown(f"too big for any one box today (left out): {', '.join(advice.too_big)}"))
    return 0


def cmd_handovers(args: argparse.Namespace, settings: Settings) -> int:
    from packbench.operations.common import Actor, Refused
    from packbench.operations.handover import (
        manifest_document,
        print_manifest,
        recent_handovers,
        waiting_by_carrier,
    )
    from packbench.operations.printing import export_file

    db = _open_db(settings)
    if args.manifest is not None:
        try:
            if args.out:
                export_file(args.out, manifest_document(db, settings, args.manifest).data)
                print(f"manifest of handover {args.manifest} written to {args.out}")
                return 0
            from packbench.printing.cups import make_printer

            actor = Actor(station="post", terminal=settings.bench.terminal)
            result = print_manifest(
                db,
                actor,
                settings,
                make_printer(server=settings.printers.server or None),
                args.manifest,
                queue=args.printer,
            )
        except Refused as exc:
            raise CliError(exc.message, code=2) from None
        print(one_line(result.message))
        return 0 if result.ok else 1
    from packbench.operations.carrier_transfer import send_transfers, transfer_problems

    sent = None
    if args.transfer:
        actor = Actor(station="post", terminal=settings.bench.terminal)
        sent = send_transfers(db, actor, settings.ship)
    groups = waiting_by_carrier(db)
    handovers = recent_handovers(db)
    transfers = transfer_problems(db)
    if args.json:
        print(
            json.dumps(
                {
                    "waiting": {
                        g.carrier: [
                            {
                                "order": r.order_number,
                                "parcel": r.seq,
                                "tracking_number": r.tracking_number,
                                "sscc": r.sscc,
                                "in_cage": r.in_cage,
                                "since": r.since.isoformat(),
                            }
                            for r in g.parcels
                        ]
                        for g in groups
                    },
                    "handovers": [h.as_json() for h in handovers],
                    "transfers_waiting": [
                        {
                            "carrier": t.carrier,
                            "order": t.order_number,
                            "consignment": t.consignment_number,
                            "status": t.status,
                            "attempts": t.attempts,
                            "error": t.last_error,
                        }
                        for t in transfers
                    ],
                },
                ensure_ascii=False,
                indent=1,
            )
        )
        return 1 if sent is not None and transfers else 0
    if sent is not None and sent.message:
        print(one_line(sent.message))
    for t in transfers:
        why = f": {t.last_error}" if t.last_error else ""
        print(one_line(f"not transferred yet: {t.carrier} {t.consignment_number} (order "
                       f"{t.order_number}, {t.attempts} attempts){why}"))  # fmt: skip
    for g in groups:
        print(shown(f"{g.carrier}: {len(g.parcels)} waiting, {g.in_cage} in the cage"))
        for r in g.parcels:
            cage = "in cage" if r.in_cage else ""
            print(
                shown(
                    f"  {r.since.astimezone():%Y-%m-%d %H:%M}  {r.order_number:<10} {r.seq}  "
                    f"{r.tracking_number or '-':<14} {r.sscc or '-':<18} {cage}"
                )
            )
    if not groups:
        print("no parcels waiting")
    for h in handovers:
        when = f"{h.closed_at.astimezone():%Y-%m-%d %H:%M}" if h.closed_at else "open"
        print(
            shown(f"handover {h.id}: {h.carrier} {h.day} {h.status} ({when}), {h.parcels} parcels")
        )
    # --transfer fails (1) while transfers still wait, so a cron job notices.
    return 1 if sent is not None and transfers else 0
