"""config.toml: hand-editable, validated with locations, edited without losing comments."""

from __future__ import annotations

from pathlib import Path

import pytest

from companion.config import Config, install_template
from companion.errors import ConfigError
from companion.specs import parse_spec

HAND_WRITTEN = """\
# My PLN — written by hand
[settings]
workers = 4   # my laptop is slow

# --- blogs I love ---
[[sources]]
url = "https://blog.example/feed"   # Dana's blog
name = "Dana"
topics = ["math"]

# --- people ---
[[sources]]
user = "@alice@social.example"
"""


def write(home: Path, text: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    p = home / "config.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_add_and_remove_keep_comments_and_order(pln_home: Path) -> None:
    p = write(pln_home, HAND_WRITTEN)
    cfg = Config.load(p)
    assert cfg.settings.workers == 4
    added = cfg.add_source(parse_spec("#edtech@social.example", topics=["edtech"]))
    text = p.read_text()
    assert text.startswith(HAND_WRITTEN.rstrip("\n"))  # everything before is byte-identical
    assert 'tag = "edtech"' in text and f'id = "{added.id}"' in text
    again = Config.load(p)
    assert [s.spec for s in again.sources] == [
        "https://blog.example/feed", "@alice@social.example", "#edtech@social.example"]
    dana = again.sources[0]
    again.remove_source(dana.id)
    text = p.read_text()
    assert "# My PLN — written by hand" in text and "workers = 4   # my laptop is slow" in text
    assert "blog.example" not in text
    assert [s.spec for s in Config.load(p).sources] == ["@alice@social.example", "#edtech@social.example"]


def test_update_source_keeps_id_when_url_changes(pln_home: Path) -> None:
    p = write(pln_home, HAND_WRITTEN)
    cfg = Config.load(p)
    old = cfg.sources[0]
    new = cfg.update_source(old.id, url="https://blog.example/new-feed")
    assert new.id == old.id and new.target == "https://blog.example/new-feed"
    text = p.read_text()
    assert 'url = "https://blog.example/new-feed"' in text and "# Dana's blog" in text
    assert Config.load(p).sources[0].id == old.id


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[sources]]\nurl = "https://a.example/"\n[[sources]]\nuser = "@b@c.example"\n'
         '[[sources]]\nurl = "not a url"\n', "config.toml: sources[2].url: not a URL ('not a url')"),
        ('[[sources]]\nname = "x"\n', "config.toml: sources[0]: needs exactly one of url, user, tag"),
        ('[[sources]]\nurl = "https://a.example/"\ntag = "x"\n', "sources[0]: needs exactly one"),
        ('[[sources]]\ntag = "two words"\n', "config.toml: sources[0].tag: '#two words' is not a hashtag"),
        ('[[sources]]\ntimeline = "public"\n', "sources[0].timeline"),
        ('[[sources]]\nurl = "https://a.example/"\ncolour = "red"\n', "sources[0].colour: unknown field"),
        ('[[sources]]\nurl = "https://a.example/"\ntopics = "math"\n', "sources[0].topics: expected a list"),
        ('[[sources]]\nurl = 3\n', "sources[0].url: expected a string"),
        ('[[sources]]\nurl = "https://a.example/"\n[[sources]]\nurl = "https://A.example:443/"\n',
         "sources[1]: same source as sources[0]"),
        ("[settings]\nworkers = 0\n", "config.toml: settings.workers: must be at least 1"),
        ('[settings]\nworkers = "8"\n', "settings.workers: expected int"),
        ("[settings]\nmark_shares_read = 1\n", "settings.mark_shares_read: expected bool"),
        ("[settings]\nwrokers = 8\n", "settings.wrokers: unknown setting"),
        ("sources = 3\n", "config.toml: sources: must be an array of tables"),
        ("[settings\nworkers = 8\n", "config.toml: "),
        ('[[sources]]\nurl = "https://a.example/\n', "line 2"),
    ],
)
def test_invalid_config_names_the_location(pln_home: Path, text: str, message: str) -> None:
    p = write(pln_home, text)
    with pytest.raises(ConfigError) as e:
        Config.load(p)
    assert message in str(e.value)
    assert e.value.exit_code == 2


def test_invalid_config_is_one_clear_line_from_the_cli(pln_home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    write(pln_home, '[[sources]]\nurl = "https://a.example/"\n[[sources]]\nurl = "nope"\n')
    before = (pln_home / "config.toml").read_bytes()
    for args in (["source", "list"], ["source", "add", "#pln@m.example"], ["sync"]):
        r = cli(*args, code=2)
        assert r.stderr.strip() == "error: config.toml: sources[1].url: not a URL ('nope') (at line 4)"
        assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    # reading the inbox still works, with the same words as a warning (issue 13)
    r = cli("inbox")
    assert r.stderr.startswith("warning: config.toml: sources[1].url: not a URL ('nope') (at line 4)")
    assert (pln_home / "config.toml").read_bytes() == before


def test_not_utf8_config(pln_home: Path) -> None:
    pln_home.mkdir(parents=True)
    (pln_home / "config.toml").write_bytes(b"\xff\xfe[settings]\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        Config.load(pln_home / "config.toml")


def test_bundled_templates_are_valid(pln_home: Path) -> None:
    n = install_template(pln_home / "a.toml", starter=True)
    cfg = Config.load(pln_home / "a.toml")
    assert n == len(cfg.sources) >= 6
    kinds = {s.kind for s in cfg.sources}
    assert kinds == {"feed", "tag"}  # the starter network needs no login
    assert all(s.host for s in cfg.sources if s.kind == "tag")
    tags = {s.target for s in cfg.sources if s.kind == "tag"}
    assert {"edtech", "pln", "edchat", "mtbos"} <= tags
    assert install_template(pln_home / "b.toml", starter=False) == 0
    assert "[[sources]]" in (pln_home / "b.toml").read_text()  # documented, commented out
