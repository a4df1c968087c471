"""Survey logic: XLSForm/ODK expressions translated once into JSON-Schema conditions over the answers.

A condition is a JSON-Schema fragment (``required``, ``properties`` with ``const``/``enum``/``contains``/
``minimum``/..., ``allOf``/``anyOf``/``not``). The same fragment goes into the published submission
schema, is evaluated in the browser by static/logic.js and on the server by :func:`holds`, so the three
can never disagree. Expressions the contract could not express (two answers compared, arithmetic, dates
ordered, unknown functions) are refused when the survey is saved, with the offset where they were found.

Semantics follow ODK: an unanswered question reads as ``''``; ``=``/``!=`` compare text (numbers when the
literal is a number); ``<``/``>`` compare numbers and are false for an empty answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Condition = dict[str, Any]
TRUE: Condition = {}
FALSE: Condition = {"not": {}}

FINITE = frozenset({"single", "multi"})  # kinds whose answers come from a list of options


class ExpressionError(ValueError):
    """An expression the platform cannot hold to: ``message_vi``/``message_en`` say why, ``at`` where."""

    def __init__(self, message_vi: str, message_en: str, at: int | None = None) -> None:
        super().__init__(message_en)
        self.message_vi, self.message_en, self.at = message_vi, message_en, at


@dataclass(frozen=True)
class Target:
    """What an expression may say about one answer: its kind and, for a choice, its option values."""

    kind: str  # single | multi | text | integer | decimal | date | place | consent
    options: tuple[str, ...] = ()
    not_applicable: tuple[str, ...] = ()  # options off the scale: never "more" or "less" than a point


# --------------------------------------------------------------------------------------------- parsing
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<ref>\$\{\s*(?P<refname>[A-Za-z_][A-Za-z0-9_.-]*)\s*\})
    | (?P<str>'[^']*'|"[^"]*")
    | (?P<num>\d+(?:\.\d+)?|\.\d+)
    | (?P<op>!=|<=|>=|=|<|>|\(|\)|,|\+|\*|-)
    | (?P<dot>\.(?![\w]))
    | (?P<name>[A-Za-z_][A-Za-z0-9_.:-]*)
    )""",
    re.VERBOSE,
)

Node = tuple[Any, ...]


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            at = pos + (len(text[pos:]) - len(text[pos:].lstrip()))
            raise ExpressionError(
                f"Biểu thức có ký tự không hiểu được ở vị trí {at + 1}: {text[at : at + 10]!r}.",
                f"Unexpected character at position {at + 1}: {text[at : at + 10]!r}.",
                at,
            )
        kind = m.lastgroup if m.lastgroup != "refname" else "ref"
        if m.group("ref"):
            out.append(("ref", m.group("refname"), m.start("ref")))
        elif kind == "str":
            out.append(("str", m.group("str")[1:-1], m.start(kind)))
        elif kind:
            out.append((kind, m.group(kind), m.start(kind)))
        pos = m.end()
    return out


