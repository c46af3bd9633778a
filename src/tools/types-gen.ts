// `pythond types tools/x.py`: TypeScript interfaces from a tool file's Python signatures and
// annotations. The file is parsed (ast), never executed, by the local python3.
import { execFile } from "node:child_process";

const MAX_OUTPUT = 16 * 1024 * 1024;

// What both generators (TypeScript here, MCP tool schemas in src/mcp/tool-schema.ts) know of a
// tool file: its classes, which are Tools, dataclasses and enums, and each Tool's public methods
// (inherited ones included). Runs on python3 >= 3.9 (ast.unparse); reads the file named in argv[1].
export const TOOL_INTROSPECTION = String.raw`
import ast, json, sys

path = sys.argv[1]
with open(path, encoding="utf-8") as f:
    tree = ast.parse(f.read(), path)

classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}

def base_names(c):
    out = []
    for b in c.bases:
        out.append(b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", ""))
    return out

def decorators(fn):
    return {(d.attr if isinstance(d, ast.Attribute) else getattr(d, "id", "")) for d in fn.decorator_list}

def is_tool(c, seen=()):
    for b in base_names(c):
        if b == "Tool" or (b in classes and b not in seen and is_tool(classes[b], seen + (b,))):
            return True
    return False

def is_dataclass(c):
    return any("dataclass" in ast.unparse(d) for d in c.decorator_list)

def is_enum(c):
    return any(b.endswith("Enum") or b in ("Flag", "IntFlag") for b in base_names(c))

def has_yield(fn):
    for n in ast.walk(fn):
        if isinstance(n, (ast.Yield, ast.YieldFrom)):
            return True
    return False

def methods(c, seen=None):
    seen = {} if seen is None else seen
    for b in base_names(c):
        if b in classes:
            methods(classes[b], seen)
    for n in c.body:
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and not n.name.startswith("_"):
            seen[n.name] = n
    return seen

`;

