"""Secrets out of URLs: the one place that decides how a URL is shown.

Credentials in a URL never leave pipguard: not on the console, not in ``--json``,
not in error messages, not in cache keys. As pip does, ``https://user:token@host/``
shows as ``https://user:****@host/`` and a lone user name (often a token itself) as
``https://****@host/``; query parameters that carry secrets (``?token=``,
``X-Amz-Signature=``, ...) show as ``token=****``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

__all__ = ["MASK", "keep_auth", "netloc_of", "redact_text", "redact_url", "split_credentials"]

MASK = "****"
# Query parameter names (lower case) whose values are secrets.
_SECRET_PARAMS = frozenset({
    "token", "access_token", "auth", "auth_token", "api_key", "apikey", "key", "password",
    "passwd", "pass", "secret", "signature", "sig", "x-amz-signature", "x-amz-credential",
    "x-amz-security-token", "x-goog-signature", "x-goog-credential", "credential",
})  # fmt: skip
# A URL inside free text: a scheme, then anything up to white space or a quote.
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """``(url without user info, user, password)``; user/password are percent-decoded."""
    from urllib.parse import unquote

    try:
        parts = urlsplit(url)
    except ValueError:
        return url, None, None
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at:
        return url, None, None
    user, colon, password = userinfo.partition(":")
    bare = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return bare, unquote(user), unquote(password) if colon else None


def redact_url(url: str) -> str:
    """``url`` safe to show: user info and secret query values replaced by ``****``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _redact_rough(url)
    netloc = parts.netloc
    userinfo, at, host = netloc.rpartition("@")
    if at:
        user, colon, _ = userinfo.partition(":")
        netloc = f"{user}:{MASK}@{host}" if colon else f"{MASK}@{host}"
    query = parts.query
    if query:
        query = "&".join(_redact_param(p) for p in query.split("&"))
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_text(text: str) -> str:
    """Every URL in ``text`` redacted (see :func:`redact_url`)."""
    if "://" not in text:
        return text
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)


def _redact_param(param: str) -> str:
    name, eq, value = param.partition("=")
    if eq and value and name.lower() in _SECRET_PARAMS:
        return f"{name}={MASK}"
    return param


def _redact_rough(url: str) -> str:
    """For a URL ``urlsplit`` rejects: mask anything between ``//`` and ``@``."""
    return re.sub(r"//[^/@\s]*@", f"//{MASK}@", url)


def netloc_of(url: str) -> str:
    """``host:port`` of ``url``, lower case, without credentials."""
    return urlsplit(split_credentials(url)[0]).netloc.lower()


def keep_auth(old: str, new: str) -> str:
    """``new`` with the credentials of ``old`` when it has none of its own (same host only:
    a same-host redirect or link keeps the request's credentials, as pip does)."""
    _, user, password = split_credentials(old)
    if user is None or split_credentials(new)[1] is not None or netloc_of(old) != netloc_of(new):
        return new
    from urllib.parse import quote

    scheme, _, rest = new.partition("://")
    cred = quote(user, safe="") + (f":{quote(password, safe='')}" if password is not None else "")
    return f"{scheme}://{cred}@{rest}"
