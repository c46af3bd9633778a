"""Report freshly compiled agent bytecode to the controller (see boot.py, BundleImporter)."""
import sys


def report(link, config):
    """If the controller asked for it, send {"k": "code"} with the marshalled modules."""
    if not config.get("report_code"):
        return
    for finder in sys.meta_path:
        report_code = getattr(finder, "pythond_report_code", None)
        if report_code is not None:
            report_code(lambda blob: link.send({"k": "code"}, [blob]))
            return
