"""Table tests for the FQL parser and evaluator (connections.rules.fql); no database needed."""

from __future__ import annotations

import re
from typing import Any

import pytest

from connections.rules.fql import FQLError, FQLSyntaxError, compile

DOC_EVENT: dict[str, Any] = {
    "event": "Button Clicked",
    "type": "track",
    "context": {"library": {"name": "analytics.js", "version": "1.0"}},
    "properties": {"features": ["discounts", "dark-mode"]},
}

EV: dict[str, Any] = {
    "type": "track",
    "event": "Order Completed",
    "userId": "u-123",
    "anonymousId": None,
    "received_at": "2023-04-21T19:55:00.933Z",
    "properties": {
        "revenue": 42.5,
        "quantity": 3,
        "zero": 0,
        "enabled": True,
        "disabled": False,
        "one_string": "1",
        "float_string": " 2.5 ",
        "bad_number": "abc",
        "empty": "",
        "tags": ["a", "b", 1, True, None],
        "empty_list": [],
        "nested_list": [[1, 2], ["x"]],
        "obj": {"k": "v"},
        "product 1": {"price": "19.99"},
        "a.b": "dotted",
        "and": "kw",
        "title": "Hello World",
        "greeting": "héllo ア",
        "mixed": "MiXeD Case",
        "words": "test string",
        "path": "/a/b*c",
        "email": "jane@company.com",
        "list_eq": [1, "x"],
        "unicode": "ア",
    },
    "traits": {"email": "bob@other.org"},
    "context": {"library": {"name": "analytics.js", "version": "2.3.1"}, "ip": "10.0.0.1"},
    "a.b": "top-dotted",
    "weird-key_1": 7,
}

