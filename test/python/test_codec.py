"""The tool value codec (agent/pythond_agent/codec.py) against the vectors it shares with the
TypeScript side (test/vectors/codec.json, also read by test/codec-vectors.test.mjs)."""
import agent_path  # noqa: F401  (first: puts agent/ on sys.path)

import datetime
import json
import math
import os
import unittest

from pythond_agent import codec

VECTORS = os.path.join(agent_path.ROOT, "test", "vectors", "codec.json")


def build(spec):
    """The native Python value a vector's notation names."""
    if isinstance(spec, list):
        return [build(x) for x in spec]
    if not isinstance(spec, dict):
        return spec
    kind = spec.get("~")
    if kind is None:
        return {k: build(v) for k, v in spec.items()}
    if kind == "bytes":
        return bytes.fromhex(spec["hex"])
    if kind == "int":
        return int(spec["v"])
    if kind == "float":
        return float(spec["v"])
    if kind == "tuple":
        return tuple(build(x) for x in spec["v"])
    if kind == "set":
        return set(build(x) for x in spec["v"])
    if kind == "map":
        return {build(k): build(v) for k, v in spec["v"]}
    if kind == "datetime":
        return datetime.datetime.fromisoformat(spec["v"])
    if kind == "date":
        return datetime.date.fromisoformat(spec["v"])
    raise AssertionError("the vectors name an unknown kind %r" % kind)


def canon(value):
    """A form that compares equal exactly when two values are the same value of the same type
    (nan equals nan; a tuple is not a list; sets and dicts compare by content)."""
    t = type(value)
    if t is float and math.isnan(value):
        return ("float", "nan")
    if t in (list, tuple):
        return (t.__name__, [canon(x) for x in value])
    if t is set:
        return ("set", sorted(repr(canon(x)) for x in value))
    if t is dict:
        return ("dict", sorted((repr(canon(k)), canon(v)) for k, v in value.items()))
    return (t.__name__, value)


def deep(levels):
    value = []
    for _ in range(levels - 1):
        value = [value]
    return value


class SharedVectors(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(VECTORS, encoding="utf-8") as f:
            cls.data = json.load(f)

    def test_there_are_vectors_for_python(self):
        self.assertGreater(sum(1 for v in self.data["vectors"] if "py" in v), 15)

    def test_encode_gives_the_wire_bytes(self):
        for v in self.data["vectors"]:
            if "py" not in v:
                continue
            with self.subTest(v["name"]):
                blobs = []
                wire = codec.encode(build(v["py"]), blobs)
                # Through JSON text, as on the link: a tuple and a list are the same array there.
                self.assertEqual(json.loads(json.dumps(wire)), v["wire"])
                self.assertEqual([bytes(b).hex() for b in blobs], v.get("blobs", []))

    def test_decode_gives_the_native_value(self):
        for v in self.data["vectors"]:
            expected = v.get("py_decoded", v.get("py", "absent"))
            if expected == "absent":
                continue
            with self.subTest(v["name"]):
                blobs = [bytes.fromhex(h) for h in v.get("blobs", [])]
                self.assertEqual(canon(codec.decode(v["wire"], blobs)), canon(build(expected)))

    def test_garbage_is_refused(self):
        for v in self.data["rejects"]:
            with self.subTest(v["name"]):
                wire = deep(v["deep"]) if "deep" in v else v["wire"]
                blobs = [bytes.fromhex(h) for h in v.get("blobs", [])]
                with self.assertRaises(codec.DecodeError):
                    codec.decode(wire, blobs)


class PythonOnly(unittest.TestCase):
    """Mappings TypeScript has no native value for (see the codec table in docs/PROTOCOL.md)."""

    def test_dataclass_and_enum_decode_to_local_classes_when_resolved(self):
        import dataclasses
        import enum

        @dataclasses.dataclass
        class Point:
            x: int
            y: int

        class Color(enum.Enum):
            RED = "red"

        blobs = []
        wire = codec.encode([Point(1, 2), Color.RED], blobs)
        self.assertEqual(wire[0]["$"], "dc")
        self.assertEqual(wire[0]["v"], {"x": 1, "y": 2})
        self.assertEqual(wire[1], {"$": "enum", "t": codec.qualname_of(Color), "v": "red"})
        classes = {codec.qualname_of(Point): Point, codec.qualname_of(Color): Color}
        self.assertEqual(codec.decode(wire, blobs, classes.get), [Point(1, 2), Color.RED])

    def test_exceptions_paths_and_subclasses_of_plain_types(self):
        import pathlib

        class MyInt(int):
            pass

        self.assertEqual(codec.encode(ValueError("bad"), []), {"$": "exc", "type": "builtins.ValueError", "message": "bad"})
        self.assertEqual(codec.encode(pathlib.PurePosixPath("/a/b"), []), "/a/b")
        self.assertIs(type(codec.encode(MyInt(3), [])), int)
        self.assertEqual(codec.encode(frozenset([7]), []), {"$": "set", "v": [7]})

    def test_what_has_no_mapping_is_refused(self):
        with self.assertRaises(codec.EncodeError):
            codec.encode(object(), [])
        with self.assertRaises(codec.EncodeError):
            codec.encode(deep(202), [])


if __name__ == "__main__":
    unittest.main()
