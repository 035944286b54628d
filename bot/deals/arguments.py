"""What reps type after `/deal`: deal references and the arguments of `/deal new` and `next`."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Final, TypeAlias

from bot.parsing.dates import take_date_from_today
from bot.parsing.money import Money, is_currency_marker, looks_like_amount, parse_amount
from bot.parsing.text import ParseError, excerpt, is_user_id, parse_user_mention, split_keyword

# The ParseError keys of deal arguments and their params, beside bot.parsing's (ERROR_PARAMS
# in bot.parsing.text). Keys are stable: the en/it catalog renders them. Params hold raw user
# text (Slack markup already unescaped): escape them when rendering.
#   deal.id_invalid             value            "#0" or an id beyond 64 bits
#   deal.name_empty             -
#   deal.name_too_long          max              max is "100"
#   deal.name_invalid           value            control characters (newline, NUL...)
#   deal.new.missing_name       (none)           `/deal new` with no arguments
#   deal.new.unexpected         token            a token that fits no optional part
#   deal.new.duplicate          part             amount | stage | owner | source | close
DEAL_ERROR_PARAMS: Final[Mapping[str, frozenset[str]]] = {
    "deal.id_invalid": frozenset({"value"}),
    "deal.name_empty": frozenset(),
    "deal.name_too_long": frozenset({"max"}),
    "deal.name_invalid": frozenset({"value"}),
    "deal.new.missing_name": frozenset(),
    "deal.new.unexpected": frozenset({"token"}),
    "deal.new.duplicate": frozenset({"part"}),
}

MAX_DEAL_NAME: Final = 100


# --- Deal references ----------------------------------------------------------------------

_DEAL_ID_RE: Final = re.compile(r"#([0-9]+)")
_MAX_DEAL_ID: Final = 2**63 - 1  # BIGINT


def deal_name_key(name: str) -> str:
    """Case- and spacing-insensitive key under which deal names are matched and stored."""
    # NFC so a macOS-decomposed "è" matches a composed one.
    return unicodedata.normalize("NFC", " ".join(name.casefold().split()))


def _checked_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ParseError("deal.name_empty")
    if len(name) > MAX_DEAL_NAME:
        raise ParseError("deal.name_too_long", max=str(MAX_DEAL_NAME))
    # Quoted text may carry newlines or NUL, which PostgreSQL TEXT rejects outright.
    if any(unicodedata.category(c) == "Cc" for c in name):
        raise ParseError("deal.name_invalid", value=excerpt(name))
    return name


@dataclass(frozen=True, slots=True)
class DealRefById:
    """A deal named by its number, as in ``#12``."""

    id: int

    def __post_init__(self) -> None:
        if isinstance(self.id, bool) or not 1 <= self.id <= _MAX_DEAL_ID:
            raise ParseError("deal.id_invalid", value=f"#{self.id}")


@dataclass(frozen=True, slots=True)
class DealRefByName:
    """A deal named by its name; ``key`` is what lookups compare."""

    name: str
    key: str = field(init=False)

    def __post_init__(self) -> None:
        name = _checked_name(self.name)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "key", deal_name_key(name))


DealRef: TypeAlias = DealRefById | DealRefByName


def parse_deal_ref(token: str) -> DealRef:
    """``#12`` -> DealRefById(12); anything else -> DealRefByName."""
    match = _DEAL_ID_RE.fullmatch(token.strip())
    if match is None:
        return DealRefByName(token)
    digits = match[1]
    if len(digits) > len(str(_MAX_DEAL_ID)):  # spare int() a million-digit string
        raise ParseError("deal.id_invalid", value=excerpt(token))
    return DealRefById(int(digits))


# --- /deal new ----------------------------------------------------------------------------

_SOURCE_KEYWORDS: Final = frozenset({"source", "fonte"})
# A word that may continue an unquoted deal name: letters first (digits, & - . ' inside),
# or a lone joining sign ("Smith & Sons", "Black + Decker").
_NAME_WORD_RE: Final = re.compile(r"[^\W\d_][\w&.'’\-]*|[&+/–-]")
_CLOSE_KEYWORDS: Final = frozenset({"close", "chiusura"})


@dataclass(frozen=True, slots=True)
class NewDealArgs:
    """What ``/deal new`` was asked to create."""

    name: str
    amount: Money | None = None
    stage: str | None = None
    owner_id: str | None = None
    source: str | None = None
    close_date: date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _checked_name(self.name))
        if self.owner_id is not None and not is_user_id(self.owner_id):
            raise ValueError(f"not a Slack user id: {self.owner_id!r}")
        if self.source is not None and not self.source.strip():
            raise ValueError("source must not be blank")


