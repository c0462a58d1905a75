"""The text form of audience and computed trait definitions: Segment's query
language as reference engage.md §12.2 restricts it, parsed to the JSON AST and
printed back (computed traits: :func:`parse_trait` / :func:`trait_to_text`, the
same event filters ending in one of the query language's reducers).

    definition := [ "USERS" | "ACCOUNTS" [":"] ] expr
    e.g. event('Product Viewed').where(property('price') > 100).within(30 days)
         .count() >= 1 AND NOT event('Order Completed').within(30 days).count() >= 1

Choices where the grammar leaves room (printing is canonical, so
``to_text(parse(t))`` is a fixed point and ``parse(to_text(d)) == canonical(d)``):

- Keywords (USERS, ACCOUNTS, AND, OR, NOT, ANY, ALL) in any case; printed upper.
  The type may be followed by a colon (the reference's example ``ACCOUNTS: ALL
  NOT ...``), which is how an accounts definition prints; users print bare.
- ``ALL NOT x`` is ``{"op": "none", "arg": x}`` (the query language's "None of the
  users"); ``ALL (NOT x)`` is ``all`` of a ``not``.
- ``trait('k') = true|false`` is an audience condition when ``is_audience('k')``
  (the grammar names audiences as traits); otherwise a trait condition.
- Comparisons: ``= != > >= < <=`` are printed for eq, neq, gt, gte, lt, lte;
  the functions (``.equals(x)``, ``.omits(x)``, ``.one_of(a, b)``, ``.exists()``...)
  are read too. ``.contains_any(a, b)`` is added for ``contains_any`` (the grammar
  has no name for "contains one of"). The duration operators take a duration:
  ``trait('renewal').within_next(7 days)``.
- Units ``hour``/``hours``/``day``/``days`` are stored and printed as ``hours``/``days``.
- Filters may come in any order, each once; printed where, window, sources.
- Strings in single or double quotes with backslash escapes (``\\'``, ``\\\\``,
  ``\\n``, ``\\t``, ``\\r``, ``\\uXXXX``); printed in single quotes.
- Numbers: integers, decimals and exponents (``-2.5``, ``1e3``); true, false.
  No null: ``.exists()`` / ``.absent()`` test presence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from engage.definitions import schema
from engage.definitions.audiences import validate_audience
from engage.definitions.errors import DefinitionError, pointer
from engage.definitions.traits import validate_trait

_OPS = {"=": "eq", "!=": "neq", ">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}
_OP_TEXT = {v: k for k, v in _OPS.items()}
_COUNT_OPS = {">=": "gte", "=": "eq", "<=": "lte"}
_FUNCTIONS = {
    "equals": "eq",
    "differs": "neq",
    "greater_than": "gt",
    "at_least": "gte",
    "less_than": "lt",
    "at_most": "lte",
    "contains": "contains",
    "omits": "not_contains",
    "starts_with": "starts_with",
    "ends_with": "ends_with",
    "one_of": "in",
    "contains_any": "contains_any",
    "exists": "exists",
    "absent": "not_exists",
    "before_date": "before_date",
    "after_date": "after_date",
    "within_last": "within_last",
    "within_next": "within_next",
    "before_last": "before_last",
    "after_next": "after_next",
}
_FUNCTION_TEXT = {v: k for k, v in _FUNCTIONS.items()}
_UNITS = {"hour": "hours", "hours": "hours", "day": "days", "days": "days"}
_REDUCERS = ("count", "sum", "avg", "min", "max", "mode", "first", "last", "unique")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "/": "/"}


class QuerySyntaxError(ValueError):
    """The text is not in the language; ``offset`` is where reading stopped."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} (at offset {offset})")
        self.message = message
        self.offset = offset


class TextError(NamedTuple):
    """A problem of a text definition: the characters [start, end) it is about,
    and for a rule broken by a well-formed text, the JSON Pointer too."""

    start: int
    end: int
    message: str
    path: str = ""
    code: str = "syntax"