class _Parser:
    """or > and > comparison > primary; XPath's own precedence, without arithmetic."""

    def __init__(self, text: str) -> None:
        self.text, self.toks, self.i = text, _tokens(text), 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str, int]:
        tok = self.peek()
        if tok is None:
            raise ExpressionError("Biểu thức bị thiếu phần cuối.", "The expression ends too early.", len(self.text))
        self.i += 1
        return tok

    def expect(self, value: str) -> None:
        tok = self.take()
        if tok[1] != value:
            raise ExpressionError(
                f"Cần '{value}' ở vị trí {tok[2] + 1}.", f"Expected '{value}' at position {tok[2] + 1}.", tok[2]
            )

    def parse(self) -> Node:
        node = self.or_()
        tok = self.peek()
        if tok is not None:
            raise ExpressionError(
                f"Phần thừa ở vị trí {tok[2] + 1}: {tok[1]!r}.",
                f"Unexpected {tok[1]!r} at position {tok[2] + 1}.",
                tok[2],
            )
        return node

    def or_(self) -> Node:
        parts = [self.and_()]
        while (tok := self.peek()) and tok[0] == "name" and tok[1] == "or":
            self.take()
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else ("or", *parts)

    def and_(self) -> Node:
        parts = [self.cmp()]
        while (tok := self.peek()) and tok[0] == "name" and tok[1] == "and":
            self.take()
            parts.append(self.cmp())
        return parts[0] if len(parts) == 1 else ("and", *parts)

    def cmp(self) -> Node:
        left = self.primary()
        tok = self.peek()
        if tok and tok[0] == "op" and tok[1] in ("=", "!=", "<", "<=", ">", ">="):
            self.take()
            right = self.primary()
            return ("cmp", tok[1], left, right)
        if tok and ((tok[0] == "op" and tok[1] in "+-*") or (tok[0] == "name" and tok[1] in ("div", "mod"))):
            raise _unsupported(f"phép tính '{tok[1]}'", f"arithmetic '{tok[1]}'", tok[2])
        return left

    def primary(self) -> Node:
        kind, value, at = self.take()
        if kind == "ref":
            return ("ref", value, at)
        if kind == "dot":
            return ("self", at)
        if kind == "str":
            return ("lit", value)
        if kind == "num":
            return ("lit", float(value))
        if kind == "op" and value == "-":
            nxt = self.take()
            if nxt[0] == "num":
                return ("lit", -float(nxt[1]))
            raise _unsupported("phép tính '-'", "arithmetic '-'", at)
        if kind == "op" and value == "(":
            node = self.or_()
            self.expect(")")
            return node
        if kind == "name":
            tok = self.peek()
            if tok and tok[1] == "(":
                self.take()
                args: list[Node] = []
                if (first := self.peek()) and first[1] != ")":
                    args.append(self.or_())
                    while (sep := self.peek()) and sep[1] == ",":
                        self.take()
                        args.append(self.or_())
                self.expect(")")
                return ("call", value, at, *args)
            return ("attr", value, at)
        raise ExpressionError(
            f"Không hiểu {value!r} ở vị trí {at + 1}.", f"Unexpected {value!r} at position {at + 1}.", at
        )


# A pattern runs in three engines (Python on the server, ECMAScript in the browser and in JSON Schema) and on
# every anonymous submission: only the syntax they share, and no repeated group that repeats inside
# ((a+)+, (a|aa)*): the shape of catastrophic backtracking.
_NOT_SHARED = re.compile(r"\(\?(?!:)|\\[1-9]|\\[AZzGpP]|\[\[:|\*\+|\+\+|\?\+")
_REPEATED_GROUP = re.compile(r"\((?:[^()\\]|\\.)*(?:[*+}|])(?:[^()\\]|\\.)*\)\s*(?:[*+]|\{\d*,)")
MAX_PATTERN = 200


def _check_pattern(pattern: str, at: int | None) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ExpressionError(
            f"Biểu thức chính quy không hợp lệ: {exc}.", f"Invalid regular expression: {exc}.", at
        ) from None
    if len(pattern) > MAX_PATTERN:
        raise ExpressionError(
            f"Biểu thức chính quy quá dài (tối đa {MAX_PATTERN} ký tự).",
            f"The regular expression is too long (at most {MAX_PATTERN} characters).",
            at,
        )
    if _NOT_SHARED.search(pattern):
        raise ExpressionError(
            "Biểu thức chính quy dùng cú pháp mà trình duyệt không hiểu như máy chủ ((?...), \\1, \\A, [[:...:]]).",
            "The regular expression uses syntax browsers do not read as the server does ((?...), \\1, \\A, [[:...:]]).",
            at,
        )
    if _REPEATED_GROUP.search(pattern):
        raise ExpressionError(
            "Biểu thức chính quy lặp một nhóm tự nó đã lặp (như (a+)+): có thể làm máy chủ treo; hãy viết lại.",
            "The regular expression repeats a group that itself repeats (like (a+)+), which can hang the server.",
            at,
        )


