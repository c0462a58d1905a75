"""Property tests for FQL: printed ASTs parse back to the same tree and the same behaviour."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from connections.rules.fql import FQLError, FQLSyntaxError, Predicate, compile
from connections.rules.fql.evaluator import compile_node
from connections.rules.fql.functions import FUNCTIONS
from connections.rules.fql.glob import glob_match
from connections.rules.fql.nodes import (
    All,
    And,
    Call,
    Compare,
    Field,
    ListLiteral,
    Literal,
    Node,
    Not,
    Or,
)

SETTINGS = settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

# A small pool of keys (including ones that need escaping or look like keywords,
# numbers or function names) so that generated fields often hit generated events.
KEYS = [
    "type",
    "event",
    "a",
    "b",
    "and",
    "in",
    "null",
    "all",
    "length",
    "match",
    "1x",
    "-dash",
    "with space",
    "dot.ted",
    "quote'",
    "back\\slash",
    "ア",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(alphabet="ab*?[]\\'\" .-アé\n", max_size=6),
)

literals = scalars.map(Literal)
list_literals = st.recursive(
    st.lists(literals, max_size=3).map(lambda xs: ListLiteral(tuple(xs))),
    lambda inner: st.lists(st.one_of(literals, inner), max_size=3).map(
        lambda xs: ListLiteral(tuple(xs))
    ),
    max_leaves=4,
)
fields = st.lists(st.sampled_from(KEYS), min_size=1, max_size=3).map(
    lambda path: Field(tuple(path))
)
leaves: st.SearchStrategy[Node] = st.one_of(literals, list_literals, fields, st.just(All()))


def _extend(inner: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    calls = st.sampled_from(sorted(FUNCTIONS)).flatmap(
        lambda name: st.lists(inner, min_size=FUNCTIONS[name][0], max_size=FUNCTIONS[name][0]).map(
            lambda args: Call(name, tuple(args))
        )
    )
    compares = st.builds(
        Compare, st.sampled_from(["=", "!=", "<", "<=", ">", ">=", "in"]), inner, inner
    )
    ands = st.lists(inner, min_size=2, max_size=3).map(lambda ops: And(tuple(ops)))
    ors = st.lists(inner, min_size=2, max_size=3).map(lambda ops: Or(tuple(ops)))
    return st.one_of(st.builds(Not, inner), compares, ands, ors, calls)


asts = st.recursive(leaves, _extend, max_leaves=12)

json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=3),
    ),
    max_leaves=8,
)
events = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=6)


def compile_generated(text: str) -> Predicate:
    """Compile a printed generated AST; literal glob patterns may be malformed (rejected)."""
    assume(len(text.encode()) <= 5 * 1024)
    try:
        return compile(text)
    except FQLSyntaxError as exc:
        assume("bad pattern" not in exc.message)
        raise


def outcome(fn: Any, event: dict[str, Any]) -> object:
    try:
        return fn(event) is True
    except FQLError as exc:
        return ("error", type(exc).__name__)


@SETTINGS
@given(asts)
def test_printed_ast_round_trips(ast: Node) -> None:
    text = str(ast)
    reparsed = compile_generated(text).ast
    assert str(reparsed) == text
    assert reparsed == ast


@SETTINGS
@given(asts, st.lists(events, min_size=1, max_size=5))
def test_recompiled_predicate_evaluates_identically(ast: Node, evs: list[dict[str, Any]]) -> None:
    text = str(ast)
    predicate = compile_generated(text)
    original = compile_node(ast)
    for event in evs:
        expected = outcome(original, event)
        assert outcome(predicate.evaluate, event) == expected
        assert predicate.matches(event) is (expected is True)


@SETTINGS
@given(asts, events)
def test_not_is_the_complement_of_matches(ast: Node, event: dict[str, Any]) -> None:
    text = str(ast)
    inner = compile_generated(text)
    negated = compile(str(Not(ast)))
    try:
        value = inner.evaluate(event)
    except FQLError:
        assert not negated.matches(event)
        return
    assert negated.evaluate(event) is (not value)


@SETTINGS
@given(
    st.text(alphabet="ab*?", max_size=8),
    st.text(alphabet="ab", max_size=10),
)
def test_glob_agrees_with_reference_regex(pattern: str, subject: str) -> None:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    expected = re.fullmatch(regex, subject, re.DOTALL) is not None
    assert glob_match(subject, pattern) is expected
    assert compile(f"match(s, {Literal(pattern)})").matches({"s": subject}) is expected


@SETTINGS
@given(st.text(max_size=20))
def test_any_literal_string_matches_itself_when_escaped(subject: str) -> None:
    pattern = "".join("\\" + c if c in "*?[]\\" else c for c in subject)
    assert glob_match(subject, pattern)
    assert compile(f"x = {Literal(subject)}").matches({"x": subject})


SWAPPED = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


@SETTINGS
@given(st.sampled_from(sorted(SWAPPED)), st.one_of(literals, list_literals), events)
def test_specialised_and_generic_comparisons_agree(
    op: str, literal: Literal | ListLiteral, event: dict[str, Any]
) -> None:
    # `field <op> literal` takes the specialised closures; `literal <swapped op> field`
    # takes the generic path. Both must agree.
    for key in KEYS[:4]:
        field = Field((key,))
        specialised = compile(str(Compare(op, field, literal)))
        generic = compile(str(Compare(SWAPPED[op], literal, field)))
        assert specialised.matches(event) is generic.matches(event)


@SETTINGS
@given(st.lists(scalars, max_size=4), events)
def test_in_specialised_and_generic_agree(items: list[Any], event: dict[str, Any]) -> None:
    container = ListLiteral(tuple(Literal(v) for v in items))
    constant = compile(str(Compare("in", Field(("a",)), container)))
    dynamic = compile(str(Compare("in", Field(("a",)), Field(("b",)))))
    value = event.get("a")
    both = {"a": value, "b": list(items)}
    assert constant.matches(event) is dynamic.matches(both)


@SETTINGS
@given(
    st.text(alphabet="ab.()[]!=<>,'\"\\*? -19e", max_size=40)
    | st.lists(
        st.sampled_from(
            [
                "a",
                "b.c",
                "and",
                "or",
                "in",
                "!",
                "(",
                ")",
                "[",
                "]",
                ",",
                "=",
                "!=",
                "<",
                ">=",
                "'x'",
                "1",
                "-2.5",
                "null",
                "true",
                "all",
                "match(",
                "length(",
                "typeof(",
                "foo(",
            ]
        ),
        max_size=12,
    ).map(" ".join),
    events,
)
def test_arbitrary_input_only_raises_syntax_errors(text: str, event: dict[str, Any]) -> None:
    try:
        predicate = compile(text)
    except FQLSyntaxError as exc:
        assert 0 <= exc.position <= len(text)
        return
    assert isinstance(predicate.matches(event), bool)
    assert str(compile(str(predicate))) == str(predicate)