class _Token(NamedTuple):
    kind: str  # name, string, number, op, punct, end
    text: str
    start: int
    end: int
    value: Any = None


def _tokens(text: str) -> list[_Token]:
    found, i, n = [], 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch.isalpha() or ch == "_":
            m = _NAME.match(text, i)
            end = m.end() if m else i + 1
            found.append(_Token("name", text[i:end], i, end))
            i = end
        elif ch in "'\"":
            value, end = _string(text, i)
            found.append(_Token("string", text[i:end], i, end, value))
            i = end
        elif ch.isdigit() or (ch == "-" and i + 1 < n and text[i + 1].isdigit()):
            m = _NUMBER.match(text, i)
            assert m is not None
            raw = m.group()
            number: int | float = float(raw) if m.group(1) or m.group(2) else int(raw)
            found.append(_Token("number", raw, i, m.end(), number))
            i = m.end()
        elif text.startswith((">=", "<=", "!="), i):
            found.append(_Token("op", text[i : i + 2], i, i + 2))
            i += 2
        elif ch in "=<>":
            found.append(_Token("op", ch, i, i + 1))
            i += 1
        elif ch in "().,:[]":
            found.append(_Token("punct", ch, i, i + 1))
            i += 1
        else:
            raise QuerySyntaxError(f"unexpected character {ch!r}", i)
    found.append(_Token("end", "", n, n))
    return found


def _string(text: str, start: int) -> tuple[str, int]:
    quote, i = text[start], start + 1
    out: list[str] = []
    while i < len(text):
        ch = text[i]
        if ch == quote:
            return "".join(out), i + 1
        if ch == "\\":
            nxt = text[i + 1 : i + 2]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[i + 2 : i + 6]):
                out.append(chr(int(text[i + 2 : i + 6], 16)))
                i += 6
                continue
            raise QuerySyntaxError("unknown escape in a string", i)
        out.append(ch)
        i += 1
    raise QuerySyntaxError("a string is not closed", start)