def _unsupported(what_vi: str, what_en: str, at: int | None) -> ExpressionError:
    return ExpressionError(
        f"Biểu thức dùng {what_vi}, điều mà phiếu không thể diễn đạt trong hợp đồng dữ liệu (JSON Schema).",
        f"The expression uses {what_en}, which the published contract (JSON Schema) cannot express.",
        at,
    )


def parse(text: str) -> Node:
    return _Parser(text).parse()


def references(text: str) -> list[str]:
    """The ${…} names an expression reads, in order of appearance."""
    return list(dict.fromkeys(t[1] for t in _tokens(text) if t[0] == "ref"))


# ------------------------------------------------------------------------------------------ translating
Lookup = Callable[[str], Target | None]


def compile_condition(
    text: str,
    lookup: Lookup,
    *,
    self_id: str | None = None,
    attrs: Mapping[str, str] | None = None,
) -> Condition:
    """An expression as a condition over the answers object.

    ``self_id`` is the answer ``.`` stands for (constraints); ``attrs`` the option attributes a bare name
    reads (choice filters: the option's ``filter`` plus ``name`` = its value).
    """
    return _Translator(lookup, self_id, attrs).cond(parse(text))


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_FLIP = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_BOUND = {"<": "exclusiveMaximum", "<=": "maximum", ">": "exclusiveMinimum", ">=": "minimum"}


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def xpath_compare(op: str, answer: Any, literal: Any) -> bool:
    """ODK's comparison of one answer (None when unanswered) with a literal."""
    if op in ("=", "!="):
        if isinstance(literal, float):
            number = _number(answer)
            equal = number is not None and number == literal
        else:
            text = "" if answer is None else answer
            equal = (text if isinstance(text, str) else _text(text)) == literal
        return equal if op == "=" else not equal
    number, bound = _number(answer), _number(literal)
    if number is None or bound is None:
        return False
    return _OPS[op](number, bound)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _all(parts: list[Condition]) -> Condition:
    parts = [p for p in parts if p != TRUE]
    if any(p == FALSE for p in parts):
        return FALSE
    return TRUE if not parts else parts[0] if len(parts) == 1 else {"allOf": parts}


def _any(parts: list[Condition]) -> Condition:
    parts = [p for p in parts if p != FALSE]
    if any(p == TRUE for p in parts):
        return TRUE
    return FALSE if not parts else parts[0] if len(parts) == 1 else {"anyOf": parts}


def _not(part: Condition) -> Condition:
    if part == TRUE:
        return FALSE
    if part == FALSE:
        return TRUE
    if set(part) == {"not"}:
        return dict(part["not"])
    return {"not": part}


def negate(part: Condition) -> Condition:
    return _not(part)


def all_of(*parts: Condition | None) -> Condition:
    return _all([p for p in parts if p is not None])


def any_of(*parts: Condition | None) -> Condition:
    return _any([p for p in parts if p is not None])


def answered(item_id: str) -> Condition:
    return {"required": [item_id]}


def absent(item_id: str) -> Condition:
    return {"not": {"required": [item_id]}}


def _on(item_id: str, spec: dict[str, Any], *, when_missing: bool) -> Condition:
    """The answer to item_id satisfies spec; an unanswered item counts as `when_missing`."""
    if when_missing:
        return {"properties": {item_id: spec}}
    return {"required": [item_id], "properties": {item_id: spec}}