# (id, expression, event, expected)
CASES: list[tuple[str, str, dict[str, Any], bool]] = [
    # --- 9.5 worked examples -------------------------------------------------------
    ("doc-event-eq", "event = 'Button Clicked'", DOC_EVENT, True),
    ("doc-event-ne", "event = 'Screen Tapped'", DOC_EVENT, False),
    ("doc-missing-path", "context.path.path = '/login'", DOC_EVENT, False),
    ("doc-or", "type = 'identify' or type = 'track'", DOC_EVENT, True),
    ("doc-and", "event = 'Button Clicked' and type = 'track'", DOC_EVENT, True),
    ("doc-match-1", "match( context.library.version, '1.*' )", DOC_EVENT, True),
    ("doc-match-2", "match( context.library.version, '2.*' )", DOC_EVENT, False),
    (
        "doc-subexpr",
        "type = 'track' and ( event = 'Click' or match( event, 'Button *' ) )",
        DOC_EVENT,
        True,
    ),
    ("doc-not-contains", "!contains( context.library.name, 'js' )", DOC_EVENT, False),
    ("doc-in", "'dark-mode' in properties.features", DOC_EVENT, True),
    ("doc-not-in", "'blink' in properties.features", DOC_EVENT, False),
    (
        "doc-reversed-match-args",
        "type = 'track' and ( event = 'Click' or match( 'Button *', event ) )",
        DOC_EVENT,
        False,
    ),
    (
        "doc-bare-field-bool",
        "( type = 'track' or type = 'identify' ) and "
        "( properties.enabled or match( traits.email, '*@company.com' ) )",
        EV,
        True,
    ),
    (
        "doc-bare-field-bool-doc-event",
        "( type = 'track' or type = 'identify' ) and "
        "( properties.enabled or match( traits.email, '*@company.com' ) )",
        DOC_EVENT,
        False,
    ),
    ("doc-not-in-list", "!( type in ['track', 'identify'] )", DOC_EVENT, False),
    ("doc-length-userid", "length( userId ) < 1", DOC_EVENT, True),
    ("doc-length-userid-set", "length( userId ) < 1", EV, False),
    ("doc-all", "all", DOC_EVENT, True),
    ("doc-all-empty-event", "all", {}, True),
    ("doc-timestamp", "(received_at >= '2023-04-21T19:55:00.933Z')", EV, True),
    ("doc-timestamp-lt", "received_at < '2023-04-21T19:55:00.933Z'", EV, False),
    ("doc-timestamp-later", "received_at < '2024-01-01T00:00:00Z'", EV, True),
    ("doc-lowercase-eq", "lowercase(properties.mixed) = 'mixed case'", EV, True),
    ("doc-uppercase-literal", "uppercase(\"United States\") = 'UNITED STATES'", EV, True),
    ("doc-kebabcase", "kebabcase(\"test string\") = 'test-string'", EV, True),
    ("doc-snakecase", "snakecase(\"test string\") = 'test_string'", EV, True),
    ("doc-titlecase", "titlecase(\"test string\") = 'Test String'", EV, True),
    # --- 9.4 glob examples ---------------------------------------------------------
    ("glob-star-middle", "match( 'abcd', 'a*d' )", {}, True),
    ("glob-star-empty", "match( '', '*' )", {}, True),
    ("glob-full-string", "match( 'abc', 'ab' )", {}, False),
    ("glob-question", "match( 'abcd', 'a??d' )", {}, True),
    ("glob-star-start", "match( 'abcd', '*d' )", {}, True),
    ("glob-escaped-star", "match( 'ab*d', 'ab\\*d' )", {}, True),
    ("glob-escaped-star-no-wild", "match( 'abXd', 'ab\\*d' )", {}, False),
    ("glob-class", "match( 'abCd', 'ab[cC]d' )", {}, True),
    ("glob-range", "match( 'abcd', 'ab[a-z]d' )", {}, True),
    ("glob-range-case", "match( 'abcd', 'ab[A-Z]d' )", {}, False),
    ("glob-question-too-short", "match( 'abd', 'a??d' )", {}, False),
    ("glob-question-too-long", "match( 'abcde', 'a??d' )", {}, False),
    ("glob-star-end", "match( 'abcd', 'ab*' )", {}, True),
    ("glob-case-sensitive", "match( 'ABCD', 'a*' )", {}, False),
    ("glob-literal-only", "match( 'abc', 'abc' )", {}, True),
    ("glob-empty-pattern", "match( '', '' )", {}, True),
    ("glob-empty-pattern-nonempty", "match( 'a', '' )", {}, False),
    ("glob-multi-star", "match( 'aXbXc', '*X*X*' )", {}, True),
    ("glob-multi-star-miss", "match( 'aXb', '*X*X*' )", {}, False),
    ("glob-star-question-mix", "match( 'abab', '*a?' )", {}, True),
    ("glob-negated-class", "match( 'ab', 'a[^b]' )", {}, False),
    ("glob-negated-class-hit", "match( 'ac', 'a[^b]' )", {}, True),
    ("glob-escaped-bracket-in-class", "match( ']', '[\\]]' )", {}, True),
    ("glob-escaped-question", "match( 'a?', 'a\\?' )", {}, True),
    ("glob-escaped-question-miss", "match( 'ab', 'a\\?' )", {}, False),
    ("glob-regex-chars-literal", "match( 'a.c', 'a.c' )", {}, True),
    ("glob-regex-dot-no-leak", "match( 'abc', 'a.c' )", {}, False),
    ("glob-regex-plus-no-leak", "match( 'aaa', 'a+' )", {}, False),
    ("glob-regex-paren-literal", "match( '(x)|y', '(x)|y' )", {}, True),
    ("glob-regex-caret-no-leak", "match( 'abc', '^abc$' )", {}, False),
    ("glob-unicode-question", "match( 'ア', '?' )", {}, True),
    ("glob-newline-star", "match( 'a\\nb', 'a*b' )", {}, True),
    ("glob-star-backtrack", "match( 'aaab', '*a*b' )", {}, True),
    ("glob-class-then-star", "match( 'x123', '[a-z]*3' )", {}, True),
    ("glob-reversed-range-matches-nothing", "match( 'q', '[z-a]' )", {}, False),
    ("glob-two-ranges", "match( 'y', '[a-cx-z]' )", {}, True),
    ("glob-escaped-dash-in-class", "match( '-', '[a\\-]' )", {}, True),
    ("glob-field-path", "match( properties.path, '/a/b\\*c' )", EV, True),
    ("glob-email", "match( properties.email, '*@company.com' )", EV, True),
    ("glob-dynamic-pattern", "match( 'abc', lowercase('A*') )", {}, True),
    # --- null handling -------------------------------------------------------------
    ("null-contains", "contains( null, 'x' )", {}, False),
    ("null-contains-missing-field", "contains( properties.nope, 'x' )", EV, False),
    ("null-length", "length( null ) = 0", {}, True),
    ("null-length-missing-field", "length( properties.nope ) = 0", EV, True),
    ("null-lowercase", "lowercase( null ) = null", {}, True),
    ("null-lowercase-missing", "lowercase( properties.nope ) = null", EV, True),
    ("null-uppercase", "uppercase( null ) = null", {}, True),
    ("null-typeof", "typeof( null ) = 'null'", {}, True),
    ("null-typeof-missing", "typeof( properties.nope ) = 'null'", EV, True),
    ("null-typeof-json-null", "typeof( anonymousId ) = 'null'", EV, True),
    ("null-match", "match( null, '*' )", {}, False),
    ("null-match-missing", "match( properties.nope, '*' )", EV, False),
    ("null-eq-null", "null = null", {}, True),
    ("null-missing-eq-null", "properties.nope = null", EV, True),
    ("null-json-null-eq-null", "anonymousId = null", EV, True),
    ("null-ne-string", "properties.nope != 'x'", EV, True),
    ("null-not-gt", "properties.nope > 0", EV, False),
    ("null-not-lt", "properties.nope < 0", EV, False),
    ("null-exists-idiom", "typeof( userId ) != 'null'", EV, True),
    ("null-exists-idiom-ne", "userId != null", EV, True),
    ("null-and-false", "properties.nope and true", EV, False),
    ("null-or-true", "properties.nope or true", EV, True),
    ("null-or-null", "properties.nope or null", EV, False),
    # --- equality ------------------------------------------------------------------
    ("eq-string", "type = 'track'", EV, True),
    ("eq-double-quoted", 'type = "track"', EV, True),
    ("eq-case-sensitive", "type = 'Track'", EV, False),
    ("eq-int", "properties.quantity = 3", EV, True),
    ("eq-int-float", "properties.quantity = 3.0", EV, True),
    ("eq-literal-int-float", "1 = 1.0", {}, True),
    ("eq-float", "properties.revenue = 42.5", EV, True),
    ("eq-string-vs-number", "properties.one_string = 1", EV, False),
    ("ne-string-vs-number", "properties.one_string != 1", EV, True),
    ("eq-bool-not-number", "properties.enabled = 1", EV, False),
    ("eq-zero-not-false", "properties.zero = false", EV, False),
    ("eq-bool", "properties.enabled = true", EV, True),
    ("eq-bool-false", "properties.disabled = false", EV, True),
    ("ne-bool", "properties.enabled != false", EV, True),
    ("eq-list-literal", "properties.list_eq = [1, 'x']", EV, True),
    ("eq-list-order", "properties.list_eq = ['x', 1]", EV, False),
    ("eq-list-strict-elements", "[1] = [true]", {}, False),
    ("eq-list-int-float", "[1, [2]] = [1.0, [2.0]]", {}, True),
    ("eq-empty-list", "properties.empty_list = []", EV, True),
    ("eq-field-field", "properties.email = properties.email", EV, True),
    ("eq-field-field-diff", "properties.email = traits.email", EV, False),
    ("eq-object-field", "properties.obj = properties.obj", EV, True),
    ("eq-object-vs-string", "properties.obj = 'v'", EV, False),
    ("eq-negative-number", "-1 = -1.0", {}, True),
    ("eq-exponent", "1e3 = 1000", {}, True),
    ("eq-empty-string", "properties.empty = ''", EV, True),
    ("eq-string-escape-quote", "'it\\'s' = \"it's\"", {}, True),
    ("eq-string-escape-newline", "'a\\nb' = \"a\\nb\"", {}, True),
    ("ne-same", "type != 'track'", EV, False),
    ("ne-missing", "context.nope.deeper != 'x'", EV, True),
    # --- ordering ------------------------------------------------------------------
    ("gt-int", "properties.quantity > 2", EV, True),
    ("gt-int-equal", "properties.quantity > 3", EV, False),
    ("ge-int-equal", "properties.quantity >= 3", EV, True),
    ("lt-float", "properties.revenue < 42.6", EV, True),
    ("le-float", "properties.revenue <= 42.5", EV, True),
    ("lt-negative", "-5 < -4.5", {}, True),
    ("gt-string-number-mixed", "properties.one_string > 0", EV, False),
    ("lt-string-number-mixed", "properties.one_string < 100", EV, False),
    ("gt-bool-not-number", "properties.enabled > 0", EV, False),
    ("gt-string-lexicographic", "'b' > 'a'", {}, True),
    ("lt-string-lexicographic", "'abc' < 'abd'", {}, True),
    ("gt-list", "properties.tags > 1", EV, False),
    ("gt-field-field", "properties.revenue > properties.quantity", EV, True),
    ("gt-field-field-mixed", "properties.revenue > type", EV, False),
    ("gt-function", "length(properties.title) > 10", EV, True),
    # --- in ------------------------------------------------------------------------
    ("in-literal-list", "type in ['track', 'identify']", EV, True),
    ("in-literal-list-miss", "type in ['page', 'identify']", EV, False),
    ("in-number", "properties.quantity in [1, 2, 3]", EV, True),
    ("in-number-float", "properties.quantity in [3.0]", EV, True),
    ("in-number-strict", "properties.quantity in ['3']", EV, False),
    ("in-bool-in-field-list", "true in properties.tags", EV, True),
    ("in-null-in-field-list", "null in properties.tags", EV, True),
    ("in-one-in-field-list", "1 in properties.tags", EV, True),
    ("in-empty-list", "type in []", EV, False),
    ("in-right-not-list", "'a' in type", EV, False),
    ("in-right-missing", "'a' in properties.nope", EV, False),
    ("in-missing-left", "properties.nope in ['x']", EV, False),
    ("in-missing-left-null-in-list", "properties.nope in [null]", EV, True),
    ("in-list-left", "[1, 2] in properties.nested_list", EV, False),
    ("in-mixed-list", "'b' in ['a', 1, 'b']", {}, True),
    ("in-not", "!(type in ['page'])", EV, True),
    # --- and / or / not / precedence --------------------------------------------
    ("and-true-true", "true and true", {}, True),
    ("and-true-false", "true and false", {}, False),
    ("or-false-false", "false or false", {}, False),
    ("or-false-true", "false or true", {}, True),
    ("and-string-not-true", "type and true", EV, False),
    ("and-three", "true and true and true", {}, True),
    ("or-three", "false or false or true", {}, True),
    ("prec-and-over-or", "true or true and false", {}, True),
    ("prec-and-over-or-2", "false and true or true", {}, True),
    ("prec-parens", "(true or true) and false", {}, False),
    ("prec-not-over-and", "!false and false", {}, False),
    ("prec-not-over-or", "!true or true", {}, True),
    ("prec-not-over-comparison", "!properties.enabled = false", EV, True),
    ("not-not", "!!true", {}, True),
    ("not-missing", "!properties.nope", EV, True),
    ("not-string", "!type", EV, True),
    ("not-group", "!(type = 'track' and properties.quantity > 1)", EV, False),
    ("nested-parens", "((((type = 'track'))))", EV, True),
    ("bare-true-field", "properties.enabled", EV, True),
    ("bare-false-field", "properties.disabled", EV, False),
    ("bare-string-field", "type", EV, False),
    ("bare-number-field", "properties.quantity", EV, False),
    ("bare-missing-field", "properties.nope", EV, False),
    ("literal-true", "true", {}, True),
    ("literal-false", "false", {}, False),
    ("literal-null", "null", {}, False),
    ("all-in-and", "all and type = 'track'", EV, True),
    ("all-negated", "!all", EV, False),
    ("whitespace-heavy", "  type\n=\t'track'  ", EV, True),
    ("no-whitespace", "type='track'and properties.quantity>=3", EV, True),
    # --- field paths -----------------------------------------------------------------
    ("path-escaped-space", "properties.product\\ 1.price = '19.99'", EV, True),
    ("path-escaped-dot", "properties.a\\.b = 'dotted'", EV, True),
    ("path-escaped-dot-top", "a\\.b = 'top-dotted'", EV, True),
    ("path-unescaped-dot-is-nested", "a.b = 'top-dotted'", EV, False),
    ("path-dash-underscore-digit", "weird-key_1 = 7", EV, True),
    ("path-keyword-segment", "properties.and = 'kw'", EV, True),
    ("path-deep", "context.library.name = 'analytics.js'", EV, True),
    ("path-through-string", "type.length = null", EV, True),
    ("path-through-list", "properties.tags.a = null", EV, True),
    ("path-four-deep-missing", "context.library.name.x = null", EV, True),
    ("path-four-deep", "a.b.c.d = 1", {"a": {"b": {"c": {"d": 1}}}}, True),
    ("path-five-deep", "a.b.c.d.e = 'z'", {"a": {"b": {"c": {"d": {"e": "z"}}}}}, True),
    ("path-escaped-keyword", "\\and = 1", {"and": 1}, True),
    ("path-escaped-leading-digit", "\\1x = 1", {"1x": 1}, True),
    ("path-function-name-as-field", "length = 3", {"length": 3}, True),
    ("path-unicode-escaped", "\\é = 1", {"é": 1}, True),
    # --- functions -------------------------------------------------------------------
    ("contains-hit", "contains(event, 'Completed')", EV, True),
    ("contains-miss", "contains(event, 'completed')", EV, False),
    ("contains-empty-sub", "contains(event, '')", EV, True),
    ("contains-number", "contains(properties.quantity, '3')", EV, False),
    ("contains-list-not-string", "contains(properties.tags, 'a')", EV, False),
    ("contains-dynamic-sub", "contains(event, lowercase('ORDER'))", EV, False),
    ("contains-dynamic-sub-hit", "contains(context.ip, string(10))", EV, True),
    ("length-ascii", "length('a') = 1", {}, True),
    ("length-katakana-bytes", "length('ア') = 3", {}, True),
    ("length-unicode-field", "length(properties.unicode) = 3", EV, True),
    ("length-mixed-utf8", "length(properties.greeting) = 10", EV, True),
    ("length-list", "length(properties.tags) = 5", EV, True),
    ("length-empty-list", "length(properties.empty_list) = 0", EV, True),
    ("length-empty-string", "length('') = 0", {}, True),
    ("length-gt-zero", "length(userId) > 0", EV, True),
    ("lowercase", "lowercase('ÀBC') = 'àbc'", {}, True),
    ("uppercase-field", "uppercase(type) = 'TRACK'", EV, True),
    ("snakecase-field", "snakecase(properties.words) = 'test_string'", EV, True),
    ("kebabcase-field", "kebabcase(properties.words) = 'test-string'", EV, True),
    ("titlecase-field", "titlecase(properties.words) = 'Test String'", EV, True),
    ("titlecase-keeps-rest", "titlecase('iPhone app') = 'IPhone App'", {}, True),
    ("kebabcase-null", "kebabcase(null) = null", {}, True),
    ("typeof-string", "typeof(type) = 'string'", EV, True),
    ("typeof-number-int", "typeof(properties.quantity) = 'number'", EV, True),
    ("typeof-number-float", "typeof(properties.revenue) = 'number'", EV, True),
    ("typeof-list", "typeof(properties.tags) = 'list'", EV, True),
    ("typeof-bool", "typeof(properties.enabled) = 'bool'", EV, True),
    ("typeof-object", "typeof(properties.obj) = 'object'", EV, True),
    ("typeof-literal-list", "typeof([]) = 'list'", {}, True),
    ("bool-true-string", "bool('x')", {}, True),
    ("bool-empty-string", "bool('')", {}, False),
    ("bool-zero", "bool(0)", {}, False),
    ("bool-number", "bool(properties.quantity)", EV, True),
    ("bool-null", "bool(null)", {}, False),
    ("bool-list", "bool(properties.tags)", EV, True),
    ("bool-empty-list", "bool(properties.empty_list)", EV, False),
    ("bool-bool", "bool(properties.enabled)", EV, True),
    ("string-int", "string(properties.quantity) = '3'", EV, True),
    ("string-float", "string(properties.revenue) = '42.5'", EV, True),
    ("string-integral-float", "string(3.0) = '3'", {}, True),
    ("string-string", "string(type) = 'track'", EV, True),
    ("string-null", "string(null) = 'null'", {}, True),
    ("string-bool", "string(true) = 'true'", {}, True),
    ("string-list", "string(['a', 1]) = '[\"a\",1]'", {}, True),
    ("number-string-int", "number(properties.one_string) = 1", EV, True),
    ("number-string-float-spaces", "number(properties.float_string) = 2.5", EV, True),
    ("number-number", "number(properties.revenue) > 40", EV, True),
    ("number-negative-string", "number('-7') < 0", {}, True),
    ("nested-functions", "length(lowercase(uppercase(type))) = 5", EV, True),
    ("function-whitespace-before-paren", "length (type) = 5", EV, True),
    ("function-comparison-arg", "bool(type = 'track')", EV, True),
    ("function-typeof-of-function", "typeof(length(type)) = 'number'", EV, True),
    # --- evaluation errors fail closed ----------------------------------------------
    ("err-length-object", "length(properties.obj) > 0", EV, False),
    ("err-length-object-negated", "!(length(properties.obj) > 0)", EV, False),
    ("err-length-number", "length(properties.quantity) = 0", EV, False),
    ("err-number-bad-string", "number(properties.bad_number) = 0", EV, False),
    ("err-number-bad-string-ne", "number(properties.bad_number) != 0", EV, False),
    ("err-number-null", "number(null) != 1", {}, False),
    ("err-number-nan", "number('nan') != 1", {}, False),
    ("err-lowercase-number", "lowercase(properties.quantity) = null", EV, False),
    ("err-bool-object", "bool(properties.obj)", EV, False),
    ("err-match-bad-dynamic-pattern", "match('a', lowercase('['))", {}, False),
    ("err-match-number-pattern", "match('a', 1)", {}, False),
    ("err-in-or-branch", "length(properties.obj) = 1 or true", EV, False),
    ("err-short-circuit-avoids", "true or length(properties.obj) = 1", EV, True),
]


