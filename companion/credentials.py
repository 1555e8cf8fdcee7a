"""credentials.json: Mastodon tokens and IMAP passwords, mode 0600, never printed, never in
config.toml."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from companion.errors import AuthError, ConfigError
from companion.storage_io import write_file

if TYPE_CHECKING:
    from companion.locking import WriteLock


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
    """The accounts and registered OAuth apps, stored with owner-only permissions.

    Every change takes ``lock`` and starts from a fresh read of the file, so three `pln
    login` at once keep three accounts (issue 12: one was kept).
    """

    def __init__(self, path: Path, data: dict[str, Any], *, lock: WriteLock | None = None) -> None:
        self.path = path
        self.lock = lock
        self.data = data
        self.data.setdefault("accounts", {})
        self.data.setdefault("apps", {})

    @classmethod
    def load(cls, path: Path, *, lock: WriteLock | None = None) -> Credentials:
        return cls(path, _read(path), lock=lock)

    @contextmanager
    def editing(self, command: str = "pln login") -> Iterator[Credentials]:
        """Hold the lock with the file freshly read; changes made inside are saved by the
        verbs that make them."""
        if self.lock is None:
            yield self
            return
        with self.lock.holding(command):
            self.data = _read(self.path)
            self.data.setdefault("accounts", {})
            self.data.setdefault("apps", {})
            yield self

    def save(self) -> None:
        write_file(self.path, orjson.dumps(self.data, option=orjson.OPT_INDENT_2), mode=0o600)

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
        """Add or refresh an account and save."""
        with self.editing():
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
        """Forget an account and save; AuthError if there is none by that name."""
        with self.editing("pln logout"):
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
        """Keep an IMAP login's password and save."""
        with self.editing("pln source add"):
            self.data.setdefault("mail", {})[login] = {"password": password}
            self.save()

    def remove_mail_password(self, login: str) -> bool:
        """Forget a login's password; False if none was stored."""
        with self.editing("pln source rm"):
            if self.data.get("mail", {}).pop(login, None) is None:
                return False
            self.save()
        return True

    def app(self, instance: str) -> dict[str, str] | None:
        return self.data["apps"].get(instance)

    def put_app(self, instance: str, client_id: str, client_secret: str) -> None:
        """Remember pln's OAuth app on an instance and save."""
        with self.editing():
            self.data["apps"][instance] = {"client_id": client_id, "client_secret": client_secret}
            self.save()


def _read(path: Path) -> dict[str, Any]:
    """credentials.json as a dict ({} when missing); ConfigError naming the way back."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror}") from e
    try:
        if stat.S_IMODE(os.stat(path).st_mode) & 0o077:
            os.chmod(path, 0o600)  # tokens are secrets: tighten rather than refuse
    except OSError:
        pass
    if not raw.strip():
        raise ConfigError(f"{path} is empty: the accounts in it are lost — run `pln doctor "
                          "--repair` (it moves the file aside), then `pln login` again for each")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise ConfigError(f"{path} is not valid JSON ({e}) — run `pln doctor --repair` (it "
                          "moves the file aside), then `pln login` again for each account") from e
    if not isinstance(data, dict):
        raise ConfigError(f"{path} is not a JSON object — run `pln doctor --repair` (it moves "
                          "the file aside), then `pln login` again for each account")
    return data