class _Translator:
    def __init__(self, lookup: Lookup, self_id: str | None, attrs: Mapping[str, str] | None) -> None:
        self.lookup, self.self_id, self.attrs = lookup, self_id, attrs

    # a node that names an answer: (item id, target) or None
    def _answer(self, node: Node) -> tuple[str, Target] | None:
        if node[0] == "ref":
            target = self.lookup(node[1])
            if target is None:
                raise ExpressionError(
                    f"Biểu thức nhắc đến câu hỏi không có trong phiếu: ${{{node[1]}}}.",
                    f"The expression names a question the survey does not have: ${{{node[1]}}}.",
                    node[2],
                )
            return node[1], target
        if node[0] == "self":
            if self.self_id is None:
                raise ExpressionError(
                    "Dấu '.' (câu trả lời của chính câu hỏi) chỉ dùng trong ràng buộc (constraint).",
                    "'.' (the question's own answer) is only allowed in a constraint.",
                    node[1],
                )
            target = self.lookup(self.self_id)
            assert target is not None
            return self.self_id, target
        return None

    def _literal(self, node: Node) -> Any:
        if node[0] == "lit":
            return node[1]
        if node[0] == "attr" and self.attrs is not None:
            if node[1] not in self.attrs:
                raise ExpressionError(
                    f"Bộ lọc phương án nhắc đến cột không có trong danh sách lựa chọn: {node[1]}.",
                    f"The choice filter names a column the choices do not have: {node[1]}.",
                    node[2],
                )
            return self.attrs[node[1]]
        if node[0] == "call" and node[1] in ("true", "false") and len(node) == 3:
            return "true" if node[1] == "true" else "false"
        return _MISSING

    def cond(self, node: Node) -> Condition:
        tag = node[0]
        if tag == "or":
            return _any([self.cond(n) for n in node[1:]])
        if tag == "and":
            return _all([self.cond(n) for n in node[1:]])
        if tag == "cmp":
            return self.compare(node[1], node[2], node[3])
        if tag == "call":
            return self.call(node)
        if tag in ("ref", "self"):
            found = self._answer(node)
            assert found is not None
            return answered(found[0])  # an answer on its own: true when given (ODK: non-empty)
        if tag == "attr" and self.attrs is not None:
            return TRUE if self.attrs.get(node[1]) else FALSE
        if tag == "lit":
            return TRUE if node[1] not in ("", 0.0) else FALSE
        raise _unsupported(repr(node[1]), repr(node[1]), node[2] if len(node) > 2 else None)

    def call(self, node: Node) -> Condition:
        name, at, args = node[1], node[2], node[3:]
        if name in ("true", "false") and not args:
            return TRUE if name == "true" else FALSE
        if name == "not" and len(args) == 1:
            return _not(self.cond(args[0]))
        if name == "selected" and len(args) == 2:
            found, value = self._answer(args[0]), self._literal(args[1])
            if found is None or value is _MISSING:
                raise _unsupported(
                    "selected() với tham số khác", "selected() on anything but an answer and a literal", at
                )
            item_id, target = found
            value = _text(value)
            if target.kind == "multi":
                return {"required": [item_id], "properties": {item_id: {"contains": {"const": value}}}}
            return (
                self._finite(item_id, target, "=", value)
                if target.kind in FINITE
                else _on(item_id, {"const": value}, when_missing=False)
            )
        if name == "regex" and len(args) == 2:
            found, pattern = self._answer(args[0]), self._literal(args[1])
            if found is None or not isinstance(pattern, str):
                raise _unsupported("regex() với tham số khác", "regex() on anything but an answer and a pattern", at)
            if found[1].kind != "text":
                raise _unsupported("regex() trên câu không phải văn bản", "regex() on an answer that is not text", at)
            _check_pattern(pattern, at)
            # ODK: regex('', p) is whatever p says of ''; an absent answer is never constrained anyway.
            return _on(
                found[0], {"type": "string", "pattern": pattern}, when_missing=re.search(pattern, "") is not None
            )
        raise _unsupported(f"hàm {name}()", f"the function {name}()", at)

    def compare(self, op: str, left: Node, right: Node) -> Condition:
        for side in (left, right):
            if side[0] == "call" and side[1] not in ("count-selected", "string-length", "true", "false"):
                raise _unsupported(f"hàm {side[1]}()", f"the function {side[1]}()", side[2])
        # normalise to (answer-ish) op literal
        lhs_counted = self._counted(left)
        rhs_counted = self._counted(right)
        if (
            self._answer(left) is None
            and lhs_counted is None
            and (self._answer(right) is not None or rhs_counted is not None)
        ):
            left, right, op = right, left, _FLIP[op]
            lhs_counted = rhs_counted
        literal = self._literal(right)
        if literal is _MISSING:
            if self._answer(right) is not None or self._counted(right) is not None:
                raise _unsupported("so sánh hai câu trả lời với nhau", "a comparison of two answers", _at(right))
            raise _unsupported("một vế so sánh không phải hằng số", "a comparison with a non-literal", _at(right))
        if lhs_counted is not None:
            return self._count(lhs_counted, op, literal, _at(left))
        found = self._answer(left)
        if found is None:
            left_literal = self._literal(left)
            if left_literal is _MISSING:
                raise _unsupported("một vế so sánh không phải câu trả lời", "a comparison of no answer", _at(left))
            return (
                TRUE
                if xpath_compare(
                    op, _text(left_literal) if not isinstance(left_literal, float) else left_literal, literal
                )
                else FALSE
            )
        item_id, target = found
        if target.kind in FINITE:
            if target.kind == "multi":
                raise _unsupported(
                    "so sánh '=' trên câu nhiều lựa chọn (hãy dùng selected())",
                    "'=' on a multiple-choice answer (use selected())",
                    _at(left),
                )
            return self._finite(item_id, target, op, literal)
        if target.kind in ("integer", "decimal"):
            return self._numeric(item_id, op, literal, _at(right))
        if target.kind in ("text", "date", "place", "consent"):
            if op not in ("=", "!="):
                raise _unsupported("so sánh thứ tự trên văn bản hoặc ngày", "ordering text or dates", _at(left))
            value = literal if isinstance(literal, str) else _text(literal)
            if target.kind == "consent":
                equal = (
                    answered(item_id)
                    if value in ("OK", "true", "1", "yes")
                    else absent(item_id)
                    if value == ""
                    else FALSE
                )
            else:
                equal = absent(item_id) if value == "" else _on(item_id, {"const": value}, when_missing=False)
            return equal if op == "=" else _not(equal)
        raise _unsupported(f"câu hỏi loại {target.kind}", f"a question of kind {target.kind}", _at(left))

    def _counted(self, node: Node) -> str | None:
        if node[0] == "call" and node[1] in ("count-selected", "string-length") and len(node) == 4:
            found = self._answer(node[3])
            if found is None:
                raise _unsupported(f"{node[1]}() trên thứ khác câu trả lời", f"{node[1]}() of no answer", node[2])
            if node[1] == "count-selected" and found[1].kind != "multi":
                raise _unsupported(
                    "count-selected() trên câu không nhiều lựa chọn", "count-selected() of no multi-choice", node[2]
                )
            return f"{node[1]}:{found[0]}"
        return None

    def _count(self, counted: str, op: str, literal: Any, at: int | None) -> Condition:
        func, item_id = counted.split(":", 1)
        n = _number(literal)
        if n is None:
            raise _unsupported("so sánh số đếm với văn bản", "a count compared with text", at)
        low, high = ("minItems", "maxItems") if func == "count-selected" else ("minLength", "maxLength")
        when_missing = _OPS[op](0, n)
        if op in ("=", "!="):
            spec = {low: int(n), high: int(n)} if n.is_integer() else None
            equal = FALSE if spec is None else _on(item_id, spec, when_missing=n == 0)
            return equal if op == "=" else _not(equal)
        import math

        if op in (">", ">="):
            k = math.floor(n) + 1 if op == ">" else math.ceil(n)
            return _on(item_id, {low: max(k, 0)}, when_missing=when_missing)
        k = math.ceil(n) - 1 if op == "<" else math.floor(n)
        if k < 0:
            return FALSE
        return _on(item_id, {high: k}, when_missing=when_missing)

    def _finite(self, item_id: str, target: Target, op: str, literal: Any) -> Condition:
        ordering = op not in ("=", "!=")
        chosen = [
            v for v in target.options if xpath_compare(op, v, literal) and not (ordering and v in target.not_applicable)
        ]
        when_missing = xpath_compare(op, None, literal)
        if not chosen:
            return absent(item_id) if when_missing else FALSE
        if len(chosen) == len(target.options):
            return TRUE if when_missing else answered(item_id)
        return _on(item_id, {"enum": chosen}, when_missing=when_missing)

    def _numeric(self, item_id: str, op: str, literal: Any, at: int | None) -> Condition:
        if literal == "":
            equal = absent(item_id)
            if op in ("=", "!="):
                return equal if op == "=" else _not(equal)
        n = _number(literal)
        if n is None:
            raise _unsupported("so sánh số với văn bản", "a number compared with text", at)
        value: float | int = int(n) if n.is_integer() else n
        if op in ("=", "!="):
            equal = _on(item_id, {"const": value}, when_missing=False)
            return equal if op == "=" else _not(equal)
        return _on(item_id, {_BOUND[op]: value}, when_missing=False)