@pytest.mark.parametrize(
    ("expression", "event", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_fql_table(expression: str, event: dict[str, Any], expected: bool) -> None:
    predicate = compile(expression)
    assert predicate.matches(event) is expected
    # The printed AST is valid FQL with the same meaning.
    assert compile(str(predicate)).matches(event) is expected
    assert str(compile(str(predicate))) == str(predicate)


def test_case_ids_unique() -> None:
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids))
    assert len(CASES) >= 150


# (id, expression, position, message fragment)
SYNTAX_ERRORS: list[tuple[str, str, int, str]] = [
    ("unclosed-paren", "(type = 'track'", 15, "expected ')'"),
    ("unclosed-paren-doc", "( type = 'a' or", 15, "unexpected end of expression"),
    ("doc-oops", 'userId = oops"', 13, "unterminated string"),
    ("unterminated-single", "type = 'track", 7, "unterminated string"),
    ("unterminated-escape-at-end", "type = 'x\\", 7, "unterminated string"),
    ("empty", "", 0, "empty expression"),
    ("blank", "   ", 3, "empty expression"),
    ("dangling-and", "type = 'a' and", 14, "unexpected end of expression"),
    ("leading-and", "and type", 0, "unexpected 'and'"),
    ("double-operator", "type = = 'a'", 7, "unexpected '='"),
    ("double-equals", "type == 'a'", 6, "unexpected '='"),
    ("chained-comparison", "a = b = c", 6, "cannot be chained"),
    ("missing-operator", "type 'track'", 5, "expected 'and', 'or' or end of expression"),
    ("extra-close-paren", "type = 'a')", 10, "expected 'and', 'or' or end of expression"),
    ("unknown-function", "foo(type)", 0, "unknown function 'foo'"),
    ("unknown-function-nested", "type = 'a' and bar(1)", 15, "unknown function 'bar'"),
    ("arity-too-few", "match(type)", 0, "match() takes 2 arguments, got 1"),
    ("arity-too-many", "x = 1 and length(a, b)", 10, "length() takes 1 argument, got 2"),
    ("arity-zero", "typeof()", 0, "typeof() takes 1 argument, got 0"),
    ("call-missing-comma", "contains(a 'b')", 11, "expected ',' or ')'"),
    ("call-unclosed", "contains(a, 'b'", 15, "expected ',' or ')'"),
    ("list-unclosed", "type in ['a', 'b'", 17, "expected ',' or ']'"),
    ("list-field-item", "type in [type]", 9, "expected a literal in list"),
    ("list-trailing-comma", "type in ['a',]", 13, "expected a literal in list"),
    ("bad-character", "type # 'a'", 5, "unexpected character '#'"),
    ("bad-character-ampersand", "a && b", 2, "unexpected character '&'"),
    ("empty-path-segment", "properties..x = 1", 11, "empty field path segment"),
    ("trailing-dot", "properties. = 1", 11, "empty field path segment"),
    ("dangling-path-escape", "a\\", 1, "dangling escape"),
    ("bad-number", "x = 1abc", 4, "invalid number"),
    ("number-overflow-float", "x = 1e999", 4, "number out of range"),
    ("number-too-many-digits", "x < " + "9" * 4400, 4, "number out of range"),
    ("bad-glob-literal", "match(x, 'a[b')", 9, "unterminated character class"),
    ("bad-glob-trailing-backslash", "match(x, 'a\\\\')", 9, "trailing backslash"),
    # segmentio/glob: an unescaped '-' at either end of a class, or after a range
    ("bad-glob-dash-first", "match(x, '[-a]')", 9, "must be escaped (\\-)"),
    ("bad-glob-dash-last", "match(x, '[a-]')", 9, "must be escaped (\\-)"),
    ("bad-glob-dash-after-range", "match(x, '[a-b-c]')", 9, "must be escaped (\\-)"),
    ("bad-glob-empty-class", "match(x, '[]')", 9, "empty character class"),
    ("in-without-right", "type in", 7, "unexpected end of expression"),
    ("not-alone", "!", 1, "unexpected end of expression"),
    ("comma-top-level", "a, b", 1, "expected 'and', 'or' or end of expression"),
]


