"""Which deal the words after `/deal <subcommand>` name, without quotes: pure, no database.

Reps type `/deal advance Acme Robotics called today`: the deal is the longest deal name the
words begin with, and the words after it are the note. When the words fit several deals
equally well the rep is asked (never guessed for); when they fit none, near misses are found
per word and by prefix (`ACEM` finds *ACME Corp*).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from bot.deals.arguments import deal_name_key

# A deal name is at most 100 characters, so this many words cover any name worth typing out;
# a long note after the name costs no more than this.
MAX_NAME_WORDS: Final = 20
MAX_CHOICES: Final = 5  # buttons offered when the words fit several deals
MAX_SUGGESTIONS: Final = 3
# difflib ratio from which a typed word (or the typed words) "nearly" is a deal's name word
# (or name): "acem"/"acme" is 0.75, "robtics"/"robotics" 0.93, "acme"/"apex" 0.5.
NEAR: Final = 0.75
MIN_NEAR_WORD: Final = 3  # shorter words ("co", "la") fit too many names to suggest from


@dataclass(frozen=True, slots=True)
class NamedDeal:
    id: int
    name: str
    key: str  # deal_name_key(name)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A deal the words may name, and how many of the words its name takes."""

    deal: NamedDeal
    width: int


@dataclass(frozen=True, slots=True)
class Found:
    deal: NamedDeal
    width: int


@dataclass(frozen=True, slots=True)
class Ambiguous:
    """The words fit several deals: ask which."""

    typed: str
    candidates: tuple[Candidate, ...]


@dataclass(frozen=True, slots=True)
class Missing:
    """No deal fits; `suggestions` nearly do (best first)."""

    typed: str
    suggestions: tuple[Candidate, ...]


Match = Found | Ambiguous | Missing


def name_prefixes(words: Sequence[str]) -> list[str]:
    """The keys of the first 1, 2, … words: what an exact deal name is looked up under."""
    return [
        deal_name_key(" ".join(words[:k])) for k in range(1, min(len(words), MAX_NAME_WORDS) + 1)
    ]


def longest_exact(words: Sequence[str], by_key: Mapping[str, NamedDeal]) -> Candidate | None:
    """The deal whose whole name the words begin with, the longest such name."""
    for width, key in reversed(list(enumerate(name_prefixes(words), start=1))):
        if key in by_key:
            return Candidate(by_key[key], width)
    return None


def with_longer_names(
    exact: Candidate, words: Sequence[str], visible: Iterable[NamedDeal]
) -> Match:
    """An exact name, unless the words run on into a longer name (`acme rob` typed, with
    *Acme* and *Acme Robotics*): then it is a question, not a guess."""
    prefixes = name_prefixes(words)
    if exact.width >= len(prefixes):
        return Found(exact.deal, exact.width)
    longer_key = prefixes[exact.width]
    longer = sorted(
        (d for d in visible if d.key.startswith(longer_key) and d.id != exact.deal.id),
        key=lambda d: (len(d.key), d.id),
    )
    if not longer:
        return Found(exact.deal, exact.width)
    choices = [exact] + [Candidate(d, exact.width + 1) for d in longer]
    return Ambiguous(" ".join(words[: exact.width + 1]), tuple(choices[:MAX_CHOICES]))


def _part_of(typed: str, name_key: str) -> bool:
    """Each typed word begins a name word, in a row: `acm rob` is part of `acme robotics`,
    and so are `robotics` and `rob`; `bot` is not."""
    typed_words, name_words = typed.split(), name_key.split()
    span = len(typed_words)
    return any(
        all(
            word.startswith(part)
            for part, word in zip(typed_words, name_words[j : j + span], strict=True)
        )
        for j in range(len(name_words) - span + 1)
    )


def match_partial(words: Sequence[str], visible: Sequence[NamedDeal]) -> Match:
    """No whole name typed: the most words that begin words of some visible deal's name
    (`robotics`, `acm rob`) name it when they fit one deal and ask when they fit several;
    otherwise near misses are suggested."""
    prefixes = name_prefixes(words)
    for width in range(len(prefixes), 0, -1):
        key = prefixes[width - 1]
        fits = [d for d in visible if _part_of(key, d.key)]
        if len(fits) == 1:
            if len(key) < MIN_NEAR_WORD:  # "co" is too little to act on: offered, not taken
                return Missing(" ".join(words[:width]), (Candidate(fits[0], width),))
            return Found(fits[0], width)
        if fits:
            # Names that begin with the words first, then the shortest.
            fits.sort(key=lambda d: (not d.key.startswith(key), len(d.key), d.id))
            typed = " ".join(words[:width])
            return Ambiguous(typed, tuple(Candidate(d, width) for d in fits[:MAX_CHOICES]))
    suggestions = suggest(words, visible)
    width = suggestions[0].width if suggestions else 1
    return Missing(" ".join(words[:width]), suggestions)


def _near(typed: str, word: str) -> float:
    """How nearly one typed word is a name word, also as the start of it (`robp` ~ `robo…`)."""
    score = difflib.SequenceMatcher(None, typed, word).ratio()
    if len(word) > len(typed):
        score = max(score, difflib.SequenceMatcher(None, typed, word[: len(typed)]).ratio())
    return score


def suggest(words: Sequence[str], visible: Sequence[NamedDeal]) -> tuple[Candidate, ...]:
    """Deals the words nearly name: the typed words against the whole name, or the first typed
    word against any word of the name, each also by prefix."""
    prefixes = name_prefixes(words)
    first = prefixes[0] if prefixes else ""
    scored: list[tuple[float, int, NamedDeal]] = []
    for deal in visible:
        name_words = deal.key.split()
        best, width = 0.0, 1
        for k in range(1, min(len(prefixes), len(name_words) + 1) + 1):
            score = _near(prefixes[k - 1], deal.key)
            if score > best or (score == best and k > width):
                best, width = score, k
        if len(first) >= MIN_NEAR_WORD:
            for word in name_words:
                score = _near(first, word)
                if score > best:
                    best, width = score, 1
        if best >= NEAR:
            scored.append((best, width, deal))
    scored.sort(key=lambda s: (-s[0], len(s[2].key), s[2].id))
    return tuple(Candidate(deal, width) for _, width, deal in scored[:MAX_SUGGESTIONS])