_MISSING = object()


def _at(node: Node) -> int | None:
    for part in node[1:]:
        if isinstance(part, int) and not isinstance(part, bool):
            return part
    return None


# ------------------------------------------------------------------------------------------ evaluating
def holds(schema: Any, value: Any) -> bool:
    """Whether value satisfies a condition: the JSON-Schema subset this module and the survey emit.

    static/logic.js has the same evaluator; tests/unit/test_logic.py checks both against jsonschema.
    """
    if schema is True or schema == {}:
        return True
    if schema is False:
        return False
    return all(_KEYWORDS[key](arg, value, schema) for key, arg in schema.items())


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _equal(a: Any, b: Any) -> bool:
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    return type(a) is type(b) and a == b


def _type(arg: Any, v: Any, _: Any) -> bool:
    names = arg if isinstance(arg, list) else [arg]
    checks = {
        "string": lambda x: isinstance(x, str),
        "integer": lambda x: _is_number(x) and float(x).is_integer(),
        "number": _is_number,
        "array": lambda x: isinstance(x, list),
        "object": lambda x: isinstance(x, dict),
        "boolean": lambda x: isinstance(x, bool),
    }
    return any(checks[n](v) for n in names)


def _num(check: Callable[[float, float], bool]) -> Callable[[Any, Any, Any], bool]:
    return lambda arg, v, _: not _is_number(v) or check(v, arg)