@pytest.mark.parametrize(
    ("expression", "position", "fragment"),
    [c[1:] for c in SYNTAX_ERRORS],
    ids=[c[0] for c in SYNTAX_ERRORS],
)
def test_syntax_errors(expression: str, position: int, fragment: str) -> None:
    with pytest.raises(FQLSyntaxError) as info:
        compile(expression)
    assert info.value.position == position, str(info.value)
    assert fragment in info.value.message
    assert str(info.value) == f"{info.value.message} at {position}"


def test_expected_close_paren_message() -> None:
    with pytest.raises(FQLSyntaxError, match=r"^expected '\)', got end of expression at 14$"):
        compile("(type = 'abc' ")


def test_size_limit() -> None:
    ok = "type = '" + "x" * (5 * 1024 - 9) + "'"
    assert len(ok.encode()) == 5 * 1024
    assert compile(ok).matches({"type": "x" * (5 * 1024 - 9)})
    with pytest.raises(FQLSyntaxError, match="exceeds"):
        compile(ok + " ")
    # Multi-byte characters count in bytes.
    with pytest.raises(FQLSyntaxError, match="exceeds"):
        compile("'" + "ア" * 2000 + "'")


def test_deep_nesting_is_a_syntax_error_not_a_crash() -> None:
    with pytest.raises(FQLSyntaxError, match="nested too deeply"):
        compile("(" * 1000 + "true" + ")" * 1000)
    with pytest.raises(FQLSyntaxError, match="nested too deeply"):
        compile("!" * 1000 + "true")


