"""Rich outputs of a session agent: images and text parts of values and display().

A cell's value, or an object given to display(), becomes
- an image (PNG saved under the session dir, its path in the cell's `images`): a matplotlib
  figure or Axes, a PIL image, anything with _repr_png_ or an image/png in _repr_mimebundle_;
- a text part (in the cell's `rich`: {"mime", "text"}): _repr_markdown_ or _repr_html_, or
  their mimetypes in _repr_mimebundle_.
plt.show() on a non-GUI backend displays every open figure (and closes them); agents without
a display get matplotlib's Agg backend (through MPLBACKEND, so their children do too).
Nothing here imports matplotlib or PIL: they are recognised by their module names.
Session builds the parts itself: a Rich for the executor and display(), then
headless_matplotlib() and show_on_pyplot().
"""
import os
import sys

_TEXT_MIMES = ("text/markdown", "text/html")
_TEXT_METHODS = (("text/markdown", "_repr_markdown_"), ("text/html", "_repr_html_"))
_MAX_TEXT = 1 << 20  # a rich text part over 1 MiB is cut: it travels in the cell record


def _bundle(obj):
    """_repr_mimebundle_() as a dict (IPython allows (data, metadata)); {} if none."""
    fn = getattr(obj, "_repr_mimebundle_", None)
    if not callable(fn) or isinstance(obj, type):
        return {}
    data = fn()
    if isinstance(data, tuple) and data:
        data = data[0]
    return data if isinstance(data, dict) else {}


def _png_bytes(data):
    if isinstance(data, str):  # mimebundles carry binary data base64-encoded
        import base64

        return base64.b64decode(data)
    return bytes(data) if data else None


class Rich:
    def __init__(self, current_cell, directory):
        self.current_cell = current_cell  # () -> the running cell or None: what images belong to
        self.dir = directory
        self.count = 0

    def png_of(self, obj):
        cls = type(obj)
        mod = getattr(cls, "__module__", "") or ""
        try:
            if mod.startswith("matplotlib.") and hasattr(obj, "savefig"):
                import io

                buf = io.BytesIO()
                obj.savefig(buf, format="png")
                return buf.getvalue()
            if mod.startswith("PIL.") and hasattr(obj, "save") and hasattr(obj, "mode"):
                import io

                buf = io.BytesIO()
                obj.save(buf, format="PNG")
                return buf.getvalue()
            if mod.startswith("matplotlib.") and hasattr(obj, "get_figure"):  # an Axes
                return self.png_of(obj.get_figure())
            fn = getattr(obj, "_repr_png_", None)
            if callable(fn) and not isinstance(obj, type):
                return _png_bytes(fn())
            bundle = _bundle(obj)
            if "image/png" in bundle:
                return _png_bytes(bundle["image/png"])
        except Exception:
            return None
        return None

    def text_of(self, obj):
        """The first text part of obj (markdown before html), or None."""
        if isinstance(obj, type):
            return None
        try:
            bundle = _bundle(obj)
            for mime in _TEXT_MIMES:
                if isinstance(bundle.get(mime), str):
                    return {"mime": mime, "text": bundle[mime][:_MAX_TEXT]}
            for mime, name in _TEXT_METHODS:
                fn = getattr(obj, name, None)
                if callable(fn):
                    text = fn()
                    if isinstance(text, tuple) and text:
                        text = text[0]
                    if isinstance(text, str):
                        return {"mime": mime, "text": text[:_MAX_TEXT]}
        except Exception:
            return None
        return None

    def save(self, png):
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        self.count += 1
        cell = self.current_cell()
        tag = cell.id if cell is not None else "bg"
        path = os.path.join(self.dir, "%s-%d.png" % (tag, self.count))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(png)
        if cell is not None:
            cell.images.append(path)
        return path

    def shown(self, value):
        """The display hook of the executor: the text shown for an image value, or None (then
        the value shows as its repr). A text part is recorded on the cell either way."""
        png = self.png_of(value)
        if png is not None:
            return "[image: %s]" % self.save(png)
        part = self.text_of(value)
        cell = self.current_cell()
        if part is not None and cell is not None:
            cell.rich.append(part)
        return None

    def display(self, *objs):
        for obj in objs:
            text = self.shown(obj)
            if text is None:
                text = obj if isinstance(obj, str) else repr(obj)
            sys.stdout.write(text + "\n")


# -- matplotlib ------------------------------------------------------------------------
def _headless():
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and sys.platform != "darwin"


class PyplotHook:
    """A one-shot import hook: when matplotlib.pyplot is first imported, its show() is wrapped
    so that on a non-GUI backend it displays the open figures instead of warning."""

    def __init__(self, rich):
        self.rich = rich

    def find_spec(self, name, path=None, target=None):
        if name != "matplotlib.pyplot":
            return None
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass
        import importlib.util

        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run = spec.loader.exec_module
        rich = self.rich

        def exec_module(module):
            run(module)
            _wrap_show(module, rich)

        spec.loader.exec_module = exec_module
        return spec


def _wrap_show(plt, rich):
    original = plt.show

    def show(*args, **kwargs):
        import matplotlib

        non_gui = [b.lower() for b in getattr(matplotlib.rcsetup, "non_interactive_bk", ["agg"])]
        if plt.get_backend().lower() not in non_gui:
            return original(*args, **kwargs)
        for num in plt.get_fignums():
            rich.display(plt.figure(num))
        plt.close("all")

    show.__doc__ = original.__doc__
    show.__wrapped__ = original
    plt.show = show


def headless_matplotlib():
    """Without a display, matplotlib (in this agent and its children) draws with Agg."""
    if _headless() and not os.environ.get("MPLBACKEND"):
        os.environ["MPLBACKEND"] = "Agg"


def show_on_pyplot(rich):
    """plt.show() on a non-GUI backend displays the open figures through rich: now if pyplot
    is already imported, else when it is."""
    if "matplotlib.pyplot" in sys.modules:
        _wrap_show(sys.modules["matplotlib.pyplot"], rich)
    else:
        sys.meta_path.insert(0, PyplotHook(rich))
