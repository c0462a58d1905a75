"""Tokeniser for FQL expressions."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import Enum

from .errors import FQLSyntaxError


class Tok(Enum):
    STRING = "string"
    NUMBER = "number"
    IDENT = "identifier"
    OP = "operator"
    LPAREN = "'('"
    RPAREN = "')'"
    LBRACK = "'['"
    RBRACK = "']'"
    COMMA = "','"
    EOF = "end of expression"


@dataclass(frozen=True, slots=True)
class Token:
    kind: Tok
    pos: int
    text: str
    # STRING: the decoded text; NUMBER: int or float; IDENT: the path segments.
    value: object = None
    # IDENT only: true when written without any backslash escape.
    plain: bool = False


_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}
_PUNCT = {"(": Tok.LPAREN, ")": Tok.RPAREN, "[": Tok.LBRACK, "]": Tok.RBRACK, ",": Tok.COMMA}
_TWO_CHAR_OPS = ("!=", "<=", ">=")
_ONE_CHAR_OPS = "=<>!"
_WHITESPACE = " \t\r\n"


def is_ident_char(c: str) -> bool:
    """Characters allowed unescaped in a field path segment."""
    return ("a" <= c <= "z") or ("A" <= c <= "Z") or ("0" <= c <= "9") or c in "_-"


def _is_ident_start(c: str) -> bool:
    return ("a" <= c <= "z") or ("A" <= c <= "Z") or c == "_" or c == "\\"


def tokenize(src: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    n = len(src)
    while True:
        while i < n and src[i] in _WHITESPACE:
            i += 1
        if i >= n:
            tokens.append(Token(Tok.EOF, n, ""))
            return tokens
        c = src[i]
        if c in _PUNCT:
            tokens.append(Token(_PUNCT[c], i, c))
            i += 1
        elif c in "'\"":
            tok, i = _read_string(src, i)
            tokens.append(tok)
        elif c.isascii() and (c.isdigit() or (c == "-" and i + 1 < n and src[i + 1].isdigit())):
            m = _NUMBER.match(src, i)
            assert m is not None
            text = m.group()
            end = m.end()
            if end < n and (is_ident_char(src[end]) or src[end] in ".\\"):
                raise FQLSyntaxError(f"invalid number '{text}{src[end]}'", i)
            value: int | float
            try:
                value = float(text) if any(ch in text for ch in ".eE") else int(text)
            except ValueError:  # more digits than int() accepts
                raise FQLSyntaxError("number out of range", i) from None
            if isinstance(value, float) and not math.isfinite(value):
                raise FQLSyntaxError("number out of range", i)
            tokens.append(Token(Tok.NUMBER, i, text, value))
            i = end
        elif src.startswith(_TWO_CHAR_OPS, i):
            tokens.append(Token(Tok.OP, i, src[i : i + 2]))
            i += 2
        elif c in _ONE_CHAR_OPS:
            tokens.append(Token(Tok.OP, i, c))
            i += 1
        elif _is_ident_start(c):
            tok, i = _read_ident(src, i)
            tokens.append(tok)
        else:
            raise FQLSyntaxError(f"unexpected character {c!r}", i)


def _read_string(src: str, start: int) -> tuple[Token, int]:
    quote = src[start]
    i = start + 1
    n = len(src)
    out: list[str] = []
    while i < n:
        c = src[i]
        if c == quote:
            return Token(Tok.STRING, start, src[start : i + 1], "".join(out)), i + 1
        if c == "\\":
            if i + 1 >= n:
                break
            nxt = src[i + 1]
            # Unknown escapes keep their backslash, so glob patterns such as
            # 'ab\*d' reach match() intact.
            out.append(_SIMPLE_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
            continue
        out.append(c)
        i += 1
    raise FQLSyntaxError("unterminated string", start)


def _read_ident(src: str, start: int) -> tuple[Token, int]:
    segments: list[str] = []
    current: list[str] = []
    plain = True
    i = start
    n = len(src)
    while i < n:
        c = src[i]
        if c == "\\":
            if i + 1 >= n:
                raise FQLSyntaxError("dangling escape in field path", i)
            current.append(src[i + 1])
            plain = False
            i += 2
        elif is_ident_char(c):
            current.append(c)
            i += 1
        elif c == ".":
            if not current:
                raise FQLSyntaxError("empty field path segment", i)
            segments.append("".join(current))
            current = []
            i += 1
        else:
            break
    if not current:
        raise FQLSyntaxError("empty field path segment", i)
    segments.append("".join(current))
    return Token(Tok.IDENT, start, src[start:i], tuple(segments), plain), i
