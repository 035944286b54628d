"""The pipeline's stages, their win probabilities and when a deal in each goes stale."""

from __future__ import annotations

from dataclasses import dataclass

WON = "won"
LOST = "lost"
DEFAULT_STAGES = "lead:10:14,qualified:20:10,nurturing:30:21,proposal:50:7,negotiation:70:5"


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    probability: int  # percent, 0–100
    stale_days: int

    def __post_init__(self) -> None:
        if not self.name.isidentifier() or self.name != self.name.lower():
            raise ValueError(f"stage name {self.name!r} must be one lower-case word")
        if not 0 <= self.probability <= 100:
            raise ValueError(f"stage {self.name}: probability must be 0–100")
        if self.stale_days < 1:
            raise ValueError(f"stage {self.name}: stale days must be at least 1")


@dataclass(frozen=True, slots=True)
class Pipeline:
    """Open stages in order, then the two closed ones: `won` (100%) and `lost` (0%)."""

    open_stages: tuple[Stage, ...]

    def __post_init__(self) -> None:
        names = [stage.name for stage in self.open_stages]
        if not names:
            raise ValueError("at least one open stage is needed")
        if len(set(names)) != len(names):
            raise ValueError("stage names must be different")
        if {WON, LOST} & set(names):
            raise ValueError("won and lost are always there; do not list them")

    @classmethod
    def parse(cls, text: str) -> Pipeline:
        """`name:probability:stale_days,…` e.g. `lead:10:14,proposal:50:7`."""
        stages = []
        for part in text.split(","):
            fields = part.strip().split(":")
            if len(fields) != 3:
                raise ValueError(f"{part.strip()!r} is not name:probability:stale_days")
            name, probability, stale_days = fields
            try:
                stages.append(Stage(name.strip().lower(), int(probability), int(stale_days)))
            except ValueError as exc:
                raise ValueError(str(exc) if "stage" in str(exc) else f"{part!r}: {exc}") from None
        return cls(tuple(stages))

    @property
    def open_names(self) -> list[str]:
        return [stage.name for stage in self.open_stages]

    @property
    def names(self) -> list[str]:
        return [*self.open_names, WON, LOST]

    @property
    def first(self) -> str:
        return self.open_stages[0].name

    def find(self, text: str) -> str | None:
        wanted = text.strip().lower()
        return wanted if wanted in self.names else None

    def is_open(self, name: str) -> bool:
        return name in self.open_names

    def next_stage(self, name: str) -> str | None:
        """The following open stage; None from the last open stage (use won or lost)."""
        names = self.open_names
        if name not in names or name == names[-1]:
            return None
        return names[names.index(name) + 1]

    def previous_stage(self, name: str) -> str | None:
        names = self.open_names
        if name not in names or name == names[0]:
            return None
        return names[names.index(name) - 1]

    def probability(self, name: str) -> int:
        if name == WON:
            return 100
        return next((s.probability for s in self.open_stages if s.name == name), 0)

    @property
    def probabilities(self) -> dict[str, int]:
        return {stage.name: stage.probability for stage in self.open_stages}

    @property
    def stale_days(self) -> dict[str, int]:
        return {stage.name: stage.stale_days for stage in self.open_stages}

    @property
    def funnel_order(self) -> list[str]:
        """The stages a won deal passes through, in order."""
        return [*self.open_names, WON]
