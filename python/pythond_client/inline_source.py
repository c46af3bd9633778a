"""What an inline tool travels as: its class and the definitions it uses, never the rest of the script.

An inline tool is a Tool class defined in a script (`__main__`) or inside a function. Running
the script again on the remote would run its top-level code there too (a script that calls
`asyncio.run(main())` without a `__main__` guard would start itself remotely), so only what the
class needs is sent:

* the class statement itself, found by exact location (the ClassDef holding its methods' code);
* for each name the class uses that it does not bind itself, the script's own top-level
  statement binding it (an import, a def, a class, an assignment), followed the same way;
* for names no such statement binds (closure variables of an enclosing function, names bound
  inside `if`/`try` blocks), the current value: a module becomes an import, an object of an
  importable module a `from ... import`, a plain constant its `repr`; anything else is refused
  with a clear error.

Statements keep their line numbers (the gaps are blank lines), so remote tracebacks point at
the caller's own file.
"""
import ast
import builtins
import inspect
import linecache
import symtable
import sys
import textwrap

# Names the agent puts in every inline tool's namespace (the seed's promise: no import needed).
INJECTED = ("Tool", "inline", "process", "async_process")
_LITERALS = (type(None), bool, int, float, complex, str, bytes)  # and tuples, lists, sets, dicts of them
_MAX_LITERAL = 1 << 20


class InlineSourceError(TypeError):
    """An inline tool uses a name whose value cannot be sent to the remote."""


def inline_source(cls, agent_names):
    """(source, pre, file) for the inline tool class `cls`.

    source: the selected statements of cls's file, each at its own line (file: that file's
    path; None when there is no file to search and the class's own source is sent alone);
    pre: bindings made from values, run first. agent_names maps id(obj) -> (module, name) for
    controller objects that exist on the agent under another module (Tool, process, ...)."""
    module = sys.modules.get(cls.__module__)
    closure = _closure_values(cls)
    namespace = dict(getattr(module, "__dict__", {}))
    namespace.update(closure)
    values = _ValueBindings(namespace, agent_names, cls)
    file = inspect.getsourcefile(cls) or getattr(module, "__file__", None)
    lines = linecache.getlines(file) if file else []
    tree = None
    if lines:
        try:
            tree = ast.parse("".join(lines), file)
        except SyntaxError:
            tree = None
    node = _find_classdef(tree, cls) if tree is not None else None
    if node is None:
        # No file to search (a class made by exec, say): the class alone, its names from values.
        src = textwrap.dedent(inspect.getsource(cls))
        values.add(_free_names(src) - {cls.__name__})
        return src, values.source(), None

    top = _top_level_bindings(tree)
    chosen = {_first_line(node): _segment(lines, node)}  # first line -> statement source
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            chosen[_first_line(stmt)] = _segment(lines, stmt)
    pending = [chosen[_first_line(node)]]
    seen = {node.name}
    while pending:
        for name in sorted(_free_names(pending.pop())):
            if name in seen:
                continue
            seen.add(name)
            stmt = None if name in closure else top.get(name)
            if stmt is None:
                values.add([name])
                continue
            first = _first_line(stmt)
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                text = _import_of(stmt, name)
                chosen[first] = chosen[first] + "; " + text if first in chosen else text
            elif first not in chosen:
                chosen[first] = _segment(lines, stmt)
                pending.append(chosen[first])
    out = []
    line = 1
    for first in sorted(chosen):
        out.append("\n" * (first - line))
        text = chosen[first].rstrip("\n") + "\n"
        out.append(text)
        line = first + text.count("\n")
    return "".join(out), values.source(), file


def _closure_values(cls):
    """Names a class defined inside a function takes from that function (its methods' cells)."""
    values = {}
    for attr in vars(cls).values():
        fn = getattr(attr, "__func__", attr)
        if isinstance(attr, property):
            fn = attr.fget
        code = getattr(fn, "__code__", None)
        cells = getattr(fn, "__closure__", None)
        if code is None or not cells:
            continue
        for name, cell in zip(code.co_freevars, cells):
            try:
                values[name] = cell.cell_contents
            except ValueError:
                pass  # an empty cell (not yet assigned)
    values.pop("__class__", None)
    return values


def _find_classdef(tree, cls):
    """The ClassDef that made cls: same name, and it holds the code of cls's own methods."""
    lines = set()
    for attr in vars(cls).values():
        fn = getattr(attr, "__func__", attr)
        if isinstance(attr, property):
            fn = attr.fget
        code = getattr(fn, "__code__", None)
        if code is not None:
            lines.add(code.co_firstlineno)
    candidates = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == cls.__name__]
    for n in candidates:
        if any(n.lineno <= ln <= n.end_lineno for ln in lines):
            return n
    # No methods to go by: the last top-level definition of that name, as the script left it.
    top = [n for n in candidates if n in tree.body]
    return top[-1] if top else (candidates[-1] if len(candidates) == 1 else None)


def _first_line(stmt):
    decorators = getattr(stmt, "decorator_list", None) or []
    return min([stmt.lineno] + [d.lineno for d in decorators])


def _segment(lines, stmt):
    text = "".join(lines[_first_line(stmt) - 1 : stmt.end_lineno])
    return textwrap.dedent(text)


