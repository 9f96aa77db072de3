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
  holder died expires.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from packbench.data.engine import Database
from packbench.operations import syncing
from packbench.operations.common import Actor
from packbench.shop.base import AuthError, ShopAdapter, ShopError

log = logging.getLogger("packbench.shop.sync")

LEASE_NAME = "sync"


class SyncStopped(Exception):
    """The run cannot go on (credentials refused); the message is for a person."""


@dataclass
class SyncReport:
    pulled: int = 0
    created: int = 0
    changed: int = 0
    flagged: int = 0
    products: int = 0
    rejected: list[str] = field(default_factory=list)
    pushed: int = 0
    retried: int = 0
    parked: int = 0
    skipped_lease: bool = False
    error: str | None = None

    def summary(self) -> str:
        if self.skipped_lease:
            return "another terminal is syncing"
        text = (
            f"pulled {self.pulled} ({self.created} new, {self.changed} changed, "
            f"{self.flagged} flagged), pushed {self.pushed}, retrying {self.retried}, "
            f"parked {self.parked}"
        )
        if self.products:
            text += f", products {self.products}"
        if self.rejected:
            text += f", rejected {len(self.rejected)}"
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
        rng: random.Random | None = None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> None:
        self.db = db
        self.adapter = adapter
        self.holder = holder
        self.lease_ttl = timedelta(seconds=lease_ttl_s)
        self.overlap = timedelta(seconds=overlap_s)
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.per_page = per_page
        self.rng = rng or random.Random()
        self.progress = progress
        self.actor = Actor(station="sync", terminal=holder)

    # -- rounds -----------------------------------------------------------------------------
    def run_once(self, *, products: bool = False) -> SyncReport:
        """Pull, then push. Raises ``SyncStopped`` when the shop refuses the credentials."""
        report = SyncReport()
        if not syncing.acquire_lease(self.db, LEASE_NAME, self.holder, self.lease_ttl):
            report.skipped_lease = True
            return report
        try:
            if products:
                self.pull_products(report)
            self.pull_orders(report)
            self.push(report)
        except AuthError as exc:
            syncing.record_sync_result(self.db, pulled=report.pulled, error=exc.message)
            raise SyncStopped(exc.message) from None
        except ShopError as exc:
            report.error = exc.message
        syncing.record_sync_result(self.db, pulled=report.pulled, error=report.error)
        return report

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
        too so the loop notices at once.
        """
        first = True
        try:
            while not stop.is_set():
                report = self.run_once(products=first)
                first = False
                if on_report is not None:
                    on_report(report)
                if wake is None:
                    stop.wait(interval_s)
                else:
                    wake.wait(interval_s)
                    wake.clear()
        finally:
            syncing.release_lease(self.db, LEASE_NAME, self.holder)

    def release(self) -> None:
        syncing.release_lease(self.db, LEASE_NAME, self.holder)

    # -- pull -------------------------------------------------------------------------------
    def pull_orders(self, report: SyncReport) -> None:
        # Processing orders are the work; cancelled ones only matter if the bench has them.
        for status in ("processing", "cancelled"):
            self._pull_status(status, report)

    def _pull_status(self, status: str, report: SyncReport) -> None:
        key = f"pull.{status}.modified_after"
        cursor_text = syncing.get_state(self.db, key)
        since = datetime.fromisoformat(cursor_text) - self.overlap if cursor_text else None
        page = 1
        while True:
            result = self.adapter.fetch_orders(
                status=status, modified_after=since, page=page, per_page=self.per_page
            )
            # The adapter has logged each rejection already.
            report.rejected.extend(str(rejected) for rejected in result.rejected)
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
            if self.progress is not None:
                self.progress(status, page, result.total_pages)
            if not result.has_next:
                break
            page += 1

    def pull_products(self, report: SyncReport) -> None:
        page = 1
        while True:
            result = self.adapter.fetch_products(page=page, per_page=self.per_page)
            report.rejected.extend(str(rejected) for rejected in result.rejected)
            report.products += syncing.upsert_products(self.db, result.products)
            if not result.has_next:
                break
            page += 1

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