// Prints TypeScript for the file.
const GENERATOR = TOOL_INTROSPECTION + String.raw`
SIMPLE = {"str": "string", "int": "number", "float": "number", "bool": "boolean", "bytes": "Uint8Array",
          "bytearray": "Uint8Array", "memoryview": "Uint8Array", "None": "null", "NoneType": "null",
          "Any": "unknown", "object": "unknown", "datetime": "Date", "date": "string", "Path": "string",
          "PurePath": "string", "complex": "unknown"}
LISTS = {"list", "List", "Sequence", "Iterable", "Collection", "set", "Set", "frozenset", "FrozenSet", "MutableSequence", "Deque", "deque"}
MAPS = {"dict", "Dict", "Mapping", "MutableMapping", "OrderedDict", "DefaultDict", "defaultdict"}

def ts(node):
    if node is None:
        return "unknown"
    if isinstance(node, ast.Constant):
        if node.value is None:
            return "null"
        if isinstance(node.value, str):
            try:
                return ts(ast.parse(node.value, mode="eval").body)
            except SyntaxError:
                return "unknown"
        return json.dumps(node.value)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return union([ts(node.left), ts(node.right)])
    if isinstance(node, (ast.Name, ast.Attribute)):
        name = node.id if isinstance(node, ast.Name) else node.attr
        if name in SIMPLE:
            return SIMPLE[name]
        if name in classes and (is_dataclass(classes[name]) or is_enum(classes[name])):
            return name
        if name in LISTS or name in ("tuple", "Tuple"):
            return "unknown[]"
        if name in MAPS:
            return "Record<string, unknown>"
        return "unknown"
    if isinstance(node, ast.Subscript):
        head = node.value.id if isinstance(node.value, ast.Name) else getattr(node.value, "attr", "")
        sl = node.slice
        if isinstance(sl, ast.Index):  # Python 3.8 compatibility of the AST shape
            sl = sl.value
        args = list(sl.elts) if isinstance(sl, ast.Tuple) else [sl]
        if head == "Optional":
            return union([ts(args[0]), "null"])
        if head == "Union":
            return union([ts(a) for a in args])
        if head in ("ClassVar", "Final", "Annotated"):
            return ts(args[0])
        if head == "Literal":
            return union([json.dumps(a.value) if isinstance(a, ast.Constant) else "unknown" for a in args])
        if head in LISTS:
            return "%s[]" % wrap(ts(args[0]))
        if head in ("tuple", "Tuple"):
            if len(args) == 2 and isinstance(args[1], ast.Constant) and args[1].value is Ellipsis:
                return "%s[]" % wrap(ts(args[0]))
            return "[%s]" % ", ".join(ts(a) for a in args)
        if head in MAPS:
            k, v = (args + [None, None])[:2]
            kt = ts(k)
            return "Record<string, %s>" % ts(v) if kt == "string" else "Map<%s, %s>" % (kt, ts(v))
        if head in ("AsyncIterator", "AsyncIterable", "AsyncGenerator"):
            return "AsyncIterable<%s>" % ts(args[0])
        if head in ("Awaitable", "Coroutine"):
            return ts(args[-1])
        return "unknown"
    return "unknown"

def wrap(t):
    return "(%s)" % t if " " in t else t

def union(parts):
    out = []
    for p in parts:
        for q in p.split(" | "):
            if q not in out:
                out.append(q)
    return " | ".join(out)

def doc(node, indent):
    d = ast.get_docstring(node)
    return "%s/** %s */\n" % (indent, d.strip().splitlines()[0].replace("*/", "*\\/")) if d else ""

def params(fn, kind):
    a = fn.args
    pos = a.posonlyargs + a.args
    if kind != "static" and pos:
        pos = pos[1:]
    first_default = len(pos) - len(a.defaults)
    out = []
    for i, p in enumerate(pos):
        out.append("%s%s: %s" % (p.arg, "?" if i >= first_default else "", ts(p.annotation)))
    if a.vararg:
        out.append("...%s: %s[]" % (a.vararg.arg, wrap(ts(a.vararg.annotation))))
    return ", ".join(out)

out = ["// Generated by pythond types from %s. Do not edit; re-run after changing the tool." % path.split("/")[-1], ""]
for name, c in classes.items():
    if is_enum(c):
        vals = []
        for n in c.body:
            if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant):
                vals.append(json.dumps(n.value.value))
        out.append("%sexport type %s = %s;\n" % (doc(c, ""), name, " | ".join(vals) or "unknown"))
    elif is_dataclass(c):
        out.append("%sexport interface %s {" % (doc(c, ""), name))
        for n in c.body:
            if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name) and "ClassVar" not in ast.unparse(n.annotation):
                out.append("  %s: %s;" % (n.target.id, ts(n.annotation)))
        out.append("}\n")
for name, c in classes.items():
    if not is_tool(c):
        continue
    out.append("%sexport interface %sApi {" % (doc(c, ""), name))
    for mname, fn in methods(c).items():
        decs = decorators(fn)
        kind = "static" if "staticmethod" in decs else "class" if "classmethod" in decs else "instance"
        ret = ts(fn.returns)
        if isinstance(fn, ast.AsyncFunctionDef) and has_yield(fn):
            if not ret.startswith("AsyncIterable<"):
                ret = "AsyncIterable<%s>" % ("unknown" if fn.returns is None else ret)
        out.append("%s  %s(%s): %s;" % (doc(fn, "  "), mname, params(fn, kind), ret))
    out.append("}\n")
sys.stdout.write("\n".join(out))
`;

/** Generate TypeScript declarations for the Tool classes of a Python file. */
export function generateToolTypes(file: string, python = "python3", timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(python, ["-c", GENERATOR, file], { maxBuffer: MAX_OUTPUT, timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) {
        const why = String(stderr).trim().split("\n").slice(-3).join(" | ") || err.message;
        reject(new Error(`cannot generate types for ${file}: ${why}`));
      } else resolve(stdout);
    });
  });
}