def _top_level_bindings(tree):
    """name -> the last simple top-level statement of the module that binds it."""
    top = {}
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            top[stmt.name] = stmt
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                top[alias.asname or alias.name.split(".")[0]] = stmt
        elif isinstance(stmt, ast.ImportFrom):
            if stmt.level == 0 and stmt.module != "__future__":
                for alias in stmt.names:
                    if alias.name != "*":
                        top[alias.asname or alias.name] = stmt
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                for n in ast.walk(target):
                    if isinstance(n, ast.Name):
                        top[n.id] = stmt
    return top


def _import_of(stmt, name):
    """The one alias of an import statement that binds name, as its own statement."""
    for alias in stmt.names:
        bound = alias.asname or (alias.name if isinstance(stmt, ast.ImportFrom) else alias.name.split(".")[0])
        if bound != name:
            continue
        spelled = alias.name + (" as " + alias.asname if alias.asname else "")
        if isinstance(stmt, ast.ImportFrom):
            return "from %s import %s" % (stmt.module, spelled)
        return "import " + spelled
    raise AssertionError("%s does not bind %s" % (ast.dump(stmt), name))


def _free_names(src):
    """Names a piece of source uses without binding them itself (globals of every scope in it)."""
    out = set()

    def walk(table, top):
        for s in table.get_symbols():
            if top:
                if s.is_referenced() and not (s.is_assigned() or s.is_imported()):
                    out.add(s.get_name())
            elif s.is_global() and (s.is_referenced() or s.is_assigned()):
                out.add(s.get_name())
        for child in table.get_children():
            walk(child, False)

    walk(symtable.symtable(src, "<tool>", "exec"), True)
    return out


class _ValueBindings:
    """Source binding names from their current values (see the module docstring)."""

    def __init__(self, namespace, agent_names, cls):
        self.namespace = namespace
        self.agent_names = agent_names
        self.cls = cls
        self.seen = set()
        self.parts = []

    def add(self, names):
        todo = sorted(names)
        while todo:
            name = todo.pop(0)
            if name in self.seen:
                continue
            self.seen.add(name)
            if name.startswith("__") and name.endswith("__"):
                continue  # __name__, __file__ ...: the remote namespace has its own
            if name not in self.namespace:
                continue  # a builtin, or undefined: the remote resolves it as Python would
            value = self.namespace[name]
            if value is getattr(builtins, name, _MISSING):
                continue
            if name in INJECTED and self.agent_names.get(id(value), (None, None))[1] == name:
                continue
            text = self._binding(name, value)
            if text.startswith(("def ", "async def ", "class ", "@")):
                todo.extend(sorted(_free_names(text) - {name}))  # a definition: its own names too
            self.parts.append(text)

    def source(self):
        return "".join(self.parts)

    def _binding(self, name, value):
        cls = self.cls
        if id(value) in self.agent_names:
            module, attr = self.agent_names[id(value)]
            return "from %s import %s as %s\n" % (module, attr, name)
        if inspect.ismodule(value):
            if value.__name__ == "__main__":
                raise InlineSourceError("tool %s uses %r, the script itself, which cannot travel" % (cls.__qualname__, name))
            if "." not in value.__name__:
                return "import %s as %s\n" % (value.__name__, name)
            return "import %s\n%s = %s\n" % (value.__name__, name, value.__name__)
        if _is_literal(value):
            text = repr(value)
            if len(text) <= _MAX_LITERAL:
                try:
                    ok = ast.literal_eval(text) == value
                except (ValueError, SyntaxError, MemoryError, RecursionError):
                    ok = False
                if ok:
                    return "%s = %s\n" % (name, text)
        module, qual = getattr(value, "__module__", None), getattr(value, "__qualname__", None)
        if isinstance(module, str) and isinstance(qual, str):
            if module == cls.__module__ and (inspect.isfunction(value) or inspect.isclass(value)):
                try:
                    src = textwrap.dedent(inspect.getsource(value))  # defined in a block of the script
                except (OSError, TypeError):
                    src = None
                if src is not None and getattr(value, "__name__", None) == name:
                    return src.rstrip("\n") + "\n"
            elif module != "__main__" and "<locals>" not in qual:
                found = sys.modules.get(module)
                for part in qual.split("."):
                    found = getattr(found, part, None)
                if found is value:
                    head, _, rest = qual.partition(".")
                    line = "from %s import %s as %s\n" % (module, head, name)
                    return line + ("%s = %s.%s\n" % (name, name, rest) if rest else "")
        raise InlineSourceError(
            "tool %s uses %r (a %s), which cannot travel to the remote: bind it at the top level of "
            "the script (an import, a def, a class or an assignment), or create it inside the method"
            % (cls.__qualname__, name, type(value).__name__)
        )


_MISSING = object()


def _is_literal(value, depth=0):
    if depth > 50:
        return False
    t = type(value)
    if t in _LITERALS:
        return True
    if t in (tuple, list, set):
        return all(_is_literal(v, depth + 1) for v in value)
    if t is dict:
        return all(_is_literal(k, depth + 1) and _is_literal(v, depth + 1) for k, v in value.items())
    return False
