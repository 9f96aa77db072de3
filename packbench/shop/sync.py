"""The sync engine: pull orders from the shop, push the outbox to it, one terminal at a time.

The bench works on its local database and never waits for the shop. This engine, run in the
background (the app's worker, or ``packbench sync --watch``), brings the two together. It does
the talking; every database change goes through ``operations.syncing``.

- **Pull**: orders to be shipped, incrementally by modification time with a small overlap, one
  transaction per page that also moves the cursor, so a crash resumes where it stopped. Changes
  upstream go through ``operations.intake`` (never overwriting the bench's work; flagged when
  the bench had started). Cancelled orders are pulled too, but only those the bench has.
- **Push**: the outbox in order per order. The attempt is recorded before the request, so after
  a crash the engine knows the request may have reached the shop and reads the order back
  first — WooCommerce has no idempotency header, and a second "completed" must never capture
  twice (a completion is always read back first). Transient failures back off exponentially
  with jitter (``Retry-After`` honoured); refusals are parked for a person; a refused key and
  secret stops the run with one clear error instead of a retry storm.
- **Lease**: terminals may share one database; only the lease holder syncs, and a lease whose
  holder died expires. The holder names the process (terminal, host, pid); a round renews the
  lease while it runs, so a long round is never joined by a second terminal, and a stopped
  watch (SIGTERM/SIGINT) gives it back at once.
- **Orders ready to pack**: before a page of orders is written, the products its lines name
  that the bench lacks are fetched by id (variations through their parent); the catalogue is
  then read by what changed since the last round (``modified_after``). Order pages are fetched
  a few at a time when the shop has many (``concurrent_pages``), and written in order.
- **Never dies, always ends**: each round pulls orders, products and pushes separately (a
  failure of one does not keep the others from running: a failed product page is tried again
  next round, orders still come in, completions still go out); ``watch`` logs whatever a round
  raises and keeps its schedule. A round reads at most ``max_pages`` pages a status, no more
  than the shop announced (``X-WP-TotalPages``), and stops when a page repeats the one before.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import random
import socket
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from packbench.core.routing import Layout
from packbench.data.engine import Database
from packbench.operations import sync_products, syncing
from packbench.operations.common import Actor
from packbench.operations.intake import FUTURE_SKEW
from packbench.shop.base import (
    AuthError,
    OrderPage,
    ProductIn,
    ProductPage,
    ProductRef,
    ShopAdapter,
    ShopError,
)

log = logging.getLogger("packbench.shop.sync")

LEASE_NAME = "sync"
#: When the catalogue was last pulled through (in full or what had changed).
PRODUCTS_KEY = "pull.products.done_at"
#: The newest product modification seen by a pull that went through.
PRODUCTS_CURSOR = "pull.products.modified_after"
#: Pages a round reads of one status at most; the cursor moves with every page, so the next
#: round goes on where this one stopped.
MAX_PAGES = 200


def process_holder(name: str) -> str:
    """The lease holder: the terminal's name and the process, so a person can find it."""
    return f"{name} on {socket.gethostname()} pid {os.getpid()}"[:100]


class SyncStopped(Exception):
    """The run cannot go on (credentials refused); the message is for a person."""


@dataclass
class SyncReport:
    pulled: int = 0
    created: int = 0
    changed: int = 0
    flagged: int = 0
    products: int = 0
    refused: int = 0
    rejected: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    pushed: int = 0
    retried: int = 0
    parked: int = 0
    skipped_lease: bool = False
    error: str | None = None

    holder: str | None = None

    @property
    def taken(self) -> int:
        """Orders that came in or changed: what the header counts (re-reads of the overlap,
        which change nothing, are not counted — issue #16 saw 112 "pulled" of a 74-order shop)."""
        return self.created + self.changed

    def summary(self) -> str:
        if self.skipped_lease:
            return "another terminal is syncing" + (f" ({self.holder})" if self.holder else "")
        text = (
            f"pulled {self.pulled} ({self.created} new, {self.changed} changed, "
            f"{self.flagged} flagged), pushed {self.pushed}, retrying {self.retried}, "
            f"parked {self.parked}"
        )
        if self.products:
            text += f", products {self.products}"
        if self.rejected:
            text += f", rejected {len(self.rejected)}"
        if self.refused:
            text += f", refused {self.refused}"
        for note in self.notes:
            text += f"; {note}"
        if self.error:
            text += f"; error: {self.error}"
        return text


