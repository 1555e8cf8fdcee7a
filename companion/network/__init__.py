"""Growing the network (issue 17): discover people, hashtags and blogs; follow and unfollow on
the logged-in account; share the home timeline's read position with other apps (markers).

- ``discover`` — pure: suggestions with their evidence from plain data (clock passed in);
- ``websites`` — pure: the website links in a Mastodon profile's fields;
- ``markers`` — the read-position rules (pure) and the two small hooks sync and triage call;
- ``api`` — the account's own instance: one Mastodon.py client, errors made plain, servers
  that lack an API told apart (``Unsupported``);
- ``verbs`` — the thin layer: gathers the data, calls the pure parts, acts on the server.
"""
