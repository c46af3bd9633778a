// MCP tool descriptions of a Tool file: for each public method of each Tool class, a JSON
// schema of its parameters from the Python signature and annotations (the introspection
// `pythond types` uses) and its docstring. The file is parsed by the local python3, never run.
import { execFile } from "node:child_process";
import { TOOL_INTROSPECTION } from "../tools/types-gen.js";

const MAX_OUTPUT = 16 * 1024 * 1024;

export interface ToolMethodSpec {
  cls: string;
  method: string;
  doc: string;
  classDoc: string;
  kind: "instance" | "class" | "static";
  stream: boolean;
  /** Parameters in order: positional-only ones must be passed by position. */
  params: { name: string; positionalOnly: boolean; required: boolean }[];
  schema: { type: "object"; properties: Record<string, any>; required: string[]; additionalProperties: boolean };
}

const EMITTER = String.raw`
SCALARS = {"str": {"type": "string"}, "int": {"type": "integer"}, "float": {"type": "number"},
           "bool": {"type": "boolean"}, "None": {"type": "null"}, "NoneType": {"type": "null"},
           "datetime": {"type": "string", "format": "date-time"}, "date": {"type": "string", "format": "date"},
           "Path": {"type": "string"}, "PurePath": {"type": "string"}}
LISTS = {"list", "List", "Sequence", "Iterable", "Collection", "set", "Set", "frozenset", "FrozenSet", "MutableSequence", "Deque", "deque", "tuple", "Tuple"}
MAPS = {"dict", "Dict", "Mapping", "MutableMapping", "OrderedDict", "DefaultDict", "defaultdict"}

def any_of(parts):
    out = []
    for p in parts:
        for q in p.get("anyOf", [p]):
            if q not in out:
                out.append(q)
    if any(q == {} for q in out):
        return {}
    return out[0] if len(out) == 1 else {"anyOf": out}

def dataclass_schema(c, depth):
    props, req = {}, []
    for n in c.body:
        if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name) and "ClassVar" not in ast.unparse(n.annotation):
            props[n.target.id] = schema(n.annotation, depth + 1)
            if n.value is None:
                req.append(n.target.id)
    s = {"type": "object", "properties": props, "required": req}
    d = ast.get_docstring(c)
    if d:
        s["description"] = d.strip().splitlines()[0]
    return s

def enum_values(c):
    return [n.value.value for n in c.body if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)]

def schema(node, depth=0):
    if node is None or depth > 20:
        return {}
    if isinstance(node, ast.Constant):
        if node.value is None:
            return {"type": "null"}
        if isinstance(node.value, str):
            try:
                return schema(ast.parse(node.value, mode="eval").body, depth + 1)
            except SyntaxError:
                return {}
        return {"const": node.value}
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return any_of([schema(node.left, depth + 1), schema(node.right, depth + 1)])
    if isinstance(node, (ast.Name, ast.Attribute)):
        name = node.id if isinstance(node, ast.Name) else node.attr
        if name in SCALARS:
            return dict(SCALARS[name])
        if name in classes and is_dataclass(classes[name]):
            return dataclass_schema(classes[name], depth)
        if name in classes and is_enum(classes[name]):
            return {"enum": enum_values(classes[name])}
        if name in LISTS:
            return {"type": "array"}
        if name in MAPS:
            return {"type": "object"}
        return {}
    if isinstance(node, ast.Subscript):
        head = node.value.id if isinstance(node.value, ast.Name) else getattr(node.value, "attr", "")
        sl = node.slice
        if isinstance(sl, ast.Index):
            sl = sl.value
        args = list(sl.elts) if isinstance(sl, ast.Tuple) else [sl]
        if head == "Optional":
            return any_of([schema(args[0], depth + 1), {"type": "null"}])
        if head == "Union":
            return any_of([schema(a, depth + 1) for a in args])
        if head in ("ClassVar", "Final", "Annotated"):
            return schema(args[0], depth + 1)
        if head == "Literal":
            return {"enum": [a.value for a in args if isinstance(a, ast.Constant)]}
        if head in ("tuple", "Tuple") and not (len(args) == 2 and isinstance(args[1], ast.Constant) and args[1].value is Ellipsis):
            return {"type": "array", "prefixItems": [schema(a, depth + 1) for a in args], "minItems": len(args), "maxItems": len(args)}
        if head in LISTS:
            return {"type": "array", "items": schema(args[0], depth + 1)}
        if head in MAPS:
            v = args[1] if len(args) > 1 else None
            return {"type": "object", "additionalProperties": schema(v, depth + 1)}
        return {}
    return {}

def literal(node):
    try:
        v = ast.literal_eval(node)
        json.dumps(v)
        return True, v
    except Exception:
        return False, None

def spec(cname, c, mname, fn):
    decs = decorators(fn)
    kind = "static" if "staticmethod" in decs else "class" if "classmethod" in decs else "instance"
    a = fn.args
    pos = a.posonlyargs + a.args
    n_posonly = len(a.posonlyargs)
    if kind != "static" and pos:
        pos, n_posonly = pos[1:], max(0, n_posonly - 1)
    first_default = len(pos) - len(a.defaults)
    props, required, params = {}, [], []
    def add(p, default, positional_only):
        s = schema(p.annotation)
        if default is not None:
            ok, v = literal(default)
            if ok:
                s["default"] = v
        props[p.arg] = s
        if default is None:
            required.append(p.arg)
        params.append({"name": p.arg, "positionalOnly": positional_only, "required": default is None})
    for i, p in enumerate(pos):
        add(p, a.defaults[i - first_default] if i >= first_default else None, i < n_posonly)
    for p, d in zip(a.kwonlyargs, a.kw_defaults):
        add(p, d, False)
    return {"cls": cname, "method": mname, "kind": kind, "doc": ast.get_docstring(fn) or "", "classDoc": ast.get_docstring(c) or "",
            "stream": isinstance(fn, ast.AsyncFunctionDef) and has_yield(fn), "params": params,
            "schema": {"type": "object", "properties": props, "required": required, "additionalProperties": False}}

out = []
for cname, c in classes.items():
    if is_tool(c):
        for mname, fn in methods(c).items():
            out.append(spec(cname, c, mname, fn))
sys.stdout.write(json.dumps(out))
`;

/** The published methods of the Tool classes in `file`. */
export function toolMethodSpecs(file: string, python = "python3", timeoutMs = 30_000): Promise<ToolMethodSpec[]> {
  return new Promise((resolve, reject) => {
    execFile(python, ["-c", TOOL_INTROSPECTION + EMITTER, file], { maxBuffer: MAX_OUTPUT, timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) {
        const why = String(stderr).trim().split("\n").slice(-3).join(" | ") || err.message;
        return reject(new Error(`cannot read the tools of ${file}: ${why}`));
      }
      try {
        resolve(JSON.parse(stdout));
      } catch {
        reject(new Error(`cannot read the tools of ${file}: the introspection printed no JSON`));
      }
    });
  });
}
