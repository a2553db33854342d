"""The only language diagram expressions and scripts may use: a small, checked subset of Python, interpreted
here node by node instead of handed to eval/exec.

People edit diagrams in the browser, and SpiffWorkflow would otherwise run their conditions, timer expressions
and scripts as full Python in the server (restricting builtins does not contain it). The subset: names of task
data (never starting with "_"), literals, comparisons, boolean logic, arithmetic, subscripts, conditional
expressions, a few named helper functions; scripts add assignments and if-statements. No attributes, imports,
lambdas, loops or comprehensions. Each evaluation is bounded in steps, time and the size of the values it makes.
"""

from __future__ import annotations

import ast
import operator
import time
from collections.abc import Callable, Mapping
from typing import Any

MAX_SOURCE = 4000
MAX_STEPS = 5000
MAX_SECONDS = 0.5
MAX_SIZE = 100_000  # characters of a string, items of a list/dict

HELPERS: dict[str, Callable[..., Any]] = {
    "len": len, "str": str, "int": int, "float": float, "bool": bool, "abs": abs, "round": round,
    "min": min, "max": max, "sum": sum,
}
BIN_OPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
}
UNARY_OPS: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.Not: operator.not_, ast.USub: operator.neg, ast.UAdd: operator.pos,
}
COMPARE_OPS: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
    ast.GtE: operator.ge, ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_, ast.IsNot: operator.is_not,
}
NODE_NAMES = {
    ast.Attribute: "属性访问（.）", ast.Import: "import", ast.ImportFrom: "import", ast.Lambda: "lambda",
    ast.For: "for 循环", ast.While: "while 循环", ast.ListComp: "列表推导式", ast.DictComp: "字典推导式",
    ast.SetComp: "集合推导式", ast.GeneratorExp: "生成器表达式", ast.FunctionDef: "函数定义",
    ast.ClassDef: "类定义", ast.With: "with", ast.Try: "try", ast.Raise: "raise", ast.Global: "global",
    ast.Delete: "del", ast.Await: "await", ast.Yield: "yield", ast.NamedExpr: ":=", ast.Starred: "*",
    ast.JoinedStr: "f 字符串", ast.Pow: "乘方（**）", ast.BitAnd: "位运算", ast.BitOr: "位运算",
    ast.BitXor: "位运算", ast.LShift: "位运算", ast.RShift: "位运算", ast.Invert: "位运算", ast.MatMult: "@",
}


class SandboxError(Exception):
    """An expression or script outside the allowed subset, or one that ran past its bounds. Message in Chinese."""


def _parse(source: str, mode: str) -> ast.AST:
    if not isinstance(source, str):
        raise SandboxError("表达式必须是文本")
    if len(source) > MAX_SOURCE:
        raise SandboxError(f"表达式过长（超过 {MAX_SOURCE} 个字符）")
    try:
        return ast.parse(source.strip() if mode == "eval" else source, mode=mode)
    except SyntaxError as exc:
        raise SandboxError(f"语法错误：{exc.msg}（第 {exc.lineno} 行）") from exc


def _check(tree: ast.AST, statements: bool) -> None:
    allowed: tuple[type[ast.AST], ...] = (
        ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.Name,
        ast.Load, ast.Constant, ast.Subscript, ast.Slice, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.Call,
        *BIN_OPS, *UNARY_OPS, *COMPARE_OPS,
    )
    if statements:
        allowed += (ast.Module, ast.Assign, ast.AugAssign, ast.If, ast.Expr, ast.Pass, ast.Store)
    nodes = list(ast.walk(tree))
    # The most telling reason first: a forbidden construct, then a hidden name, then everything else.
    for node in nodes:
        if not isinstance(node, allowed):
            what = NODE_NAMES.get(type(node), type(node).__name__)
            raise SandboxError(f"不允许使用 {what}")
    for node in nodes:
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise SandboxError(f"不允许使用以下划线开头的名称：{node.id}")
    for node in nodes:
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in HELPERS:
                name = node.func.id if isinstance(node.func, ast.Name) else "表达式"
                raise SandboxError(f"不允许调用 {name}（只能调用：{'、'.join(HELPERS)}）")
            if node.keywords:
                raise SandboxError("函数调用不允许使用关键字参数")
        if isinstance(node, ast.Constant) and isinstance(node.value, (bytes, complex)):
            raise SandboxError("不允许使用该类型的常量")
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if not isinstance(target, (ast.Name, ast.Subscript)):
                    raise SandboxError("只能给变量或其下标赋值")


def check_expression(source: str) -> None:
    """Raise SandboxError if `source` is not an allowed expression (conditions, timer expressions)."""
    _check(_parse(source, "eval"), statements=False)


def check_script(source: str) -> None:
    """Raise SandboxError if `source` is not an allowed script (script tasks)."""
    _check(_parse(source, "exec"), statements=True)


