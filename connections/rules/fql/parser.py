"""Recursive-descent parser: ``!`` > comparisons and ``in`` > ``and`` > ``or``."""

from __future__ import annotations

from .errors import FQLSyntaxError
from .functions import FUNCTIONS
from .glob import GlobError, parse_glob
from .lexer import Tok, Token, tokenize
from .nodes import (
    COMPARISON_OPS,
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

MAX_BYTES = 5 * 1024
MAX_DEPTH = 100

_CONSTANTS: dict[str, bool | None] = {"true": True, "false": False, "null": None}


def parse(src: str) -> Node:
    if len(src.encode("utf-8")) > MAX_BYTES:
        raise FQLSyntaxError(f"expression exceeds {MAX_BYTES} bytes", 0)
    return _Parser(tokenize(src)).parse()


def _describe(tok: Token) -> str:
    if tok.kind is Tok.EOF:
        return "end of expression"
    return repr(tok.text)


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind is not Tok.EOF:
            self.i += 1
        return tok

    def is_keyword(self, word: str) -> bool:
        tok = self.tok
        return tok.kind is Tok.IDENT and tok.plain and tok.text == word

    def error(self, message: str, tok: Token | None = None) -> FQLSyntaxError:
        tok = tok or self.tok
        return FQLSyntaxError(message, tok.pos)

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error("expression nested too deeply")

    def parse(self) -> Node:
        if self.tok.kind is Tok.EOF:
            raise self.error("empty expression")
        node = self.parse_or()
        if self.tok.kind is not Tok.EOF:
            got = _describe(self.tok)
            raise self.error(f"expected 'and', 'or' or end of expression, got {got}")
        return node

    def parse_or(self) -> Node:
        operands = [self.parse_and()]
        while self.is_keyword("or"):
            self.advance()
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def parse_and(self) -> Node:
        operands = [self.parse_comparison()]
        while self.is_keyword("and"):
            self.advance()
            operands.append(self.parse_comparison())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def parse_comparison(self) -> Node:
        left = self.parse_unary()
        tok = self.tok
        if tok.kind is Tok.OP and tok.text in COMPARISON_OPS:
            op = tok.text
        elif self.is_keyword("in"):
            op = "in"
        else:
            return left
        self.advance()
        right = self.parse_unary()
        nxt = self.tok
        if (nxt.kind is Tok.OP and nxt.text != "!") or self.is_keyword("in"):
            raise self.error(f"comparisons cannot be chained; use parentheses near {nxt.text!r}")
        return Compare(op, left, right)

    def parse_unary(self) -> Node:
        tok = self.tok
        if tok.kind is Tok.OP and tok.text == "!":
            self.advance()
            self.enter()
            operand = self.parse_unary()
            self.depth -= 1
            return Not(operand)
        return self.parse_primary()

    def parse_primary(self) -> Node:
        tok = self.tok
        if tok.kind is Tok.LPAREN:
            self.advance()
            self.enter()
            node = self.parse_or()
            self.depth -= 1
            if self.tok.kind is not Tok.RPAREN:
                raise self.error(f"expected ')', got {_describe(self.tok)}")
            self.advance()
            return node
        if tok.kind is Tok.LBRACK:
            return self.parse_list()
        if tok.kind is Tok.STRING:
            self.advance()
            assert isinstance(tok.value, str)
            return Literal(tok.value)
        if tok.kind is Tok.NUMBER:
            self.advance()
            assert isinstance(tok.value, int | float)
            return Literal(tok.value)
        if tok.kind is Tok.IDENT:
            return self.parse_ident()
        if tok.kind is Tok.EOF:
            raise self.error("unexpected end of expression")
        raise self.error(f"unexpected {_describe(tok)}")

    def parse_ident(self) -> Node:
        tok = self.advance()
        assert isinstance(tok.value, tuple)
        if tok.plain and len(tok.value) == 1:
            word = tok.text
            if word in _CONSTANTS:
                return Literal(_CONSTANTS[word])
            if word == "all":
                return All()
            if word in ("and", "or", "in"):
                raise self.error(f"unexpected '{word}'", tok)
            if self.tok.kind is Tok.LPAREN:
                return self.parse_call(tok)
        return Field(tok.value)

    def parse_call(self, name_tok: Token) -> Node:
        name = name_tok.text
        if name not in FUNCTIONS:
            raise self.error(f"unknown function '{name}'", name_tok)
        self.advance()  # '('
        self.enter()
        args: list[Node] = []
        if self.tok.kind is not Tok.RPAREN:
            while True:
                args.append(self.parse_or())
                if self.tok.kind is Tok.COMMA:
                    self.advance()
                    continue
                if self.tok.kind is not Tok.RPAREN:
                    raise self.error(f"expected ',' or ')', got {_describe(self.tok)}")
                break
        self.advance()  # ')'
        self.depth -= 1
        arity = FUNCTIONS[name][0]
        if len(args) != arity:
            plural = "s" if arity != 1 else ""
            raise self.error(f"{name}() takes {arity} argument{plural}, got {len(args)}", name_tok)
        if name == "match" and isinstance(args[1], Literal) and isinstance(args[1].value, str):
            try:
                parse_glob(args[1].value)
            except GlobError as exc:
                raise FQLSyntaxError(str(exc), self._arg_pos(name_tok)) from None
        return Call(name, tuple(args))

    def _arg_pos(self, name_tok: Token) -> int:
        # Position of the last string token of this call (the pattern literal).
        for tok in reversed(self.tokens[: self.i]):
            if tok.kind is Tok.STRING:
                return tok.pos
        return name_tok.pos

    def parse_list(self) -> ListLiteral:
        self.advance()  # '['
        self.enter()
        items: list[Literal | ListLiteral] = []
        if self.tok.kind is not Tok.RBRACK:
            while True:
                items.append(self.parse_list_item())
                if self.tok.kind is Tok.COMMA:
                    self.advance()
                    continue
                if self.tok.kind is not Tok.RBRACK:
                    raise self.error(f"expected ',' or ']', got {_describe(self.tok)}")
                break
        self.advance()  # ']'
        self.depth -= 1
        return ListLiteral(tuple(items))

    def parse_list_item(self) -> Literal | ListLiteral:
        tok = self.tok
        if tok.kind is Tok.LBRACK:
            return self.parse_list()
        if tok.kind in (Tok.STRING, Tok.NUMBER):
            self.advance()
            assert isinstance(tok.value, str | int | float)
            return Literal(tok.value)
        if tok.kind is Tok.IDENT and tok.plain and tok.text in _CONSTANTS:
            self.advance()
            return Literal(_CONSTANTS[tok.text])
        raise self.error(f"expected a literal in list, got {_describe(tok)}")
