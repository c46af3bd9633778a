"""Tab completion from a live namespace (rlcompleter rules), capped at 200 matches."""
import rlcompleter

MAX_MATCHES = 200


def complete(ns, text):
    if not text:
        return {"matches": [""]}
    completer = rlcompleter.Completer(ns)
    matches = []
    try:
        for state in range(MAX_MATCHES):
            match = completer.complete(text, state)
            if match is None:
                break
            matches.append(match)
    except Exception:
        return {"matches": matches, "_error": True}
    return {"matches": matches}