def test_long_flat_chains_evaluate() -> None:
    expr = " and ".join(["true"] * 500)
    assert compile(expr).matches({})
    expr = " or ".join(["false"] * 500) + " or type = 'x'"
    assert compile(expr).matches({"type": "x"})


def test_syntax_error_is_fql_error() -> None:
    assert issubclass(FQLSyntaxError, FQLError)


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("length(properties.obj) > 0", "length() is not defined for object"),
        ("number(properties.bad) = 1", "cannot convert"),
        ("lowercase(properties.n) = 'x'", "expects a string"),
    ],
    ids=["length-object", "number-bad", "lowercase-number"],
)
def test_evaluate_raises_reason(expression: str, fragment: str) -> None:
    event = {"properties": {"obj": {"a": 1}, "bad": "abc", "n": 5}}
    predicate = compile(expression)
    assert predicate.matches(event) is False
    with pytest.raises(FQLError, match=re.escape(fragment)):
        predicate.evaluate(event)


def test_evaluate_returns_bool() -> None:
    predicate = compile("type = 'track'")
    assert predicate.evaluate({"type": "track"}) is True
    assert predicate.evaluate({"type": "page"}) is False


def test_event_not_mutated_and_predicate_reusable() -> None:
    event = {"properties": {"x": [1, 2]}}
    predicate = compile("length(properties.x) = 2 and 1 in properties.x")
    for _ in range(3):
        assert predicate.matches(event)
    assert event == {"properties": {"x": [1, 2]}}


@pytest.mark.parametrize(
    ("expression", "printed"),
    [
        ("type='a'AND_x", None),
        ("(a or b) and c", "(a or b) and c"),
        ("a or (b and c)", "a or b and c"),
        ("(a and b) and c", "(a and b) and c"),
        ("!(a = b)", "!(a = b)"),
        ("(!a) = b", "!a = b"),
        ('match( x , "a*" )', "match(x, 'a*')"),
        ("properties.product\\ 1.price", "properties.product\\ 1.price"),
        ("x in [ 'a' , 1.5, -2, true, null, [] ]", "x in ['a', 1.5, -2, true, null, []]"),
        ("'it\\'s'", "'it\\'s'"),
        ("\\and = 1", "\\and = 1"),
    ],
    ids=lambda v: str(v),
)
def test_printing(expression: str, printed: str | None) -> None:
    if printed is None:
        with pytest.raises(FQLSyntaxError):
            compile(expression)
        return
    assert str(compile(expression)) == printed
