"""The ship station's dialogs for a carrier's booking: a pickup point, a void confirmed.

Choosing one of the nearest pickup points, by keyboard alone: ↑/↓ move through the points
(nearest first) and Enter takes the highlighted one; or type its number and Enter. A scanner's
burst typed into the box by mistake (``ORD-5002`` + Enter) is not a number in the list and
chooses nothing. Esc closes without a choice: nothing is booked.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from packbench.carriers import PickupPoint
from packbench.screens.plain import plain


def describe(n: int, point: PickupPoint) -> str:
    kind = " · parcel locker" if point.locker else ""
    hours = f" · {point.opening_hours}" if point.opening_hours else ""
    return f"{n}. {point.describe()}{kind}{hours}"


class ChoosePickupPoint(ModalScreen[PickupPoint | None]):
    """The nearest pickup points for an order; dismissed with the chosen one, or None."""

    DEFAULT_CSS = """
    ChoosePickupPoint { align: center middle; }
    ChoosePickupPoint #points { height: auto; max-height: 16; margin-bottom: 1; }
    """

    BINDINGS: ClassVar = [
        Binding("escape", "cancel", "Book nothing"),
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
    ]

    def __init__(self, number: str, postcode: str, points: tuple[PickupPoint, ...]) -> None:
        super().__init__()
        self.number = number
        self.postcode = postcode
        self.points = points

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):  # a point's line is long: name, street, hours
            yield Static(
                plain(
                    f"Order {self.number}: which pickup point? The nearest to {self.postcode} "
                    "first. ↑/↓ and Enter, or the number and Enter; Esc books nothing."
                ),
                classes="dialog-title",
            )
            yield OptionList(
                *(Option(plain(describe(i, p)), id=str(i)) for i, p in enumerate(self.points, 1)),
                id="points",
            )
            yield Input(placeholder="Number, or Enter for the highlighted one", id="choice")
            yield Static("", id="choice-error")

    def on_mount(self) -> None:
        options = self.query_one("#points", OptionList)
        options.can_focus = False  # the keys go to the box; ↑/↓ move the highlight from here
        options.highlighted = 0
        self.query_one("#choice", Input).focus()

    def action_move(self, step: int) -> None:
        options = self.query_one("#points", OptionList)
        current = options.highlighted or 0
        options.highlighted = max(0, min(len(self.points) - 1, current + step))

    @on(OptionList.OptionSelected, "#points")
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.points[event.option_index])

    @on(Input.Submitted, "#choice")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        box = self.query_one("#choice", Input)
        if not text:
            index = self.query_one("#points", OptionList).highlighted
            if index is not None:
                self.dismiss(self.points[index])
            return
        if text.isdigit() and 1 <= int(text) <= len(self.points):
            self.dismiss(self.points[int(text) - 1])
            return
        box.value = ""
        self.query_one("#choice-error", Static).update(
            plain(
                f"{text[:40]!r} is not one of 1–{len(self.points)}: nothing chosen.",
                style="bold red",
            )
        )

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmVoid(ModalScreen[bool]):
    """The last word before a carrier's booking is voided: type VOID and Enter (a scan or a
    stray Enter confirms nothing); Esc keeps the booking."""

    DEFAULT_CSS = "ConfirmVoid { align: center middle; }"

    BINDINGS: ClassVar = [Binding("escape", "cancel", "Keep the booking")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(plain(self.question), classes="dialog-title")
            yield Input(placeholder="VOID, then Enter (Esc keeps the booking)", id="confirm")
            yield Static("", id="confirm-error")

    def on_mount(self) -> None:
        self.query_one("#confirm", Input).focus()

    @on(Input.Submitted, "#confirm")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip().upper() == "VOID":
            self.dismiss(True)
            return
        self.query_one("#confirm", Input).value = ""
        self.query_one("#confirm-error", Static).update(
            plain("Type VOID to void the booking, or Esc to keep it.", style="bold red")
        )

    def action_cancel(self) -> None:
        self.dismiss(False)
