"""credentials.json: Mastodon tokens and IMAP passwords, mode 0600, never printed, never in
config.toml."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from companion.errors import AuthError, ConfigError
from companion.storage_io import atomic_write_bytes


@dataclass(frozen=True)
class Account:
    """A logged-in identity. ``repr`` never shows the token."""

    name: str
    instance: str  # base URL, e.g. https://mastodon.example
    token: str = field(repr=False)
    handle: str = ""  # @user@host
    user_id: str = ""

    def public(self) -> dict[str, str]:
        """What may be shown: everything but the token."""
        return {"name": self.name, "instance": self.instance, "handle": self.handle}


class Credentials:
    """The accounts and registered OAuth apps, stored with owner-only permissions."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data
        self.data.setdefault("accounts", {})
        self.data.setdefault("apps", {})

    @classmethod
    def load(cls, path: Path) -> Credentials:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return cls(path, {})
        except OSError as e:
            raise ConfigError(f"cannot read {path}: {e.strerror}") from e
        mode = stat.S_IMODE(os.stat(path).st_mode)
        if mode & 0o077:
            os.chmod(path, 0o600)  # tokens are secrets: tighten rather than refuse
        try:
            data = orjson.loads(raw) if raw.strip() else {}
        except orjson.JSONDecodeError as e:
            raise ConfigError(f"{path} is not valid JSON ({e}); run `pln login` again") from e
        if not isinstance(data, dict):
            raise ConfigError(f"{path} is not a JSON object; run `pln login` again")
        return cls(path, data)

    def save(self) -> None:
        atomic_write_bytes(self.path, orjson.dumps(self.data, option=orjson.OPT_INDENT_2), mode=0o600)

    @property
    def accounts(self) -> list[Account]:
        return [self._account(n) for n in self.data["accounts"]]

    @property
    def default_name(self) -> str | None:
        name = self.data.get("default")
        if name in self.data["accounts"]:
            return str(name)
        return next(iter(self.data["accounts"]), None)

    def _account(self, name: str) -> Account:
        raw = self.data["accounts"][name]
        return Account(
            name=name,
            instance=raw.get("instance", ""),
            token=raw.get("token", ""),
            handle=raw.get("handle", ""),
            user_id=str(raw.get("user_id", "")),
        )

    def account(self, name: str | None = None) -> Account:
        """The named account (or the default one); AuthError tells how to log in."""
        if name is None:
            name = self.default_name
            if name is None:
                raise AuthError("no Mastodon account is logged in — run `pln login https://your.instance`")
        if name not in self.data["accounts"]:
            known = ", ".join(self.data["accounts"]) or "none"
            raise AuthError(f"no account named {name!r} (logged in: {known}) — run `pln login`")
        return self._account(name)

    def has(self, name: str) -> bool:
        return name in self.data["accounts"]

    def put_account(self, account: Account, *, make_default: bool = False) -> None:
        self.data["accounts"][account.name] = {
            "instance": account.instance,
            "token": account.token,
            "handle": account.handle,
            "user_id": account.user_id,
        }
        if make_default or not self.data.get("default"):
            self.data["default"] = account.name
        self.save()

    def remove_account(self, name: str) -> Account:
        acct = self.account(name)
        del self.data["accounts"][name]
        if self.data.get("default") == name:
            self.data["default"] = next(iter(self.data["accounts"]), None)
        self.save()
        return acct

    # ----- IMAP passwords (issue 18), one per login (user@host:port), not per folder ------------

    def mail_password(self, login: str) -> str | None:
        """The stored password for an IMAP login, if any."""
        entry = self.data.get("mail", {}).get(login)
        return entry.get("password") if isinstance(entry, dict) else None

    def put_mail_password(self, login: str, password: str) -> None:
        self.data.setdefault("mail", {})[login] = {"password": password}
        self.save()

    def remove_mail_password(self, login: str) -> bool:
        """Forget a login's password; False if none was stored."""
        if self.data.get("mail", {}).pop(login, None) is None:
            return False
        self.save()
        return True

    def app(self, instance: str) -> dict[str, str] | None:
        return self.data["apps"].get(instance)

    def put_app(self, instance: str, client_id: str, client_secret: str) -> None:
        self.data["apps"][instance] = {"client_id": client_id, "client_secret": client_secret}
        self.save()