class _Interpreter:
    def __init__(self, names: dict[str, Any]) -> None:
        self.names = names
        self.steps = 0
        self.deadline = time.monotonic() + MAX_SECONDS

    def _tick(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS or time.monotonic() > self.deadline:
            raise SandboxError("表达式计算超出允许的步数或时间")

    @staticmethod
    def _bounded(value: Any) -> Any:
        if isinstance(value, (str, list, tuple, dict, set)) and len(value) > MAX_SIZE:
            raise SandboxError(f"计算结果过大（超过 {MAX_SIZE} 项）")
        if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
            raise SandboxError("数值过大")
        return value

    @staticmethod
    def _check_repeat(sequence: Any, times: Any) -> None:
        """Refuse "x" * n before it is built when the result would be too large."""
        if isinstance(sequence, (str, list, tuple)) and isinstance(times, int) and len(sequence) * times > MAX_SIZE:
            raise SandboxError(f"计算结果过大（超过 {MAX_SIZE} 项）")

    def value(self, node: ast.AST) -> Any:  # noqa: C901 - one branch per node type reads best here
        self._tick()
        if isinstance(node, ast.Expression):
            return self.value(node.body)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in self.names:
                return self.names[node.id]
            if node.id in HELPERS:
                return HELPERS[node.id]
            raise SandboxError(f"任务数据中没有“{node.id}”")
        if isinstance(node, ast.BoolOp):
            result: Any = None
            for operand in node.values:
                result = self.value(operand)
                if isinstance(node.op, ast.And) and not result:
                    return result
                if isinstance(node.op, ast.Or) and result:
                    return result
            return result
        if isinstance(node, ast.BinOp):
            left, right = self.value(node.left), self.value(node.right)
            if isinstance(node.op, ast.Mult):
                self._check_repeat(left, right)
                self._check_repeat(right, left)
            return self._bounded(BIN_OPS[type(node.op)](left, right))
        if isinstance(node, ast.UnaryOp):
            return UNARY_OPS[type(node.op)](self.value(node.operand))
        if isinstance(node, ast.Compare):
            left = self.value(node.left)
            for op, comparator in zip(node.ops, node.comparators, strict=True):
                right = self.value(comparator)
                if not COMPARE_OPS[type(op)](left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.IfExp):
            return self.value(node.body) if self.value(node.test) else self.value(node.orelse)
        if isinstance(node, ast.Subscript):
            return self.value(node.value)[self.value(node.slice)]
        if isinstance(node, ast.Slice):
            return slice(*(self.value(p) if p is not None else None for p in (node.lower, node.upper, node.step)))
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            items = [self.value(e) for e in node.elts]
            return self._bounded({ast.List: list, ast.Tuple: tuple, ast.Set: set}[type(node)](items))
        if isinstance(node, ast.Dict):
            return {self.value(k): self.value(v) for k, v in zip(node.keys, node.values, strict=True)
                    if k is not None}
        if isinstance(node, ast.Call):
            function = HELPERS[node.func.id]  # type: ignore[attr-defined]  # checked: a helper name
            return self._bounded(function(*(self.value(a) for a in node.args)))
        raise SandboxError(f"不允许使用 {type(node).__name__}")

    def run(self, statements: list[ast.stmt]) -> None:
        for statement in statements:
            self._tick()
            if isinstance(statement, ast.Assign):
                result = self.value(statement.value)
                for target in statement.targets:
                    self._store(target, result)
            elif isinstance(statement, ast.AugAssign):
                current = self.value(_as_load(statement.target))
                operand = self.value(statement.value)
                if isinstance(statement.op, ast.Mult):
                    self._check_repeat(current, operand)
                    self._check_repeat(operand, current)
                self._store(statement.target, self._bounded(BIN_OPS[type(statement.op)](current, operand)))
            elif isinstance(statement, ast.If):
                self.run(statement.body if self.value(statement.test) else statement.orelse)
            elif isinstance(statement, ast.Expr):
                self.value(statement.value)

    def _store(self, target: ast.AST, value: Any) -> None:
        if isinstance(target, ast.Name):
            self.names[target.id] = value
        elif isinstance(target, ast.Subscript):
            self.value(target.value)[self.value(target.slice)] = value


def _as_load(target: ast.expr) -> ast.expr:
    return ast.fix_missing_locations(ast.parse(ast.unparse(target), mode="eval")).body


def evaluate(source: str, names: Mapping[str, Any]) -> Any:
    tree = _parse(source, "eval")
    _check(tree, statements=False)
    try:
        return _Interpreter(dict(names)).value(tree)
    except SandboxError:
        raise
    except Exception as exc:  # a type error in the diagram's expression, e.g. "a" < 1
        raise SandboxError(f"计算出错：{type(exc).__name__}: {exc}") from exc


def execute(source: str, names: dict[str, Any]) -> None:
    """Run a script against task data `names`, changing it in place (only when the whole script succeeds)."""
    tree = _parse(source, "exec")
    _check(tree, statements=True)
    scratch = dict(names)
    try:
        _Interpreter(scratch).run(tree.body)  # type: ignore[attr-defined]
    except SandboxError:
        raise
    except Exception as exc:
        raise SandboxError(f"脚本执行出错：{type(exc).__name__}: {exc}") from exc
    names.clear()
    names.update(scratch)
