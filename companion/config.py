"""config.toml: settings and sources, validated with locations, edited without losing comments."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from companion.errors import ConfigError, UsageError
from companion.paths import bundled_config_dir
from companion.specs import (
    ACCOUNT,
    BLUESKY,
    FEED,
    IMAP,
    LIST,
    MAIL_KINDS,
    TAG,
    TIMELINES,
    SourceSpec,
    parse_spec,
)
from companion.storage_io import write_file

if TYPE_CHECKING:
    import tomlkit
    from tomlkit.items import AoT, Table

    from companion.locking import WriteLock

# The key that names a source's kind in config.toml, in the order they are checked.
_KIND_KEYS = ("url", "user", "tag", "timeline", "list", "maildir", "mbox", "imap", "bluesky")
_COMMON_KEYS = {"name", "topics", "account", "id", "host"}
_MAIL_KEYS = {"from", "list_id", "mark_seen"}  # options of mail sources (issue 18)


@dataclass(frozen=True)
class Settings:
    """The ``[settings]`` table, with defaults for everything."""

    # Sources fetched at once, and at most per_host of them from one server (issue 14: a
    # sync of feeds 100 ms away is bound by how many wait at once, not by the CPU).
    workers: int = 64
    per_host: int = 4
    timeout: float = 20.0
    max_bytes: int = 10_000_000
    user_agent: str = ""
    first_sync_limit: int = 200
    first_sync_days: int = 7
    retention_days: int = 0  # 0 = never prune automatically
    mark_shares_read: bool = True
    default_account: str | None = None
    # Where Bluesky profiles are read as RSS (``BASE/profile/HANDLE/rss``); tests and
    # mirrors point it elsewhere.
    bluesky_base: str = "https://bsky.app"
    sync_markers: bool = False  # home read position shared with other apps (issue 17)
    tui_mark_read: str = "leave"  # `pln tui`: mark an item read on "open", on "leave", or "manual"


_SETTING_TYPES: dict[str, tuple[type, ...]] = {
    "workers": (int,),
    "per_host": (int,),
    "timeout": (int, float),
    "max_bytes": (int,),
    "user_agent": (str,),
    "first_sync_limit": (int,),
    "first_sync_days": (int,),
    "retention_days": (int,),
    "mark_shares_read": (bool,),
    "default_account": (str,),
    "bluesky_base": (str,),
    "sync_markers": (bool,),
    "tui_mark_read": (str,),
}
TUI_MARK_READ = ("open", "leave", "manual")


def _where(path: Path, loc: str) -> str:
    return f"{path.name}: {loc}"


def _parse_settings(raw: Any, path: Path) -> Settings:
    if raw is None:
        return Settings()
    if not isinstance(raw, dict):
        raise ConfigError(f"{_where(path, 'settings')}: must be a table ([settings])")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in _SETTING_TYPES:
            known = ", ".join(_SETTING_TYPES)
            raise ConfigError(f"{_where(path, 'settings.' + key)}: unknown setting (known: {known})")
        types = _SETTING_TYPES[key]
        if isinstance(value, bool) and bool not in types or not isinstance(value, types):
            want = " or ".join(t.__name__ for t in types)
            raise ConfigError(f"{_where(path, 'settings.' + key)}: expected {want}, got {value!r}")
        if key in ("workers", "per_host", "max_bytes", "first_sync_limit") and value < 1:
            raise ConfigError(f"{_where(path, 'settings.' + key)}: must be at least 1")
        if key in ("timeout",) and value <= 0:
            raise ConfigError(f"{_where(path, 'settings.' + key)}: must be positive")
        if key in ("first_sync_days", "retention_days") and value < 0:
            raise ConfigError(f"{_where(path, 'settings.' + key)}: must not be negative")
        if key == "bluesky_base":
            if not value.startswith(("http://", "https://")):
                raise ConfigError(f"{_where(path, 'settings.' + key)}: expected an http(s):// URL")
            value = value.rstrip("/")
        if key == "tui_mark_read" and value not in TUI_MARK_READ:
            raise ConfigError(f"{_where(path, 'settings.' + key)}: expected one of "
                              f"{', '.join(TUI_MARK_READ)}, got {value!r}")
        values[key] = float(value) if key == "timeout" else value
    return Settings(**values)


_LOC = re.compile(r"^[^:]*: (settings|sources)(?:\[(\d+)\])?(?:\.([\w-]+))?:")


def line_of(text: str, message: str) -> int | None:
    """The line of config.toml a validation message (``config.toml: sources[2].url: …``)
    is about: the key's line, else its table's header line; None if it cannot be found."""
    m = _LOC.match(message)
    if not m:
        return None
    table, index, key = m.group(1), m.group(2), m.group(3)
    lines = text.splitlines()
    header = re.compile(r"^\s*\[\[\s*sources\s*\]\]" if table == "sources"
                        else r"^\s*\[\s*settings\s*\]")
    starts = [n for n, line in enumerate(lines) if header.match(line)]
    if index is not None:
        starts = starts[int(index):int(index) + 1]
    if not starts:
        if key:  # dotted keys at the top level: settings.workers = 1
            dotted = re.compile(rf"^\s*{table}\s*\.\s*{re.escape(key)}\s*=")
            return next((n + 1 for n, line in enumerate(lines) if dotted.match(line)), None)
        return None
    start = starts[0]
    if key:
        keyline = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for n in range(start + 1, len(lines)):
            if re.match(r"^\s*\[", lines[n]):
                break
            if keyline.match(lines[n]):
                return n + 1
    return start + 1


def source_from_table(raw: Any, index: int, path: Path) -> SourceSpec:
    """Validate one ``[[sources]]`` entry; errors name ``sources[index].field``."""
    loc = f"sources[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{_where(path, loc)}: must be a table")
    kinds = [k for k in _KIND_KEYS if k in raw]
    if len(kinds) != 1:
        raise ConfigError(
            f"{_where(path, loc)}: needs exactly one of url, user, tag, timeline, list, maildir, "
            "mbox, imap, bluesky" + (f" (has {', '.join(kinds)})" if kinds else "")
        )
    key = kinds[0]
    unknown = set(raw) - _COMMON_KEYS - set(_KIND_KEYS) - _MAIL_KEYS
    if unknown:
        raise ConfigError(f"{_where(path, loc + '.' + sorted(unknown)[0])}: unknown field")
    for k in ("name", "account", "id", "host"):
        if k in raw and not isinstance(raw[k], str):
            raise ConfigError(f"{_where(path, f'{loc}.{k}')}: expected a string, got {raw[k]!r}")
    topics = raw.get("topics", [])
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise ConfigError(f"{_where(path, loc + '.topics')}: expected a list of strings")
    value = raw[key]
    if not isinstance(value, str):
        raise ConfigError(f"{_where(path, f'{loc}.{key}')}: expected a string, got {value!r}")
    mail: dict[str, Any] = {}
    for k, arg in (("from", "senders"), ("list_id", "list_ids")):
        v = raw.get(k, [])
        v = [v] if isinstance(v, str) else v
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise ConfigError(f"{_where(path, f'{loc}.{k}')}: expected a string or a list of strings")
        mail[arg] = v
    if not isinstance(raw.get("mark_seen", False), bool):
        raise ConfigError(f"{_where(path, f'{loc}.mark_seen')}: expected true or false")
    mail["mark_seen"] = raw.get("mark_seen", False)
    text = {
        "url": value,
        "user": value if value.startswith("@") else f"@{value}",
        "tag": f"#{value.lstrip('#')}" + (f"@{raw['host']}" if raw.get("host") else ""),
        "timeline": value,
        "list": f"list:{value}",
        "maildir": f"maildir:{value}",
        "mbox": f"mbox:{value}",
        "imap": value,
        "bluesky": f"bsky:{value}",
    }[key]
    if key == "imap" and not value.lower().startswith(("imap://", "imaps://")):
        # (not written as imaps://user@host/FOLDER: messages are redacted like URLs with logins)
        raise ConfigError(f"{_where(path, f'{loc}.imap')}: expected an IMAP folder URL: "
                          "imaps:// (or imap://), the user name, '@', the host, '/FOLDER'")
    try:
        spec = parse_spec(
            text, name=raw.get("name"), topics=topics, account=raw.get("account"),
            id=raw.get("id") or None, **mail,
        )
    except UsageError as e:
        detail = e.message
        if key == "url":
            detail = "not a URL" + (f" ({value!r})" if value else "")
        raise ConfigError(f"{_where(path, f'{loc}.{key}')}: {detail}") from e
    if key == "timeline" and spec.kind not in TIMELINES:
        raise ConfigError(
            f"{_where(path, f'{loc}.timeline')}: expected one of {', '.join(TIMELINES)}"
        )
    return replace(spec, index=index)


def source_to_table(spec: SourceSpec) -> Table:
    """The ``[[sources]]`` entry for a spec (the inverse of ``source_from_table``)."""
    import tomlkit

    t = tomlkit.table()
    if spec.kind == FEED:
        t["url"] = spec.target
    elif spec.kind == IMAP:
        t["imap"] = spec.target
    elif spec.kind in MAIL_KINDS:
        t[spec.kind] = spec.target
    elif spec.kind == BLUESKY:
        t["bluesky"] = spec.target
    elif spec.kind == ACCOUNT:
        t["user"] = spec.target
    elif spec.kind == TAG:
        t["tag"] = spec.target
        if spec.host:
            t["host"] = spec.host
    elif spec.kind == LIST:
        t["list"] = spec.target
    else:
        t["timeline"] = spec.kind
    if spec.name:
        t["name"] = spec.name
    if spec.topics:
        t["topics"] = list(spec.topics)
    if spec.account:
        t["account"] = spec.account
    if spec.senders:
        t["from"] = list(spec.senders)
    if spec.list_ids:
        t["list_id"] = list(spec.list_ids)
    if spec.mark_seen:
        t["mark_seen"] = True
    t["id"] = spec.id
    return t


class Config:
    """The parsed config file; edits go through a tomlkit document so comments survive.

    Reading uses the stdlib's tomllib (fast); tomlkit is loaded only to edit.
    """

    def __init__(self, path: Path, text: str, data: dict[str, Any], *,
                 lock: WriteLock | None = None) -> None:
        self.path = path
        self.lock = lock
        self._parse(text, data)

    def _parse(self, text: str, data: dict[str, Any]) -> None:
        """Validate and take ``text`` (parsed as ``data``); nothing changes if it is invalid."""
        try:
            settings, sources = self._read(self.path, data)
        except ConfigError as e:
            # content errors carry the line, as TOML syntax errors do (issue 13)
            line = line_of(text, e.message)
            if line is None:
                raise
            raise ConfigError(f"{e.message} (at line {line})", subject=e.subject) from e
        self.text = text
        self._doc: tomlkit.TOMLDocument | None = None
        self.settings = settings
        self.sources = sources

    @staticmethod
    def _read(path: Path, data: dict[str, Any]) -> tuple[Settings, list[SourceSpec]]:
        settings = _parse_settings(data.get("settings"), path)
        raw_sources = data.get("sources", [])
        if not isinstance(raw_sources, list):
            raise ConfigError(f"{_where(path, 'sources')}: must be an array of tables ([[sources]])")
        sources: list[SourceSpec] = []
        seen: dict[str, int] = {}
        for i, raw in enumerate(raw_sources):
            spec = source_from_table(raw, i, path)
            if spec.id in seen:
                raise ConfigError(
                    f"{_where(path, f'sources[{i}]')}: same source as sources[{seen[spec.id]}]"
                    f" (id {spec.id})"
                )
            seen[spec.id] = i
            sources.append(spec)
        return settings, sources

    @property
    def exists(self) -> bool:
        return self.path.exists()

    @classmethod
    def load(cls, path: Path, *, lock: WriteLock | None = None) -> Config:
        """Read and validate ``path``; a missing file is an empty config. Edits take ``lock``
        and start from a fresh read of the file."""
        return cls(path, *_load_text(path), lock=lock)

    @contextmanager
    def _editing(self) -> Iterator[None]:
        """Hold the lock and re-read the file: an edit never writes back a copy read before
        another pln changed it (issue 12: a sync's 301 update dropped a `pln source add`)."""
        if self.lock is None:
            yield
            return
        with self.lock.holding("pln (editing config.toml)"):
            self._parse(*_load_text(self.path))
            yield

    @property
    def doc(self) -> tomlkit.TOMLDocument:
        """The editable document (comments, order and formatting preserved)."""
        if self._doc is None:
            import tomlkit

            self._doc = tomlkit.parse(self.text)
        return self._doc

    def save(self) -> None:
        """Write the document back atomically (comments and order preserved by tomlkit)."""
        import tomlkit

        write_file(self.path, tomlkit.dumps(self.doc).encode("utf-8"), mode=0o644)

    def _aot(self) -> AoT:
        import tomlkit
        from tomlkit.items import AoT

        if "sources" not in self.doc:
            self.doc.add("sources", tomlkit.aot())
        aot = self.doc["sources"]
        assert isinstance(aot, AoT)
        return aot

    def find(self, canonical: str) -> SourceSpec | None:
        """The configured source whose canonical spec equals ``canonical``, if any."""
        for s in self.sources:
            if s.canonical == canonical or s.id == canonical:
                return s
        return None

    def add_source(self, spec: SourceSpec) -> SourceSpec:
        """Append a source (refusing duplicates) and save."""
        with self._editing():
            return self._add_source(spec)

    def _add_source(self, spec: SourceSpec) -> SourceSpec:
        same = self.find(spec.canonical) or next((s for s in self.sources if s.id == spec.id), None)
        if same is not None:
            raise UsageError(
                f"already following {same.spec} (source {same.id}); nothing changed",
                subject=same.id,
            )
        table = source_to_table(spec)
        table.trivia.indent = "\n"  # a blank line before each new [[sources]]
        aot = self._aot()
        aot.append(table)
        spec = replace(spec, index=len(self.sources))
        self.sources.append(spec)
        self.save()
        return spec

    def add_sources(self, specs: list[SourceSpec]) -> list[SourceSpec]:
        """Append several sources (refusing duplicates) and save once: an import stopped
        half-way (Ctrl-C) leaves the file as it was, and one save is faster than hundreds."""
        with self._editing():
            return self._add_sources(specs)

    def _add_sources(self, specs: list[SourceSpec]) -> list[SourceSpec]:
        added: list[SourceSpec] = []
        aot = self._aot() if specs else None
        # by canonical spec and by id: `find` per source would make an import of thousands
        # quadratic
        known = {s.canonical: s for s in self.sources} | {s.id: s for s in self.sources}
        for spec in specs:
            same = known.get(spec.canonical) or known.get(spec.id)
            if same is not None:
                raise UsageError(
                    f"already following {same.spec} (source {same.id}); nothing changed",
                    subject=same.id,
                )
            table = source_to_table(spec)
            table.trivia.indent = "\n"
            assert aot is not None
            aot.append(table)
            spec = replace(spec, index=len(self.sources))
            self.sources.append(spec)
            added.append(spec)
            known[spec.canonical] = known[spec.id] = spec
        if added:
            self.save()
        return added

    def remove_source(self, source_id: str) -> SourceSpec:
        """Remove the source with this (full) id and save."""
        with self._editing():
            return self._remove_source(source_id)

    def _remove_source(self, source_id: str) -> SourceSpec:
        for i, s in enumerate(self.sources):
            if s.id == source_id:
                del self._aot()[i]
                del self.sources[i]
                self.sources = [replace(x, index=j) for j, x in enumerate(self.sources)]
                self.save()
                return s
        raise UsageError(f"no source with id {source_id!r}")

    def move_feed(self, source_id: str, url: str) -> str:
        """A feed moved permanently (301/308): follow its new URL, unless another source
        already follows that URL (issue 13: that left two sources with one URL). Returns
        what to tell the user."""
        with self._editing():
            return self._move_feed(source_id, url)

    def _move_feed(self, source_id: str, url: str) -> str:
        try:
            target = parse_spec(url).canonical
        except UsageError:
            return f"moved permanently to {url}, which is not a feed URL pln can follow"
        other = next((s for s in self.sources if s.canonical == target and s.id != source_id),
                     None)
        if other is not None:
            return (f"moved permanently to {url}, which you already follow as source "
                    f"{other.id}: remove this one with `pln source rm {source_id}`")
        self._update_source(source_id, url=url)
        return f"moved permanently to {url}"

    def update_source(self, source_id: str, **fields: Any) -> SourceSpec:
        """Change fields of one source entry in place (e.g. a feed's URL after a 301) and save."""
        with self._editing():
            return self._update_source(source_id, **fields)

    def _update_source(self, source_id: str, **fields: Any) -> SourceSpec:
        for i, s in enumerate(self.sources):
            if s.id == source_id:
                table = self._aot()[i]
                for k, v in fields.items():
                    table[k] = v
                if "id" not in table:
                    table["id"] = s.id  # keep the id stable when the URL changes
                new = source_from_table(table.unwrap(), i, self.path)
                self.sources[i] = new
                self.save()
                return new
        raise UsageError(f"no source with id {source_id!r}")


def _load_text(path: Path) -> tuple[str, dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from e
    except OSError as e:
        raise ConfigError(f"{path}: cannot read ({e.strerror})") from e
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: {e}") from e
    return text, data


def install_template(path: Path, *, starter: bool) -> int:
    """Create ``path`` from the bundled example (or starter network); return the source count."""
    name = "starter-educators.toml" if starter else "example.toml"
    write_file(path, (bundled_config_dir() / name).read_bytes(), mode=0o644)
    return len(Config.load(path).sources)
