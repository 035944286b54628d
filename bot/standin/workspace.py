"""The simulated Slack workspace: its people, bots and channels, and the demo sales team."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.standin.protocol import JsonDict

# A fixed "created"/"updated" stamp keeps answers deterministic.
EPOCH = 1_700_000_000

# Slack labels zones with long names; zoneinfo only knows the abbreviations.
_TZ_LABELS = {
    "GMT": "Greenwich Mean Time",
    "BST": "British Summer Time",
    "CET": "Central European Time",
    "CEST": "Central European Summer Time",
    "EST": "Eastern Standard Time",
    "EDT": "Eastern Daylight Time",
    "CST": "Central Standard Time",
    "CDT": "Central Daylight Time",
    "PST": "Pacific Standard Time",
    "PDT": "Pacific Daylight Time",
    "JST": "Japan Standard Time",
    "UTC": "Coordinated Universal Time",
}


@dataclass
class SimUser:
    """A member of the simulated workspace (a person, a guest or a bot)."""

    id: str
    name: str
    real_name: str = ""
    # None: a member Slack has no time zone for; users.info then leaves out tz, tz_label and
    # tz_offset, and the bot must fall back to the workspace's zone.
    tz: str | None = "UTC"
    locale: str = "en-US"
    email: str | None = None
    title: str = ""
    is_admin: bool = False
    is_owner: bool = False
    is_primary_owner: bool = False
    is_bot: bool = False
    deleted: bool = False
    is_restricted: bool = False
    is_ultra_restricted: bool = False
    bot_id: str | None = None

    def __post_init__(self) -> None:
        # Fail on a misspelt zone now rather than at the first users.info.
        if self.tz is not None:
            ZoneInfo(self.tz)

    @property
    def tz_offset(self) -> int:
        """Seconds east of UTC right now, as Slack reports it (DST included)."""
        if self.tz is None:
            return 0
        offset = datetime.now(ZoneInfo(self.tz)).utcoffset()
        return int(offset.total_seconds()) if offset is not None else 0

    @property
    def tz_label(self) -> str:
        if self.tz is None:
            return ""
        abbreviation = datetime.now(ZoneInfo(self.tz)).tzname() or self.tz
        return _TZ_LABELS.get(abbreviation, abbreviation)

    def to_api(self, team_id: str, *, include_locale: bool = False) -> JsonDict:
        """The user object as users.info / users.list return it."""
        profile: JsonDict = {
            "title": self.title,
            "real_name": self.real_name,
            "real_name_normalized": self.real_name,
            # As Slack fills it from the full name; people may edit it.
            "first_name": self.real_name.split(" ")[0] if self.real_name else "",
            "display_name": self.name,
            "display_name_normalized": self.name,
            "team": team_id,
        }
        if self.email is not None:
            profile["email"] = self.email
        if self.bot_id is not None:
            profile["bot_id"] = self.bot_id
            profile["always_active"] = True
        user: JsonDict = {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "deleted": self.deleted,
            "color": "9f69e7",
            "real_name": self.real_name,
            "profile": profile,
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_primary_owner": self.is_primary_owner,
            "is_restricted": self.is_restricted,
            "is_ultra_restricted": self.is_ultra_restricted,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": EPOCH,
        }
        if self.tz is not None:
            user |= {"tz": self.tz, "tz_label": self.tz_label, "tz_offset": self.tz_offset}
        if include_locale:
            user["locale"] = self.locale
        return user


@dataclass
class SimChannel:
    """A public or private channel of the simulated workspace."""

    id: str
    name: str
    members: list[str] = field(default_factory=list)
    is_private: bool = False
    is_archived: bool = False
    topic: str = ""
    purpose: str = ""

    def to_api(self, bot_user_id: str) -> JsonDict:
        """The conversation object as conversations.info returns it."""
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": not self.is_private,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "is_archived": self.is_archived,
            "is_general": self.name == "general",
            "is_member": bot_user_id in self.members,
            "num_members": len(self.members),
            "created": EPOCH,
            "topic": {"value": self.topic, "creator": "", "last_set": 0},
            "purpose": {"value": self.purpose, "creator": "", "last_set": 0},
        }


@dataclass
class Workspace:
    """The team the stand-in pretends to be; the bot's own user is added when missing."""

    team_id: str = "T0PULSE01"
    team_name: str = "Pulse Demo"
    domain: str = "pulse-demo"
    bot_user_id: str = "UBOT"
    bot_id: str = "B0PULSEBOT"
    app_id: str = "A0PULSEBOT"
    bot_name: str = "pulsebot"
    # When set, only this xoxb- token is accepted (others answer invalid_auth).
    bot_token: str | None = None
    users: list[SimUser] = field(default_factory=list)
    channels: list[SimChannel] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.user(self.bot_user_id) is None:
            self.users.append(
                SimUser(
                    id=self.bot_user_id,
                    name=self.bot_name,
                    real_name="Pulse",
                    tz="America/Los_Angeles",  # Slack gives bots this default zone
                    is_bot=True,
                    bot_id=self.bot_id,
                )
            )

    def user(self, user_id: str) -> SimUser | None:
        return next((user for user in self.users if user.id == user_id), None)

    def user_by_email(self, email_address: str) -> SimUser | None:
        wanted = email_address.casefold()
        return next(
            (user for user in self.users if user.email and user.email.casefold() == wanted), None
        )

    def channel(self, ref: str) -> SimChannel | None:
        """Find a channel by id, or by name with or without the leading '#'."""
        name = ref.removeprefix("#")
        return next((ch for ch in self.channels if ref == ch.id or ch.name == name), None)

    @classmethod
    def demo(cls) -> Workspace:
        """A sales team of thirteen over five time zones, for tests and `pulsebot demo`."""
        people = [
            # id, handle, real name, zone, locale, title
            ("U01GROSSI", "giulia.rossi", "Giulia Rossi", "Europe/Rome", "it-IT", "Head of Sales"),
            ("U02MBIANC", "marco.bianchi", "Marco Bianchi", "Europe/Rome", "it-IT", "Account Exec"),
            ("U03FESPOS", "francesca.esposito", "Francesca Esposito", "Europe/Rome", "it-IT",
             "Account Exec"),
            ("U04LROMAN", "luca.romano", "Luca Romano", "Europe/Rome", "en-US", "Engineer"),
            ("U05OSMITH", "oliver.smith", "Oliver Smith", "Europe/London", "en-GB", "Account Exec"),
            ("U06AJONES", "amelia.jones", "Amelia Jones", "Europe/London", "en-GB",
             "Customer Success Manager"),
            ("U07JMILLE", "james.miller", "James Miller", "America/New_York", "en-US", "SDR"),
            ("U08EDAVIS", "emily.davis", "Emily Davis", "America/Los_Angeles", "en-US", "Support"),
            ("U09HSATO", "haruto.sato", "Haruto Sato", "Asia/Tokyo", "en-US", "Partner Manager"),
            ("U10CRICCI", "chiara.ricci", "Chiara Ricci", "Europe/Rome", "it-IT", "Account Exec"),
            ("U11PGREEN", "paul.green", "Paul Green", "America/New_York", "en-US", "Consultant"),
            ("U13ACOLOM", "alessandro.colombo", "Alessandro Colombo", "Europe/Rome", "it-IT",
             "Engineer"),
            ("U14SBROWN", "sophie.brown", "Sophie Brown", "Europe/London", "en-GB", "Marketing"),
            ("U15DGARCI", "daniel.garcia", "Daniel Garcia", "America/New_York", "en-US",
             "Account Exec"),
            ("U16YTANAK", "yuki.tanaka", "Yuki Tanaka", "Asia/Tokyo", "en-US", "Solutions Engineer"),
        ]  # fmt: skip
        users = {
            uid: SimUser(
                id=uid,
                name=handle,
                real_name=real_name,
                tz=tz,
                locale=locale,
                email=f"{handle}@pulse-demo.example",
                title=title,
            )
            for uid, handle, real_name, tz, locale, title in people
        }
        manager = users["U01GROSSI"]
        manager.is_admin = manager.is_owner = manager.is_primary_owner = True
        users["U10CRICCI"].deleted = True  # left the company; still listed in channels
        users["U11PGREEN"].is_restricted = True  # multi-channel guest
        crm_bot = SimUser(
            id="U12CRMBOT",
            name="crm-sync",
            real_name="CRM Sync",
            tz="America/Los_Angeles",
            is_bot=True,
            bot_id="B0CRMSYNC",
        )
        workspace = cls(users=[*users.values(), crm_bot])
        bot = workspace.bot_user_id
        # Guests cannot join #general; Slack keeps deactivated people in member lists.
        everyone = [u.id for u in workspace.users if not u.is_bot and not u.is_restricted]
        reps = ["U01GROSSI", "U02MBIANC", "U03FESPOS", "U05OSMITH", "U07JMILLE", "U09HSATO",
                "U15DGARCI"]  # fmt: skip
        workspace.channels = [
            SimChannel("C01GENERAL", "general", [*everyone, bot], purpose="Announcements"),
            SimChannel(
                "C02SALES",
                "sales",
                [*reps, "U10CRICCI", "U11PGREEN", crm_bot.id, bot],
                purpose="Pipeline and deals",
            ),
            SimChannel("C03MANAGERS", "managers", ["U01GROSSI", "U06AJONES", bot], is_private=True),
        ]
        return workspace


def dm_channel_id(user_id: str) -> str:
    """The id of the bot's DM with a user: stable per user, as on Slack."""
    return "D" + hashlib.sha1(user_id.encode()).hexdigest()[:10].upper()