class SyncEngine:
    """One shop, one database. Blocking calls: run it in a thread, never on the UI loop."""

    def __init__(
        self,
        db: Database,
        adapter: ShopAdapter,
        *,
        holder: str,
        lease_ttl_s: float = 60.0,
        overlap_s: float = 60.0,
        backoff_base_s: float = 2.0,
        backoff_cap_s: float = 300.0,
        per_page: int = 100,
        max_pages: int = MAX_PAGES,
        layout: Layout | None = None,
        rng: random.Random | None = None,
        progress: Callable[[str, int, int], None] | None = None,
        concurrent_pages: int | None = None,
    ) -> None:
        self.db = db
        self.adapter = adapter
        self.holder = process_holder(holder)
        self.max_pages = max_pages
        self.layout = layout  # the warehouse: which shelves a product may name
        #: Set to end the round after the page in hand (``watch``'s stop; a signal).
        self.stopping = threading.Event()
        self._lease_lost = False
        #: The whole catalogue is pulled (not only what changed) when asked for (``--products``,
        #: a watch's first round).
        self._full_catalogue = False
        #: Order pages fetched side by side (the adapter knows the shop's rate limit).
        wanted: int = concurrent_pages or int(getattr(adapter, "concurrency", 1) or 1)
        self.concurrent_pages = max(1, min(wanted, int(getattr(adapter, "concurrency", wanted))))
        #: Products asked for by id this round: not asked for again.
        self._asked: set[int] = set()
        #: What this round has written of each product and rejected: a product that comes
        #: again the same (by id with its orders, then in the catalogue) is not written or
        #: counted twice.
        self._seen: dict[int, ProductIn] = {}
        self._seen_rejected: set[str] = set()
        #: Products whose SKU another still held when written: tried again, finally, at the
        #: end of the catalogue pull (the holder may have moved to its new SKU by then).
        self._deferred: dict[int, ProductIn] = {}
        self.lease_ttl = timedelta(seconds=lease_ttl_s)
        self.overlap = timedelta(seconds=overlap_s)
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.per_page = per_page
        self.rng = rng or random.Random()
        self.progress = progress
        self.actor = Actor(station="sync", terminal=holder[:64])

    # -- rounds -----------------------------------------------------------------------------
    def run_once(self, *, products: bool = False) -> SyncReport:
        """Pull, then push. Raises ``SyncStopped`` when the shop refuses the credentials.

        ``products``: read the whole catalogue, not only what changed since the last round.
        Orders, products and the push each run whatever happened to the one before: a
        failure is kept in ``report.error`` and the sync state (the header shows it).
        """
        report = SyncReport()
        if not syncing.acquire_lease(self.db, LEASE_NAME, self.holder, self.lease_ttl):
            report.skipped_lease = True
            held = syncing.lease_holder(self.db, LEASE_NAME)
            report.holder = held[0] if held else None
            return report
        self._full_catalogue = products
        self._asked, self._seen, self._seen_rejected, self._deferred = set(), {}, set(), {}
        errors: list[str] = []
        done = threading.Event()
        heartbeat = threading.Thread(target=self._renew, args=(done,), daemon=True)
        heartbeat.start()
        try:
            # Orders first, each page with the products it names that the bench lacks (so a new
            # bench's first orders are packable at once), then whatever changed in the
            # catalogue, then the push.
            for phase in (self.pull_orders, self.pull_products, self.push):
                if self.stopping.is_set() or self._lease_lost:
                    break
                try:
                    phase(report)
                except AuthError as exc:
                    syncing.record_sync_result(self.db, pulled=report.taken, error=exc.message)
                    raise SyncStopped(exc.message) from None
                except ShopError as exc:
                    errors.append(exc.message)
                except Exception as exc:  # a bug or the database: logged, the round goes on
                    log.exception("sync: %s failed", phase.__name__.strip("_"))
                    errors.append(_short(exc))
        finally:
            done.set()
            heartbeat.join()
        if self._lease_lost:
            errors.append("the sync lease was lost; another terminal may have taken over")
        report.error = "; ".join(errors) or None
        syncing.record_sync_result(self.db, pulled=report.taken, error=report.error)
        return report

    def _renew(self, done: threading.Event) -> None:
        """Renew the lease while a round runs, so a long one is never joined by another."""
        every = max(0.05, self.lease_ttl.total_seconds() / 3)
        while not done.wait(every):
            try:
                if not syncing.acquire_lease(self.db, LEASE_NAME, self.holder, self.lease_ttl):
                    log.error("sync lease lost to %s", syncing.lease_holder(self.db, LEASE_NAME))
                    self._lease_lost = True
                    return
            except Exception:  # the database busy for a moment: try again next beat
                log.exception("renewing the sync lease")

    def watch(
        self,
        interval_s: float,
        stop: threading.Event,
        *,
        on_report: Callable[[SyncReport], Any] | None = None,
        wake: threading.Event | None = None,
    ) -> None:
        """Sync every ``interval_s`` until ``stop`` is set; products on the first round.

        Setting ``wake`` starts the next round at once (a station that just queued a change
        the person is waiting for, such as a completion); whoever sets ``stop`` sets ``wake``
        too so the loop notices at once. A round that fails is logged and recorded, and the
        next one comes on time; only refused credentials (``SyncStopped``) end the watch.
        """
        first = True
        self.stopping = stop  # a stop mid-round ends it after the page in hand
        try:
            while not stop.is_set():
                try:
                    report = self.run_once(products=first)
                except SyncStopped:
                    raise
                except Exception as exc:
                    log.exception("sync round failed")
                    report = SyncReport(error=_short(exc))
                    with contextlib.suppress(Exception):
                        syncing.record_sync_result(self.db, pulled=0, error=report.error)
                first = False
                if on_report is not None:
                    try:
                        on_report(report)
                    except Exception:
                        log.exception("showing a sync report")
                if stop.is_set():
                    break
                if wake is None:
                    stop.wait(interval_s)
                else:
                    wake.wait(interval_s)
                    wake.clear()
        finally:
            with contextlib.suppress(Exception):
                syncing.release_lease(self.db, LEASE_NAME, self.holder)

    def stop(self) -> None:
        """End the round after the page in hand (from a signal handler: only sets a flag)."""
        self.stopping.set()

    def release(self) -> None:
        try:
            syncing.release_lease(self.db, LEASE_NAME, self.holder)
        except Exception:  # it runs out by itself; never mask why the caller is ending
            log.exception("releasing the sync lease")

    # -- pull -------------------------------------------------------------------------------
    def pull_orders(self, report: SyncReport) -> None:
        # Processing orders are the work; cancelled ones only matter if the bench has them.
        for status in ("processing", "cancelled"):
            self._pull_status(status, report)

    def _more_pages(
        self, what: str, page: int, announced: int | None, signature: object, last: object
    ) -> bool:
        """Whether to ask for the page after ``page``: bounded by the shop's own count from
        its first page, by ``max_pages``, and never after a page that repeats the one before
        (a shop sending the same page for ever with ``X-WP-TotalPages: 999999``)."""
        if self.stopping.is_set() or self._lease_lost:
            return False
        if signature == last:
            log.warning(
                "%s: page %d repeats page %d; stopping for this round", what, page, page - 1
            )
            return False
        if page >= self.max_pages:
            log.warning("%s: %d pages this round (the cap); the rest next round", what, page)
            return False
        if announced is not None and page >= announced + 1:
            # One page more than announced is allowed: an order that changed meanwhile moves
            # to the end of the list ordered by modification time.
            log.warning("%s: past the %d pages the shop announced; stopping", what, announced)
            return False
        return True

    def _pull_status(self, status: str, report: SyncReport) -> None:
        """One status's pages, in order. When the shop announces more than one page, the next
        ones are fetched while the page in hand is written — ``concurrent_pages - 1`` ahead,
        so that with this thread's own requests (the products a page names) no more than
        ``concurrent_pages`` are ever in flight. They are still written one by one in page
        order, and the page rules (the cap, the shop's own count, a repeated page) are applied
        in that order, so a page fetched ahead that is not needed after all is dropped."""
        key = f"pull.{status}.modified_after"
        cursor = syncing.pull_since(self.db, key)
        since = cursor - self.overlap if cursor else None

        def fetch(number: int) -> OrderPage:
            return self.adapter.fetch_orders(
                status=status, modified_after=since, page=number, per_page=self.per_page
            )

        page = 1
        last: object = None
        ahead: dict[int, Future[OrderPage]] = {}
        pool: ThreadPoolExecutor | None = None
        try:
            result = fetch(page)
            # The shop's own count; a shop that sends none (only Link, or no header) is read
            # until it says there is no next page, within the cap.
            announced = result.total_pages if result.counted else None
            while True:
                signature = (
                    tuple((o.shop_order_id, o.modified_at) for o in result.orders),
                    tuple(str(r) for r in result.rejected),
                )
                go_on = result.has_next and self._more_pages(
                    f"{status} orders", page, announced, signature, last
                )
                # Ahead only of a page that passed the rules, never past the shop's count or
                # the cap (the one page more ``_more_pages`` allows after the count is fetched
                # when it is reached), and only one page while the second may yet repeat the
                # first: a shop that sends the same page for ever costs no request more.
                # A shop that announces no count (no X-WP-TotalPages) is read up to the cap.
                count = announced if announced is not None else self.max_pages
                window = min(1 if page == 1 else self.concurrent_pages - 1, count)
                top = min(count, self.max_pages, page + window)
                if go_on and self.concurrent_pages > 1 and top > page:
                    if pool is None:
                        pool = ThreadPoolExecutor(
                            self.concurrent_pages - 1, thread_name_prefix="sync-fetch"
                        )
                    for number in range(page + 1, top + 1):
                        if number not in ahead:
                            ahead[number] = pool.submit(fetch, number)
                self._take_order_page(status, key, result, report)
                if not go_on:
                    break
                last = signature
                page += 1
                future = ahead.pop(page, None)
                result = future.result() if future is not None else fetch(page)
        finally:
            for future in ahead.values():
                future.cancel()
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)

    def _take_order_page(
        self, status: str, key: str, result: OrderPage, report: SyncReport
    ) -> None:
        # The adapter has logged each rejection already; the dashboard shows them.
        report.rejected.extend(str(rejected) for rejected in result.rejected)
        syncing.note_rejected(self.db, self.actor, ((r.ref, r.reason) for r in result.rejected))
        if status == "processing":
            self._fetch_referenced(result.references, report)
        applied = syncing.apply_order_page(
            self.db,
            self.actor,
            result.orders,
            cursor_key=key,
            only_known=status != "processing",
        )
        report.pulled += applied.pulled
        report.created += applied.created
        report.changed += applied.changed
        report.flagged += applied.flagged
        report.refused += applied.refused
        if applied.future:
            report.notes.append(f"{applied.future} dated in the future (taken)")
        if self.progress is not None:
            self.progress(status, result.page, result.total_pages)

    def _fetch_referenced(self, refs: tuple[ProductRef, ...], report: SyncReport) -> None:
        """The products a page's orders name that the bench does not have yet, fetched by id
        (100 a request; variations through their parent) and written before the page's
        lines, so every line finds its product, GTIN, shelf and sizes. A failure here keeps
        no order out: their lines are linked when the products come (a later round)."""
        missing = sync_products.unknown_products(self.db, (r.shop_id for r in refs)) - self._asked
        if not missing:
            return
        wanted = [r for r in refs if r.shop_id in missing]
        self._asked.update(missing)
        simple = [r.product_id for r in wanted if r.variation_id is None]
        by_parent: dict[int, list[int]] = {}
        for r in wanted:
            if r.variation_id is not None:
                by_parent.setdefault(r.product_id, []).append(r.variation_id)
        fetches: list[tuple[str, Callable[[], ProductPage]]] = []
        if simple:
            fetches.append(("products", partial(self.adapter.fetch_products_by_id, simple)))
        for parent, ids in by_parent.items():
            what = f"variations of product {parent}"
            fetches.append((what, partial(self.adapter.fetch_variations, parent, ids)))
        for what, fetch in fetches:
            try:
                page = fetch()
            except AuthError:
                raise
            except ShopError as exc:
                self._asked.difference_update(missing)  # tried again with the next page
                log.warning("the %s the orders name could not be fetched: %s", what, exc)
                report.notes.append(f"{what} not fetched: {exc.message}")
                continue
            self._apply_products(page, report)

    def _apply_products(self, result: ProductPage, report: SyncReport) -> None:
        rejected = [r for r in result.rejected if str(r) not in self._seen_rejected]
        self._seen_rejected.update(str(r) for r in rejected)
        report.rejected.extend(str(r) for r in rejected)
        syncing.note_rejected(self.db, self.actor, ((r.ref, r.reason) for r in rejected))
        products = [p for p in result.products if self._seen.get(p.shop_product_id) != p]
        if not products:
            return
        applied = sync_products.apply_product_page(
            self.db, self.actor, products, final=False, layout=self.layout
        )
        report.products += applied.taken
        report.refused += applied.refused
        for p in products:
            self._seen[p.shop_product_id] = p
            self._deferred.pop(p.shop_product_id, None)
        for p in applied.deferred:
            del self._seen[p.shop_product_id]
            self._deferred[p.shop_product_id] = p

    def pull_products(self, report: SyncReport) -> None:
        """What changed in the catalogue since the last pull (by ``modified_after``, with the
        overlap), every round; the whole catalogue on a new bench, or when asked. The cursor
        moves when the pull is through: pages come in id order, so a pull cut short starts
        from the same place next round."""
        cursor = None if self._full_catalogue else syncing.pull_since(self.db, PRODUCTS_CURSOR)
        since = cursor - self.overlap if cursor else None
        horizon = datetime.now(UTC) + FUTURE_SKEW
        newest = cursor
        page = 1
        announced: int | None = None
        last: object = None
        complete = False
        try:
            while True:
                result = self.adapter.fetch_products(
                    page=page, per_page=self.per_page, modified_after=since
                )
                if announced is None and result.counted:
                    announced = result.total_pages
                self._apply_products(result, report)
                stamp = result.newest_modified
                if stamp is not None and stamp <= horizon and (newest is None or stamp > newest):
                    newest = stamp
                signature = (
                    tuple(p.shop_product_id for p in result.products),
                    tuple(str(r) for r in result.rejected),
                )
                if not result.has_next:
                    complete = True
                    break
                if not self._more_pages("products", page, announced, signature, last):
                    break
                last = signature
                page += 1
        finally:
            if self._deferred:  # a SKU held by a product of a later page may be free by now
                deferred, self._deferred = list(self._deferred.values()), {}
                applied = sync_products.apply_product_page(
                    self.db, self.actor, deferred, final=True, layout=self.layout
                )
                report.products += applied.taken
                report.refused += applied.refused
        if complete:
            if newest is not None and newest != cursor:
                syncing.set_state(self.db, PRODUCTS_CURSOR, newest.isoformat())
            syncing.set_state(self.db, PRODUCTS_KEY, datetime.now().astimezone().isoformat())

    # -- push -------------------------------------------------------------------------------
    def push(self, report: SyncReport) -> None:
        blocked: set[int | None] = set()
        now = datetime.now().astimezone()
        for item_id, order_id, due in syncing.due_outbox(self.db):
            if order_id in blocked:
                continue  # an earlier change of this order has not gone through: keep order
            if due is not None and due > now:
                blocked.add(order_id)
                continue
            if not self._push_one(item_id, report):
                blocked.add(order_id)

    def backoff(self, attempts: int, retry_after: float | None = None) -> timedelta:
        delay = min(self.backoff_cap_s, self.backoff_base_s * 2 ** max(0, attempts - 1))
        delay *= 0.5 + self.rng.random()  # jitter: terminals that failed together spread out
        if retry_after is not None:
            delay = max(delay, retry_after)
        return timedelta(seconds=delay)

    def _push_one(self, item_id: int, report: SyncReport) -> bool:
        """Send one item. True when it is settled (done or parked), False when it must wait."""
        job = syncing.begin_push(self.db, item_id, self.backoff)
        if job is None:
            return True
        if job.shop_order_id is None:
            syncing.push_parked(self.db, self.actor, job.item_id, "the order has no id in the shop")
            report.parked += 1
            return True
        try:
            meta = self._send(job)
        except AuthError:
            raise
        except ShopError as exc:
            if exc.retryable:
                delay = self.backoff(job.attempts, exc.retry_after)
                syncing.push_retry_later(self.db, job.item_id, exc.message, delay)
                report.retried += 1
                log.info("outbox %s: will retry in %s (%s)", job.item_id, delay, exc.message)
                return False
            syncing.push_parked(self.db, self.actor, job.item_id, exc.message)
            report.parked += 1
            log.warning("outbox %s parked: %s", job.item_id, exc.message)
            return True
        syncing.push_done(self.db, self.actor, job.item_id, meta)
        report.pushed += 1
        return True

    def _send(self, job: syncing.PushJob) -> dict[str, str]:
        """Make the change in the shop unless it is already there. Returns the order's meta."""
        shop_id = job.shop_order_id
        assert shop_id is not None
        if job.kind == "complete":
            # Always read first: a completed order must never be completed (captured) again.
            remote = self.adapter.get_order(shop_id)
            if remote.status != "completed":
                remote = self.adapter.update_order(shop_id, status="completed")
            return remote.meta
        if job.kind == "meta":
            meta = {str(k): str(v) for k, v in job.payload.get("meta", {}).items()}
            return self.adapter.update_order(shop_id, meta=meta).meta  # an upsert: safe twice
        if job.kind == "note":
            # A short reference in the note finds it again even if the shop reformats the text:
            # a retry after a lost answer must not add (or e-mail the customer) a second note.
            ref = f"ref {hashlib.sha1(job.key.encode()).hexdigest()[:8]}"
            note = f"{job.payload['note']} ({ref})"
            if job.maybe_sent and any(ref in text for text in self.adapter.list_notes(shop_id)):
                return {}
            customer = bool(job.payload.get("customer_note"))
            self.adapter.add_note(shop_id, note, customer_note=customer)
            return {}
        raise ShopError(f"unknown outbox kind {job.kind!r}")


def _short(exc: BaseException) -> str:
    """An unexpected error in one line for the header and the sync state (never a traceback:
    that is in the log)."""
    from packbench.redact import redact

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return redact(f"{type(exc).__name__}: {text}")[:300]
