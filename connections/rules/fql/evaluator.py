"""Compile an FQL AST into nested closures.

Every node becomes a function ``event -> value``. Common shapes (a field compared with a
literal, ``in`` with a literal list, ``contains``/``match`` with a literal second argument,
two-operand ``and``/``or``) get dedicated closures so evaluation does no type dispatch on
the tree at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import FQLError
from .functions import FUNCTIONS, kind, orderable, strict_eq
from .glob import compile_glob
from .nodes import All, And, Call, Compare, Field, ListLiteral, Literal, Node, Not, Or

Event = dict[str, Any]
Fn = Callable[[Event], Any]

_NUMBER_TYPES = (int, float)


def compile_node(node: Node) -> Fn:
    if isinstance(node, Literal | ListLiteral):
        value = _literal_value(node)
        return lambda event: value
    if isinstance(node, All):
        return lambda event: True
    if isinstance(node, Field):
        return _compile_field(node.path)
    if isinstance(node, Not):
        return _compile_not(node)
    if isinstance(node, And):
        return _compile_and([compile_node(op) for op in node.operands])
    if isinstance(node, Or):
        return _compile_or([compile_node(op) for op in node.operands])
    if isinstance(node, Compare):
        return _compile_compare(node)
    if isinstance(node, Call):
        return _compile_call(node)
    raise FQLError(f"cannot compile {type(node).__name__}")


def _literal_value(node: Literal | ListLiteral) -> Any:
    if isinstance(node, Literal):
        return node.value
    return [_literal_value(item) for item in node.items]


def _compile_field(path: tuple[str, ...]) -> Fn:
    if len(path) == 1:
        (key,) = path
        return lambda event: event.get(key)
    if len(path) == 2:
        k0, k1 = path

        def get2(event: Event) -> Any:
            v = event.get(k0)
            return v.get(k1) if type(v) is dict else None

        return get2
    if len(path) == 3:
        k0, k1, k2 = path

        def get3(event: Event) -> Any:
            v = event.get(k0)
            if type(v) is not dict:
                return None
            v = v.get(k1)
            return v.get(k2) if type(v) is dict else None

        return get3

    def get_n(event: Event) -> Any:
        v: Any = event
        for key in path:
            if not isinstance(v, dict):
                return None
            v = v.get(key)
        return v

    return get_n


def _compile_not(node: Not) -> Fn:
    inner = compile_node(node.operand)
    return lambda event: inner(event) is not True


def _compile_and(fns: list[Fn]) -> Fn:
    if len(fns) == 2:
        a, b = fns
        return lambda event: a(event) is True and b(event) is True

    def and_n(event: Event) -> bool:
        # A plain loop: measurably faster than all() over a generator.
        for fn in fns:  # noqa: SIM110
            if fn(event) is not True:
                return False
        return True

    return and_n


def _compile_or(fns: list[Fn]) -> Fn:
    if len(fns) == 2:
        a, b = fns
        return lambda event: a(event) is True or b(event) is True

    def or_n(event: Event) -> bool:
        for fn in fns:  # noqa: SIM110
            if fn(event) is True:
                return True
        return False

    return or_n


def _is_constant(node: Node) -> bool:
    return isinstance(node, Literal | ListLiteral)


def _compile_compare(node: Compare) -> Fn:
    op = node.op
    left = compile_node(node.left)
    right_node = node.right
    if _is_constant(right_node):
        assert isinstance(right_node, Literal | ListLiteral)
        const = _literal_value(right_node)
        special = _compare_with_constant(op, left, const)
        if special is not None:
            return special
    right = compile_node(right_node)
    if op == "=":
        return lambda event: strict_eq(left(event), right(event))
    if op == "!=":
        return lambda event: not strict_eq(left(event), right(event))
    if op == "in":
        return lambda event: _in(left(event), right(event))
    return _ordering(op, left, right)


def _in(value: Any, container: Any) -> bool:
    if kind(container) != "list" or kind(value) in ("list", "object"):
        return False
    return any(strict_eq(value, item) for item in container)


def _ordering(op: str, left: Fn, right: Fn) -> Fn:
    if op == "<":

        def lt(event: Event) -> bool:
            a, b = left(event), right(event)
            return orderable(a, b) and a < b

        return lt
    if op == "<=":

        def le(event: Event) -> bool:
            a, b = left(event), right(event)
            return orderable(a, b) and a <= b

        return le
    if op == ">":

        def gt(event: Event) -> bool:
            a, b = left(event), right(event)
            return orderable(a, b) and a > b

        return gt
    if op == ">=":

        def ge(event: Event) -> bool:
            a, b = left(event), right(event)
            return orderable(a, b) and a >= b

        return ge
    raise FQLError(f"unknown operator {op!r}")


def _compare_with_constant(op: str, left: Fn, const: Any) -> Fn | None:
    """Direct closures for ``expr <op> literal``; None when no shortcut applies."""
    k = kind(const)
    if op in ("=", "!="):
        eq: Fn
        if k == "string":

            def eq(event: Event) -> bool:
                v = left(event)
                return type(v) is str and v == const

        elif k == "number":

            def eq(event: Event) -> bool:
                v = left(event)
                return type(v) in _NUMBER_TYPES and v == const

        elif k in ("bool", "null"):

            def eq(event: Event) -> bool:
                return left(event) is const

        else:
            return None
        if op == "=":
            return eq
        return lambda event: not eq(event)
    if op == "in":
        if k != "list":
            return lambda event: False
        if all(type(item) is str for item in const):
            strings = frozenset(const)

            def in_strings(event: Event) -> bool:
                v = left(event)
                return type(v) is str and v in strings

            return in_strings
        return None
    if k == "number":
        return _numeric_ordering(op, left, const)
    if k == "string":
        return _string_ordering(op, left, const)
    return lambda event: False


def _numeric_ordering(op: str, left: Fn, c: Any) -> Fn:
    if op == "<":
        return lambda e: type(v := left(e)) in _NUMBER_TYPES and v < c
    if op == "<=":
        return lambda e: type(v := left(e)) in _NUMBER_TYPES and v <= c
    if op == ">":
        return lambda e: type(v := left(e)) in _NUMBER_TYPES and v > c
    return lambda e: type(v := left(e)) in _NUMBER_TYPES and v >= c


def _string_ordering(op: str, left: Fn, c: str) -> Fn:
    if op == "<":
        return lambda e: type(v := left(e)) is str and v < c
    if op == "<=":
        return lambda e: type(v := left(e)) is str and v <= c
    if op == ">":
        return lambda e: type(v := left(e)) is str and v > c
    return lambda e: type(v := left(e)) is str and v >= c


def _compile_call(node: Call) -> Fn:
    name = node.name
    args = [compile_node(arg) for arg in node.args]
    impl = FUNCTIONS[name][1]
    second = node.args[1] if len(node.args) == 2 else None
    if isinstance(second, Literal) and isinstance(second.value, str):
        subject = args[0]
        if name == "contains":
            sub = second.value
            return lambda e: type(v := subject(e)) is str and sub in v
        if name == "match":
            matcher = compile_glob(second.value)
            return lambda e: type(v := subject(e)) is str and matcher(v)
    if len(args) == 1:
        (only,) = args
        return lambda event: impl(only(event))
    a, b = args
    return lambda event: impl(a(event), b(event))