def parse_new_deal_args(
    args: Sequence[str],
    *,
    stages: Sequence[str] | Mapping[str, str],
    default_currency: str,
    today: date,
    language: str = "en",
    quoted_name: bool = True,
) -> NewDealArgs:
    """Read ``<name> [amount] [stage] [@owner] [source:<text>] [close:<date>]``.

    The optional parts may come in any order. Unquoted multi-word values are joined where
    unambiguous: ``50.000 EUR``, ``USD 20000``, ``closed won``, ``close:in 3 days`` (see
    take_date). ``language`` picks the example in a date error. Unless the name was typed
    in quotes (``quoted_name``), the plain words after its first one belong to it too, up
    to the first that begins an optional part (``Acme Robotics 50k`` is *Acme Robotics*).
    """
    if not args:
        raise ParseError("deal.new.missing_name")
    # `stages`: the stage names, or each word a stage may be typed as mapped to its name.
    words = stages if isinstance(stages, Mapping) else {stage: stage for stage in stages}
    stage_by_key = {deal_name_key(word): stage for word, stage in words.items()}
    max_stage_words = max((len(key.split()) for key in stage_by_key), default=0)

    def stage_at(i: int) -> tuple[str, int] | None:
        """The stage starting at args[i] (longest first) and how many tokens it spans."""
        for width in range(min(max_stage_words, len(args) - i), 0, -1):
            stage = stage_by_key.get(deal_name_key(" ".join(args[i : i + width])))
            if stage is not None:
                return stage, width
        return None

    stage_parts = {part for key in stage_by_key for part in key.split()}

    def part_of_name(token: str) -> bool:
        """A plain word that cannot begin an optional part (nor be one of a stage's words,
        so ``ACME closed`` still asks what "closed" means)."""
        return (
            _NAME_WORD_RE.fullmatch(token) is not None
            and deal_name_key(token) not in stage_parts
            and not looks_like_amount(token)
            and not is_currency_marker(token)
        )

    name_end = 1
    if not quoted_name:
        while name_end < len(args) and part_of_name(args[name_end]):
            name_end += 1

    seen: set[str] = set()

    def claim(part: str) -> None:
        if part in seen:
            raise ParseError("deal.new.duplicate", part=part)
        seen.add(part)

    amount: Money | None = None
    stage: str | None = None
    owner_id: str | None = None
    source: str | None = None
    close_date: date | None = None
    i = name_end
    while i < len(args):
        token = args[i]
        nxt = args[i + 1] if i + 1 < len(args) else ""
        keyword = split_keyword(token)
        found_stage = stage_at(i)
        if keyword and keyword[0] in _CLOSE_KEYWORDS:
            claim("close")
            # "close: friday" and "close:in 3 days" spill into the next tokens.
            head = [keyword[1]] if keyword[1] else []
            close_date, width = take_date_from_today([*head, *args[i + 1 :]], today, language)
            i += 1 + width - len(head)
        elif keyword and keyword[0] in _SOURCE_KEYWORDS:
            claim("source")
            value, used = (keyword[1], 1) if keyword[1] else (nxt, 2)
            if not value.strip():
                raise _unexpected(token)
            source = value.strip()
            i += used
        elif (mention := parse_user_mention(token)) is not None:
            claim("owner")
            owner_id = mention
            i += 1
        elif found_stage is not None:
            claim("stage")
            stage, used = found_stage
            i += used
        elif looks_like_amount(token) or (is_currency_marker(token) and looks_like_amount(nxt)):
            claim("amount")
            text, used = token, 1
            # A currency split off by a space: "USD 20000", "€ 50", "50.000 EUR", "1.200,50 €".
            # A stage that happens to be a currency code ("TOP") stays a stage.
            if not looks_like_amount(token) or (
                is_currency_marker(nxt) and stage_at(i + 1) is None
            ):
                text, used = f"{token} {nxt}", 2
            amount = parse_amount(text, default_currency)
            i += used
        else:
            raise _unexpected(token)
    name = " ".join(args[:name_end])
    return NewDealArgs(name, amount, stage, owner_id, source, close_date)


def _unexpected(token: str) -> ParseError:
    return ParseError("deal.new.unexpected", token=excerpt(token))


# --- /deal next ---------------------------------------------------------------------------

_DUE_KEYWORDS: Final = frozenset({"due", "scadenza", "entro"})


def parse_next_step_args(
    args: Sequence[str], *, today: date, language: str = "en"
) -> tuple[str, date | None]:
    """Read ``<task> [due:<date>]`` into the task text and its due date.

    ``due:`` may stand anywhere and its date may be several words (``due:in 3 days``, see
    take_date); the words before and after the date are the task, in their order. With
    ``due:`` given twice the last one counts.
    """
    words: list[str] = []
    due: date | None = None
    i = 0
    while i < len(args):
        keyword = split_keyword(args[i])
        if keyword is None or keyword[0] not in _DUE_KEYWORDS:
            words.append(args[i])
            i += 1
            continue
        # "due: friday" (a space after the colon) and "due:in 3 days" spill into the next tokens.
        head = [keyword[1]] if keyword[1] else []
        due, width = take_date_from_today([*head, *args[i + 1 :]], today, language)
        i += 1 + width - len(head)
    return " ".join(words).strip(), due
