"""Language-neutral value codec for tool calls (docs/PROTOCOL.md, "Codec").

A value becomes JSON plus a list of raw binary attachments. Plain JSON types travel as
themselves; everything else is a tagged object {"$": tag, ...}:

  bytes/bytearray/memoryview  {"$":"b","i":n}       attachment n, raw (never base64)
  int outside +-(2**53-1)     {"$":"n","v":"123"}   decimal string (bigint in TypeScript)
  float nan/inf               {"$":"f","v":"nan"|"inf"|"-inf"}
  tuple, list                 [..]                  plain array
  set, frozenset              {"$":"set","v":[..]}
  dict, all keys str, no "$"  {..}                  plain object
  other dict                  {"$":"map","v":[[k,v],..]}
  dataclass instance          {"$":"dc","t":"mod.Qual","v":{field: value}}
  enum member                 {"$":"enum","t":"mod.Qual","v":value}
  datetime.datetime           {"$":"dt","v":"ISO 8601"}
  datetime.date               {"$":"date","v":"YYYY-MM-DD"}
  os.PathLike (pathlib)       plain string
  exception instance          {"$":"exc","type":"mod.Qual","message":str}

Runs on Python 3.9+, standard library only.
"""
import math

SAFE_INT = (1 << 53) - 1
MAX_DEPTH = 200


class EncodeError(TypeError):
    """A value has no mapping in the codec."""


class DecodeError(ValueError):
    """Encoded data is malformed."""


def qualname_of(cls):
    return "%s.%s" % (cls.__module__, cls.__qualname__)


def encode(value, blobs, depth=0):
    """Return the JSON-able form of value; raw bytes are appended to blobs."""
    t = type(value)
    if t is str or t is bool or value is None:
        return value
    if t is int:
        if -SAFE_INT <= value <= SAFE_INT:
            return value
        return {"$": "n", "v": str(value)}
    if t is float:
        if math.isfinite(value):
            return value
        return {"$": "f", "v": "nan" if value != value else ("inf" if value > 0 else "-inf")}
    if depth > MAX_DEPTH:
        raise EncodeError("value nested deeper than %d levels" % MAX_DEPTH)
    if t is list or t is tuple:
        return [encode(v, blobs, depth + 1) for v in value]
    if t is dict:
        return _encode_dict(value, blobs, depth)
    if t is bytes or t is bytearray or t is memoryview:
        blobs.append(value)
        return {"$": "b", "i": len(blobs) - 1}
    return _encode_other(value, blobs, depth)


def _encode_dict(value, blobs, depth):
    if all(type(k) is str for k in value) and "$" not in value:
        return {k: encode(v, blobs, depth + 1) for k, v in value.items()}
    return {"$": "map", "v": [[encode(k, blobs, depth + 1), encode(v, blobs, depth + 1)] for k, v in value.items()]}


def _encode_other(value, blobs, depth):
    import enum

    if isinstance(value, enum.Enum):
        return {"$": "enum", "t": qualname_of(type(value)), "v": encode(value.value, blobs, depth + 1)}
    # Subclasses of the plain types (IntEnum was handled above).
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return encode(int(value), blobs, depth)
    if isinstance(value, float):
        return encode(float(value), blobs, depth)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        blobs.append(bytes(value))
        return {"$": "b", "i": len(blobs) - 1}
    if isinstance(value, (set, frozenset)):
        return {"$": "set", "v": [encode(v, blobs, depth + 1) for v in value]}
    if isinstance(value, (list, tuple)):
        return [encode(v, blobs, depth + 1) for v in value]
    if isinstance(value, dict):
        return _encode_dict(value, blobs, depth)
    if hasattr(type(value), "__dataclass_fields__"):
        import dataclasses

        fields = {f.name: encode(getattr(value, f.name), blobs, depth + 1) for f in dataclasses.fields(value)}
        return {"$": "dc", "t": qualname_of(type(value)), "v": fields}
    import datetime as _dt  # lazily: most agents never see a datetime

    if isinstance(value, _dt.datetime):
        return {"$": "dt", "v": value.isoformat()}
    if isinstance(value, _dt.date):
        return {"$": "date", "v": value.isoformat()}
    if isinstance(value, BaseException):
        return {"$": "exc", "type": qualname_of(type(value)), "message": str(value)}
    import os

    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise EncodeError("cannot encode a value of type %s" % qualname_of(type(value)))


def decode(value, blobs, resolve=None, depth=0):
    """Inverse of encode. resolve(typename) may return a local class for dc/enum tags."""
    t = type(value)
    if t is str or t is int or t is float or t is bool or value is None:
        return value
    if depth > MAX_DEPTH:
        raise DecodeError("value nested deeper than %d levels" % MAX_DEPTH)
    if t is list:
        return [decode(v, blobs, resolve, depth + 1) for v in value]
    if t is not dict:
        raise DecodeError("unexpected JSON value")
    tag = value.get("$")
    if tag is None:
        return {k: decode(v, blobs, resolve, depth + 1) for k, v in value.items()}
    try:
        if tag == "b":
            i = value["i"]
            if type(i) is not int or not 0 <= i < len(blobs):
                raise DecodeError("attachment index out of range")
            return bytes(blobs[i])
        if tag == "n":
            return _big_int(value["v"])
        if tag == "f":
            if value["v"] not in _NON_FINITE:
                raise DecodeError("malformed 'f' value")
            return _NON_FINITE[value["v"]]
        if tag == "set":
            return set(decode(v, blobs, resolve, depth + 1) for v in value["v"])
        if tag == "map":
            return {_hashable(decode(k, blobs, resolve, depth + 1)): decode(v, blobs, resolve, depth + 1) for k, v in value["v"]}
        if tag == "dt":
            return _parse_datetime(value["v"])
        if tag == "date":
            import datetime as _dt

            return _dt.date.fromisoformat(value["v"])
        if tag == "dc":
            fields = {k: decode(v, blobs, resolve, depth + 1) for k, v in value["v"].items()}
            cls = resolve(value["t"]) if resolve else None
            return _build_dataclass(cls, fields) if cls is not None else fields
        if tag == "enum":
            v = decode(value["v"], blobs, resolve, depth + 1)
            cls = resolve(value["t"]) if resolve else None
            return cls(v) if cls is not None else v
        if tag == "exc":
            return {"type": str(value.get("type")), "message": str(value.get("message"))}
    except DecodeError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise DecodeError("malformed %r value: %s" % (tag, e)) from None
    raise DecodeError("unknown tag %r" % (tag,))


_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _big_int(text):
    # Only what TypeScript's side accepts (-?[0-9]+): int() would also take " 12", "1_000"
    # and other scripts' digits, so the two sides would disagree on what is garbage.
    digits = text[1:] if type(text) is str and text[:1] == "-" else text
    if type(digits) is not str or not digits.isascii() or not digits.isdigit():
        raise DecodeError("malformed big integer")
    return int(text)


def _hashable(k):
    if isinstance(k, list):
        return tuple(_hashable(x) for x in k)
    if isinstance(k, set):
        return frozenset(k)
    return k


def _parse_datetime(text):
    import datetime as _dt

    # JavaScript sends "2024-01-02T03:04:05.678Z"; fromisoformat on 3.9/3.10 rejects "Z".
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return _dt.datetime.fromisoformat(text)


def _build_dataclass(cls, fields):
    try:
        return cls(**fields)
    except TypeError:
        obj = object.__new__(cls)
        obj.__dict__.update(fields)
        return obj