class _Parser:
    def __init__(self, text: str, is_audience: Callable[[str], bool] | None) -> None:
        self.tokens = _tokens(text)
        self.pos = 0
        self.is_audience = is_audience
        self.spans: dict[int, tuple[int, int]] = {}

    # -- tokens
    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def take(self) -> _Token:
        token = self.peek()
        self.pos += 1
        return token

    def keyword(self, word: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == "name" and token.text.upper() == word

    def punct(self, ch: str) -> bool:
        return self.peek().kind == "punct" and self.peek().text == ch

    def expect(self, ch: str, what: str | None = None) -> _Token:
        if not self.punct(ch):
            self.fail(f"expected {what or repr(ch)}")
        return self.take()

    def fail(self, message: str, token: _Token | None = None) -> None:
        token = token or self.peek()
        found = "the end" if token.kind == "end" else repr(token.text)
        raise QuerySyntaxError(f"{message}, found {found}", token.start)

    def mark(self, node: Any, start: int) -> Any:
        self.spans[id(node)] = (start, self.tokens[self.pos - 1].end)
        return node

    def string(self, what: str) -> str:
        if self.peek().kind != "string":
            self.fail(f"expected {what} in quotes")
        return str(self.take().value)

    def integer(self, what: str) -> int:
        token = self.peek()
        if token.kind != "number" or not isinstance(token.value, int):
            self.fail(f"expected {what} (a whole number)")
        return int(self.take().value)

    def duration(self) -> dict[str, Any]:
        start = self.peek().start
        value = self.integer("a number of hours or days")
        token = self.peek()
        if token.kind != "name" or token.text.lower() not in _UNITS:
            self.fail("expected a unit: hours or days")
        self.take()
        return self.mark({"value": value, "unit": _UNITS[token.text.lower()]}, start)

    # -- grammar
    def definition(self, type_: str | None) -> tuple[str | None, dict]:
        declared = self.header(type_)
        root = self.expr(where=False)
        if self.peek().kind != "end":
            self.fail("expected AND, OR or the end")
        return declared, root

    def expr(self, where: bool) -> dict:
        start = self.peek().start
        args = [self.conjunction(where)]
        while self.keyword("OR"):
            self.take()
            args.append(self.conjunction(where))
        return args[0] if len(args) == 1 else self.mark({"op": "or", "args": args}, start)

    def conjunction(self, where: bool) -> dict:
        start = self.peek().start
        args = [self.unary(where)]
        while self.keyword("AND"):
            self.take()
            args.append(self.unary(where))
        return args[0] if len(args) == 1 else self.mark({"op": "and", "args": args}, start)

    def unary(self, where: bool) -> dict:
        start = self.peek().start
        if self.keyword("NOT"):
            self.take()
            return self.mark({"op": "not", "arg": self.unary(where)}, start)
        if self.keyword("ANY") or self.keyword("ALL"):
            if where:
                self.fail("ANY and ALL are not allowed inside where()")
            op = self.take().text.lower()
            if op == "all" and self.keyword("NOT"):
                self.take()
                op = "none"
            return self.mark({"op": op, "arg": self.unary(where)}, start)
        if self.punct("("):
            self.take()
            inner = self.expr(where)
            self.expect(")", "')'")
            return inner
        return self.predicate(where)

    def predicate(self, where: bool) -> dict:
        token = self.peek()
        start = token.start
        name = token.text if token.kind == "name" else None
        if name == "event":
            return self.event(where)
        if name == "trait" and not where:
            self.take()
            self.expect("(")
            trait = self.string("a trait name")
            self.expect(")")
            node = self.comparison({"kind": "trait", "trait": trait})
            value = node["value"]
            if (
                node["cmp"] == "eq"
                and isinstance(value, bool)
                and self.is_audience
                and self.is_audience(trait)
            ):
                node = {"kind": "audience", "audience_key": trait, "member": value}
            return self.mark(node, start)
        if name in ("property", "context") and where:
            self.take()
            self.expect("(")
            if self.keyword("PARENT") and self.peek(1).text == ":":
                self.fail("property(parent: ...) is a value to compare with, not a condition")
            path = self.string("a property path")
            self.expect(")")
            return self.mark(self.comparison({"kind": name, "path": path}), start)
        if where:
            self.fail(
                "expected a condition inside where(): property(...), context(...) or "
                "a following event(...)"
            )
        self.fail("expected a condition: event(...), trait(...), NOT, ANY, ALL or '('")
        raise AssertionError  # fail raised

    def event(self, where: bool) -> dict:
        start = self.take().start
        self.expect("(")
        node: dict[str, Any] = {"kind": "event", "event": self.string("an event name")}
        self.expect(")")
        filters, _count = self.filters(("count",), "'.count()' (an event condition counts events)")
        self.expect(")")
        op = self.peek()
        if op.kind != "op" or op.text not in _COUNT_OPS:
            self.fail("a count is compared with >= (at least), = (exactly) or <= (at most)")
        self.take()
        count = {"cmp": _COUNT_OPS[op.text], "value": self.integer("a count")}
        self.mark(count, op.start)
        node.update(filters)
        node["count"] = count
        del where
        return self.mark(node, start)

    def filters(self, reducers: tuple[str, ...], hint: str) -> tuple[dict[str, Any], str]:
        """An event's filters up to its reducer (the reducer's name and its "(" read):
        ``where``, ``window`` (None when absent) and ``exclude_sources`` if given."""
        found: dict[str, Any] = {}
        while True:
            self.expect(".", hint)
            token = self.peek()
            name = token.text if token.kind == "name" else ""
            if name in reducers:
                self.take()
                self.expect("(")
                break
            slot = "window" if name in ("within", "between") else name
            if name not in ("where", "within", "between", "sources"):
                expected = ", ".join(reducers)
                self.fail(f"expected where, within, between, sources or {expected}", token)
            if slot in found:
                self.fail(f"this event already has a {slot}", token)
            self.take()
            self.expect("(")
            if name == "where":
                found["where"] = self.expr(where=True)
            elif name == "within":
                relative = "now"
                if self.keyword("PARENT") and self.peek(1).text == ":":
                    self.take()
                    self.take()
                    relative = "parent"
                length = self.duration()
                found["window"] = {"type": "within", **length, "relative_to": relative}
            elif name == "between":
                first = self.duration()
                self.expect(",")
                found["window"] = {"type": "between", "start": first, "end": self.duration()}
            else:
                if not (self.keyword("EXCLUDE") and self.peek(1).text == ":"):
                    self.fail("expected exclude: [...]")
                self.take()
                self.take()
                self.expect("[")
                sources = [self.string("a source")]
                while self.punct(","):
                    self.take()
                    sources.append(self.string("a source"))
                self.expect("]")
                found["sources"] = sources
            self.expect(")", "')'")
            if slot == "window":
                self.mark(found["window"], token.start)
        result = {"where": found.get("where"), "window": found.get("window")}
        if "sources" in found:
            result["exclude_sources"] = found["sources"]
        return result, name

    def header(self, type_: str | None) -> str | None:
        declared = None
        if self.keyword("USERS") or self.keyword("ACCOUNTS"):
            declared = self.take().text.lower()
            if self.punct(":"):
                self.take()
        if declared and type_ and declared != type_:
            raise QuerySyntaxError(
                f"the text defines {declared}, but this is a definition of {type_}", 0
            )
        return declared

    def trait(self, type_: str | None) -> dict[str, Any]:
        declared = self.header(type_)
        if self.peek().text != "event":
            self.fail("a computed trait starts with event(...)")
        self.take()
        self.expect("(")
        event = self.string("an event name")
        self.expect(")")
        filters, reducer = self.filters(
            _REDUCERS, "'.' and a reducer (" + ", ".join(_REDUCERS) + ")"
        )
        definition: dict[str, Any] = {
            "version": 1,
            "type": declared or type_ or schema.USERS,
            "event": event,
            **filters,
        }
        if reducer == "count":
            definition["kind"] = "event_counter"
        else:
            definition["property"] = self.property_argument()
            if reducer in schema.AGGREGATIONS:
                definition["kind"], definition["aggregation"] = "aggregation", reducer
            elif reducer == "mode":
                definition["kind"] = "most_frequent"
                if self.punct(","):
                    self.take()
                    definition["min_frequency"] = self.integer("a minimum frequency")
            else:
                definition["kind"] = reducer if reducer != "unique" else "unique_list"
        self.expect(")", "')'")
        if reducer == "unique" and self.punct("."):
            self.take()
            if self.peek().text != "count":
                self.fail("expected count() (the number of unique values)")
            self.take()
            self.expect("(")
            self.expect(")")
            definition["kind"] = "unique_list_count"
        if self.peek().kind != "end":
            self.fail("expected the end")
        return definition

    def property_argument(self) -> str:
        if self.peek().text != "property":
            self.fail("expected property('...'), the event property to compute over")
        self.take()
        self.expect("(")
        path = self.string("a property path")
        self.expect(")")
        return path

    def comparison(self, node: dict[str, Any]) -> dict[str, Any]:
        token = self.peek()
        if token.kind == "op":
            self.take()
            node["cmp"] = _OPS[token.text]
            node["value"] = self.operand()
            return node
        if not self.punct("."):
            self.fail("expected a comparison (=, !=, >, >=, <, <=) or .function(...)")
        self.take()
        fn = self.peek()
        if fn.kind != "name" or fn.text not in _FUNCTIONS:
            self.fail("expected a comparison function (" + ", ".join(_FUNCTIONS) + ")")
        self.take()
        cmp = _FUNCTIONS[fn.text]
        self.expect("(")
        value: Any
        if cmp in schema.PRESENCE_CMPS:
            value = None
        elif cmp in schema.DURATION_CMPS:
            value = self.duration()
        elif cmp in schema.LIST_CMPS:
            value = []
            list_start = self.peek().start
            if not self.punct(")"):
                value.append(self.literal())
                while self.punct(","):
                    self.take()
                    value.append(self.literal())
            if value:
                self.mark(value, list_start)
        else:
            value = self.operand()
        self.expect(")", "')'")
        node["cmp"], node["value"] = cmp, value
        return node

    def literal(self) -> str | int | float | bool:
        token = self.peek()
        if token.kind in ("string", "number"):
            self.take()
            return token.value
        if token.kind == "name" and token.text.lower() in ("true", "false"):
            self.take()
            return token.text.lower() == "true"
        self.fail("expected a value: a string in quotes, a number, true or false")
        raise AssertionError

    def operand(self) -> Any:
        token = self.peek()
        if token.kind == "name" and token.text in ("trait", "property", "context"):
            start = self.take().start
            self.expect("(")
            if token.text == "trait":
                ref = {"ref": "trait", "name": self.string("a trait name")}
            elif token.text == "property" and self.keyword("PARENT") and self.peek(1).text == ":":
                self.take()
                self.take()
                ref = {"ref": "parent_property", "path": self.string("a property path")}
            else:
                self.fail(
                    "a value may be trait('...') or property(parent: '...') "
                    "(the parent event's property)",
                    token,
                )
                raise AssertionError
            self.expect(")")
            return self.mark(ref, start)
        return self.literal()


def parse(
    text: str,
    *,
    type: str | None = None,
    is_audience: Callable[[str], bool] | None = None,
    include_anonymous: bool = False,
    include_historical: bool = True,
) -> dict[str, Any]:
    """The JSON definition of ``text``. ``type`` is "users" or "accounts" when the
    text does not say (USERS by default; a text saying the other is an error).
    ``is_audience(key)`` tells audience keys from traits; the two flags are the
    builder's checkboxes, not part of the text. Raises :class:`QuerySyntaxError`.
    The result is well-formed, not necessarily valid: see :func:`check_text`."""
    return _parse(text, type, is_audience, include_anonymous, include_historical)[0]


def _parse(
    text: str,
    type_: str | None,
    is_audience: Callable[[str], bool] | None,
    include_anonymous: bool,
    include_historical: bool,
) -> tuple[dict[str, Any], dict[int, tuple[int, int]]]:
    parser = _Parser(text, is_audience)
    declared, root = parser.definition(type_)
    definition = {
        "version": 1,
        "type": declared or type_ or schema.USERS,
        "include_anonymous": include_anonymous,
        "include_historical": include_historical,
        "root": root,
    }
    return definition, parser.spans


def check_text(
    text: str,
    *,
    type: str | None = None,
    is_audience: Callable[[str], bool] | None = None,
    include_anonymous: bool = False,
    include_historical: bool = True,
) -> tuple[dict[str, Any] | None, list[TextError]]:
    """Parse and validate: ``(definition, [])`` for a valid text; otherwise the
    definition (None for a syntax error) and every problem, located in the text
    (the rule's node's characters) and in the JSON."""
    try:
        definition, spans = _parse(text, type, is_audience, include_anonymous, include_historical)
    except QuerySyntaxError as failure:
        end = min(failure.offset + 1, len(text))
        return None, [TextError(failure.offset, end, failure.message)]
    return definition, _locate(text, definition, spans, validate_audience(definition))


def _locate(
    text: str,
    definition: dict[str, Any],
    spans: dict[int, tuple[int, int]],
    errors: list[DefinitionError],
) -> list[TextError]:
    """Each error at the characters of the nearest node around its path."""
    located = dict(_spans(definition, (), spans))
    found = []
    for error in errors:
        parts = error.path.split("/")
        start, end = 0, len(text)
        while parts:
            if "/".join(parts) in located:
                start, end = located["/".join(parts)]
                break
            parts.pop()
        found.append(TextError(start, end, error.message, error.path, error.code))
    return found


def parse_trait(text: str, *, type: str | None = None) -> dict[str, Any]:
    """The JSON definition of a computed trait's text, the query language's
    reducers: ``event('Order Completed').where(...).within(90 days)`` then
    ``.count()``, ``.sum|avg|min|max(property('revenue'))``,
    ``.mode(property('category')[, 2])``, ``.first(...)``, ``.last(...)``,
    ``.unique(property('p'))`` or ``.unique(property('p')).count()``. Raises
    :class:`QuerySyntaxError`; see :func:`check_trait_text` for the rules."""
    return _Parser(text, None).trait(type)


def check_trait_text(
    text: str, *, type: str | None = None
) -> tuple[dict[str, Any] | None, list[TextError]]:
    """:func:`parse_trait` and :func:`validate_trait`, errors located in the text."""
    parser = _Parser(text, None)
    try:
        definition = parser.trait(type)
    except QuerySyntaxError as failure:
        end = min(failure.offset + 1, len(text))
        return None, [TextError(failure.offset, end, failure.message)]
    return definition, _locate(text, definition, parser.spans, validate_trait(definition))


def trait_to_text(definition: dict[str, Any]) -> str:
    """The canonical text of a (well-formed) computed trait definition."""
    text = _event_head(definition)
    kind = definition["kind"]
    if kind == "event_counter":
        text += ".count()"
    else:
        argument = f"property({_quote(definition['property'])})"
        if kind == "aggregation":
            text += f".{definition['aggregation']}({argument})"
        elif kind == "most_frequent":
            threshold = definition.get("min_frequency")
            text += f".mode({argument}" + (f", {threshold})" if threshold is not None else ")")
        elif kind in ("unique_list", "unique_list_count"):
            text += f".unique({argument})" + (".count()" if kind == "unique_list_count" else "")
        else:
            text += f".{kind}({argument})"
    return f"ACCOUNTS: {text}" if definition.get("type") == schema.ACCOUNTS else text


def _spans(
    node: Any, path: tuple[str | int, ...], spans: dict[int, tuple[int, int]]
) -> Iterator[tuple[str, tuple[int, int]]]:
    if id(node) in spans and isinstance(node, dict | list):
        yield pointer(path), spans[id(node)]
    children = (
        node.items()
        if isinstance(node, dict)
        else (enumerate(node) if isinstance(node, list) else ())
    )
    for key, child in children:
        yield from _spans(child, (*path, key), spans)


# -- printing


def to_text(definition: dict[str, Any]) -> str:
    """The canonical text of a (well-formed) definition. ``include_anonymous`` and
    ``include_historical`` are not part of the text."""
    body = _node(definition["root"])
    return f"ACCOUNTS: {body}" if definition.get("type") == schema.ACCOUNTS else body


def _node(node: dict[str, Any]) -> str:
    op = node.get("op")
    if op in schema.GROUP_OPS:
        if len(node["args"]) == 1:
            return _node(node["args"][0])
        word = f" {op.upper()} "
        return word.join(_operand_of(op, arg) for arg in node["args"])
    if op == "not":
        return "NOT " + _unary(node["arg"])
    if op == "any":
        return "ANY " + _unary(node["arg"])
    if op == "none":
        return "ALL NOT " + _unary(node["arg"])
    if op == "all":
        arg = node["arg"]
        return "ALL " + (f"({_node(arg)})" if arg.get("op") == "not" else _unary(arg))
    kind = node["kind"]
    if kind == "event":
        return _event(node)
    if kind == "audience":
        return f"trait({_quote(node['audience_key'])}) = {_literal(node['member'])}"
    left = (
        f"trait({_quote(node['trait'])})"
        if kind == "trait"
        else (f"{kind}({_quote(node['path'])})")
    )
    return left + _comparison(node["cmp"], node["value"])


def _effective(node: dict[str, Any]) -> dict[str, Any]:
    """A one-argument group prints as its argument."""
    while node.get("op") in schema.GROUP_OPS and len(node["args"]) == 1:
        node = node["args"][0]
    return node


def _operand_of(op: str, arg: dict[str, Any]) -> str:
    inner = _effective(arg)
    # A group inside a group keeps its parentheses (OR in AND for precedence; AND
    # in AND and OR in OR to keep the tree's shape).
    if inner.get("op") in schema.GROUP_OPS and not (op == "or" and inner["op"] == "and"):
        return f"({_node(inner)})"
    return _node(inner)


def _unary(arg: dict[str, Any]) -> str:
    inner = _effective(arg)
    if inner.get("op") in schema.GROUP_OPS:
        return f"({_node(inner)})"
    return _node(inner)


def _event(node: dict[str, Any]) -> str:
    count = node["count"]
    return _event_head(node) + f".count() {_OP_TEXT[count['cmp']]} {count['value']}"


def _event_head(node: dict[str, Any]) -> str:
    """``event(...)`` and its filters, for an event condition or a computed trait."""
    text = f"event({_quote(node['event'])})"
    if node.get("where") is not None:
        text += f".where({_node(node['where'])})"
    window = node.get("window")
    if window is not None and window["type"] == "within":
        parent = "parent: " if window["relative_to"] == "parent" else ""
        text += f".within({parent}{_duration(window)})"
    elif window is not None:
        text += f".between({_duration(window['start'])}, {_duration(window['end'])})"
    if node.get("exclude_sources"):
        text += ".sources(exclude:[" + ", ".join(map(_quote, node["exclude_sources"])) + "])"
    return text


def _duration(value: dict[str, Any]) -> str:
    return f"{value['value']} {value['unit']}"


def _comparison(cmp: str, value: Any) -> str:
    if cmp in _OP_TEXT:
        return f" {_OP_TEXT[cmp]} {_value(value)}"
    fn = _FUNCTION_TEXT[cmp]
    if cmp in schema.PRESENCE_CMPS:
        return f".{fn}()"
    if cmp in schema.DURATION_CMPS:
        return f".{fn}({_duration(value)})"
    if cmp in schema.LIST_CMPS:
        return f".{fn}(" + ", ".join(_literal(v) for v in value) + ")"
    return f".{fn}({_value(value)})"


def _value(value: Any) -> str:
    if isinstance(value, dict):
        if value.get("ref") == "trait":
            return f"trait({_quote(value['name'])})"
        return f"property(parent: {_quote(value['path'])})"
    return _literal(value)


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return _quote(str(value))


def _quote(text: str) -> str:
    out = []
    for ch in text:
        if ch in "\\'":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "'" + "".join(out) + "'"


def canonical(definition: dict[str, Any]) -> dict[str, Any]:
    """``definition`` with every one-argument AND/OR group replaced by its
    argument: what the text form keeps (``parse(to_text(d)) == canonical(d)``)."""

    def walk(node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        if node.get("op") in schema.GROUP_OPS and isinstance(node.get("args"), list):
            args = [walk(a) for a in node["args"]]
            return args[0] if len(args) == 1 else {**node, "args": args}
        if "arg" in node and node.get("op") is not None:
            return {**node, "arg": walk(node["arg"])}
        if node.get("kind") == "event" and node.get("where") is not None:
            return {**node, "where": walk(node["where"])}
        return node

    return {**definition, "root": walk(definition.get("root"))}
