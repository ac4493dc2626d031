"""Web addresses, e-mail addresses and file paths, spelled out as a reader says them.

``"https://example.com/path?q=1"`` -> ``"example dot com slash path question mark q
equals 1"``, ``"john.doe@example.com"`` -> ``"john dot doe at example dot com"``,
``"/usr/local/bin"`` -> ``"slash usr slash local slash bin"``, ``"main.py"`` -> ``"main
dot py"``. The scheme (``https://``) is not read; digits are left for the number
rules. Nothing inside an address is left as punctuation, so the sentence splitter
does not cut it at its ``.`` or ``?``; punctuation after it (a full stop ending the
sentence) is kept. Used by :func:`voxclone.text.normalize.normalize_text`.
"""

from __future__ import annotations

import re

__all__ = ["expand_addresses", "spell_address"]

#: Separator inside an address -> its spoken word; other symbols are not read.
_SEPARATORS: dict[str, str] = {
    ".": "dot",
    "/": "slash",
    "\\": "backslash",
    ":": "colon",
    "?": "question mark",
    "=": "equals",
    "&": "and",
    "-": "dash",
    "_": "underscore",
    "#": "hash",
    "%": "percent",
    "+": "plus",
    "~": "tilde",
    "@": "at",
}
_TLDS = (
    "com|org|net|edu|gov|mil|int|io|co|ai|app|dev|info|biz|me|tv|us|uk|ca|de|fr|es|it|"
    "nl|jp|cn|in|ru|br|au|eu|ch|se|no|pl|xyz|online|site|tech|ly|gg|fm|cc|ie|nz|org\\.uk"
)
_EXTENSIONS = (
    "txt|md|rst|pdf|docx?|xlsx?|pptx?|odt|csv|tsv|json|jsonl|ya?ml|toml|ini|cfg|conf|log|"
    "xml|html?|css|js|mjs|ts|jsx|tsx|py|ipynb|rb|go|rs|java|kt|swift|c|cpp|hpp|h|cs|php|"
    "sh|bash|zsh|bat|ps1|sql|db|sqlite|png|jpe?g|gif|svg|webp|bmp|tiff?|ico|mp3|mp4|"
    "wav|flac|ogg|opus|m4a|mov|avi|mkv|webm|zip|tar|gz|tgz|bz2|xz|7z|rar|exe|dll|dmg|"
    "apk|iso|onnx|pt|pth|ckpt|safetensors|npy|npz|wasm|lock|env"
)
#: Punctuation that ends the sentence rather than the address: "see example.com."
_TRAILING = ".,;:!?'\")]}"
_END = r"(?![\w-]|\.\w)"

_ADDRESS_RE = re.compile(
    # URLs with a scheme, or starting with www.
    r"<?(?:\b(?:https?|s?ftp|wss?|git|ssh|file)://|\bmailto:|\bwww\.)[^\s<>\"'`]+>?"
    # e-mail addresses
    r"|(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}"
    rf"\.[A-Za-z]{{2,24}}{_END}"
    # bare domains, with an optional path: "example.com", "docs.python.org/3/"
    r"|(?<![\w@./-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}"
    rf"(?:{_TLDS}){_END}(?:/[^\s<>\"'`]*)?"
    # Windows paths: "C:\Users\ada"
    r"|\b[A-Za-z]:\\[^\s<>\"'`|]*"
    # Unix paths: "/usr/local/bin", "~/notes.txt", "./run.sh", "../data"
    r"|(?<![\w/.~:])(?:~|\.{1,2})?(?:/[A-Za-z_.~][\w.@%+~-]*)+/?"
    # file names with a known extension: "main.py", "Node.js", "report.final.pdf"
    rf"|(?<![\w@./-])[\w-]{{1,100}}(?:\.[\w-]{{1,100}}){{0,4}}\.(?:{_EXTENSIONS}){_END}"
)
_PIECE_RE = re.compile(r"[^\W_]+|\S")
_SCHEME_RE = re.compile(r"^(?:[a-z]+://|mailto:)")


def spell_address(address: str) -> str:
    """Spell out one address: 'www.a-b.com/x?y=1' -> 'www dot a dash b dot com slash x
    question mark y equals 1'. A scheme and a final slash are not read."""
    address = _SCHEME_RE.sub("", address).rstrip("/") or address
    words = (
        piece if piece[0].isalnum() else _SEPARATORS.get(piece, "")
        for piece in _PIECE_RE.findall(address)
    )
    return " ".join(word for word in words if word)


def _address(match: re.Match[str]) -> str:
    address = match[0].removeprefix("<").removesuffix(">")
    kept = len(address.rstrip(_TRAILING))
    while (kept < len(address) and address[kept] == ")"
           and address.count("(", 0, kept) > address.count(")", 0, kept)):
        kept += 1  # a bracket of the address: "wiki/Python_(language)"
    tail = address[kept:]
    spoken = spell_address(address[:kept])
    if not spoken:
        return match[0]
    start, end = match.span()
    before = match.string[start - 1 : start]
    after = match.string[end : end + 1]
    return (" " if before.isalnum() else "") + spoken + tail + (" " if after.isalnum() else "")


def expand_addresses(text: str) -> str:
    """Spell out the URLs, e-mail addresses, file paths and file names in ``text``."""
    return _ADDRESS_RE.sub(_address, text)