def _len(check: Callable[[int, int], bool], kind: type[str] | type[list[Any]]) -> Callable[[Any, Any, Any], bool]:
    return lambda arg, v, _: not isinstance(v, kind) or check(len(v), arg)


def _if(arg: Any, v: Any, schema: Any) -> bool:
    branch = schema.get("then") if holds(arg, v) else schema.get("else")
    return True if branch is None else holds(branch, v)


_KEYWORDS: dict[str, Callable[[Any, Any, Any], bool]] = {
    "required": lambda arg, v, _: not isinstance(v, dict) or all(k in v for k in arg),
    "properties": lambda arg, v, _: not isinstance(v, dict) or all(holds(s, v[k]) for k, s in arg.items() if k in v),
    "const": lambda arg, v, _: _equal(arg, v),
    "enum": lambda arg, v, _: any(_equal(a, v) for a in arg),
    "contains": lambda arg, v, _: not isinstance(v, list) or any(holds(arg, x) for x in v),
    "items": lambda arg, v, _: not isinstance(v, list) or all(holds(arg, x) for x in v),
    "minimum": _num(lambda v, a: v >= a),
    "maximum": _num(lambda v, a: v <= a),
    "exclusiveMinimum": _num(lambda v, a: v > a),
    "exclusiveMaximum": _num(lambda v, a: v < a),
    "minItems": _len(lambda n, a: n >= a, list),
    "maxItems": _len(lambda n, a: n <= a, list),
    "minLength": _len(lambda n, a: n >= a, str),
    "maxLength": _len(lambda n, a: n <= a, str),
    "pattern": lambda arg, v, _: not isinstance(v, str) or re.search(arg, v) is not None,
    "type": _type,
    "allOf": lambda arg, v, _: all(holds(s, v) for s in arg),
    "anyOf": lambda arg, v, _: any(holds(s, v) for s in arg),
    "not": lambda arg, v, _: not holds(arg, v),
    "if": _if,
    "then": lambda *_: True,  # read by "if"
    "else": lambda *_: True,
}


def canonical(condition: Condition) -> str:
    """A stable text of a condition, to group options that share one."""
    return json.dumps(condition, sort_keys=True, separators=(",", ":"))
