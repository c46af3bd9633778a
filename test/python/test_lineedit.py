"""The human REPL's line editor (agent/pythond_agent/lineedit.py), fed keystrokes as a terminal
sends them: editing keys, multi-line statements, history, Tab, Ctrl-C and Ctrl-D, and input
split anywhere (inside an escape sequence or a UTF-8 character)."""
import agent_path  # noqa: F401  (first: puts agent/ on sys.path)

import os
import shutil
import tempfile
import unittest

from pythond_agent.lineedit import LineEditor


class Harness:
    """A LineEditor with recording callbacks; submit() returns "busy" until resume()."""

    def __init__(self, hist_file, words=(), ran=True):
        self.screen = []
        self.submitted = []
        self.words = list(words)
        self.interrupts = 0
        self.ran = ran
        self.ed = LineEditor(self.screen.append, self._submit, self._complete, self._interrupt, hist_file)

    def _submit(self, source):
        self.submitted.append(source)
        return "busy"

    def _complete(self, word):
        return [w for w in self.words if w.startswith(word)]

    def _interrupt(self):
        self.interrupts += 1
        return self.ran

    def keys(self, data):
        return self.ed.feed(data)

    def run(self, data):
        """Type data, then let any statement it submitted finish."""
        detach = self.keys(data)
        if self.ed.busy is not None:
            self.ed.resume(b"")
        return detach

    def line(self):
        return "".join(self.ed.buf)


class LineEditing(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pyd-lineedit-")
        self.hist = os.path.join(self.dir, "sub", "history")
        self.t = Harness(self.hist, words=["alpha", "alphabet", "beta"])

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_enter_submits_a_complete_statement(self):
        self.t.run(b"x = 1\r")
        self.assertEqual(self.t.submitted, ["x = 1"])

    def test_a_compound_statement_waits_for_its_blank_line(self):
        self.t.run(b"for i in range(3):\r")
        self.assertEqual(self.t.submitted, [])
        self.assertEqual(self.t.ed.block, ["for i in range(3):"])
        self.t.run(b"    print(i)\r\r")
        self.assertEqual(self.t.submitted, ["for i in range(3):\n    print(i)\n"])

    def test_crlf_and_lf_are_one_enter_each(self):
        self.t.run(b"a\r\nb\n")
        self.assertEqual(self.t.submitted, ["a", "b"])

    def test_a_syntax_error_is_submitted_so_python_reports_it(self):
        self.t.run(b"1 +* 2\r")
        self.assertEqual(self.t.submitted, ["1 +* 2"])

    def test_cursor_keys_and_deletion(self):
        t = self.t
        t.keys(b"helo")
        t.keys(b"\x1b[D")  # Left
        t.keys(b"l")
        self.assertEqual((t.line(), t.ed.pos), ("hello", 4))
        t.keys(b"\x01")  # Ctrl-A: home
        t.keys(b"\x1b[3~")  # Delete
        self.assertEqual((t.line(), t.ed.pos), ("ello", 0))
        t.keys(b"\x05\x7f")  # Ctrl-E, Backspace
        self.assertEqual(t.line(), "ell")
        t.keys(b"\x1bOH\x0b")  # Home (SS3), Ctrl-K: kill to the end
        self.assertEqual(t.line(), "")

    def test_ctrl_u_and_ctrl_w(self):
        t = self.t
        t.keys(b"foo bar  baz")
        t.keys(b"\x17")
        self.assertEqual(t.line(), "foo bar  ")
        t.keys(b"\x17")
        self.assertEqual(t.line(), "foo ")
        t.keys(b"x\x1b[Dy\x15")  # Ctrl-U kills what is before the cursor
        self.assertEqual((t.line(), t.ed.pos), ("x", 0))

    def test_an_escape_sequence_or_a_character_split_across_reads(self):
        t = self.t
        t.keys(b"ab\x1b")
        t.keys(b"[")
        t.keys(b"D")  # Left, in three reads
        t.keys("\u00e9".encode()[:1])
        t.keys("\u00e9".encode()[1:])
        self.assertEqual((t.line(), t.ed.pos), ("a\u00e9b", 2))

    def test_a_control_key_inside_a_broken_sequence_is_kept(self):
        self.t.keys(b"abc\x1b[1\x03")
        self.assertEqual(self.t.line(), "", "Ctrl-C cleared the line")
        self.assertIn("^C\r\nKeyboardInterrupt\r\n", "".join(self.t.screen))

    def test_history_up_down_keeps_the_draft_and_persists(self):
        t = self.t
        t.run(b"one\r")
        t.run(b"two\r")
        t.run(b"two\r")  # a repeat is remembered once
        t.keys(b"dra")
        t.keys(b"\x1b[A")
        self.assertEqual(t.line(), "two")
        t.keys(b"\x1b[A\x1b[A")
        self.assertEqual(t.line(), "one", "the oldest entry stops the walk")
        t.keys(b"\x0e\x0e")  # Ctrl-N twice: back to the draft
        self.assertEqual(t.line(), "dra")
        with open(self.hist, encoding="utf-8") as f:
            self.assertEqual(f.read(), "one\ntwo\n")
        self.assertEqual(os.stat(self.hist).st_mode & 0o777, 0o600)
        again = Harness(self.hist)
        again.keys(b"\x10")  # Ctrl-P in a new editor: history was loaded
        self.assertEqual(again.line(), "two")

    def test_a_multi_line_entry_round_trips_through_the_history_file(self):
        self.t.run(b"if 1:\r  pass\r\r")
        again = Harness(self.hist)
        again.keys(b"\x1b[A\x1b[A")
        self.assertEqual(again.ed.history, ["if 1:", "  pass"])

    def test_tab_completes_a_unique_match_a_common_prefix_or_lists_on_a_second_tab(self):
        t = self.t
        t.keys(b"be\t")
        self.assertEqual(t.line(), "beta")
        t.keys(b"\x15al\t")
        self.assertEqual(t.line(), "alpha", "the common prefix of alpha and alphabet")
        t.keys(b"\x15alpha\t")
        self.assertEqual(t.screen[-1], "\x07", "ambiguous, nothing to add: a bell")
        t.keys(b"\t")
        self.assertTrue(any("alpha  alphabet" in s for s in t.screen), "a second Tab lists")
        t.keys(b"\x15zz\t")
        self.assertEqual((t.line(), t.screen[-1]), ("zz", "\x07"))
        t.keys(b"\x15\t")
        self.assertEqual(t.line(), "    ", "Tab on blank indents")

    def test_ctrl_c_on_an_empty_line_interrupts(self):
        t = self.t
        t.keys(b"\x03")
        self.assertEqual(t.interrupts, 1)
        nothing = Harness(self.hist, ran=False)
        nothing.keys(b"\x03")
        self.assertIn("\r\nKeyboardInterrupt\r\n", nothing.screen)

    def test_ctrl_d_on_an_empty_line_detaches_otherwise_deletes(self):
        t = self.t
        t.keys(b"ab\x01")
        self.assertFalse(t.keys(b"\x04"))
        self.assertEqual(t.line(), "b")
        t.keys(b"\x0b")
        self.assertTrue(t.keys(b"\x04"))

    def test_keys_typed_while_a_statement_runs_wait_for_the_prompt(self):
        t = self.t
        t.keys(b"a = 1\rb = 2\rc")
        self.assertEqual(t.submitted, ["a = 1"], "busy: the rest is typeahead")
        t.ed.resume(b"")
        self.assertEqual(t.submitted, ["a = 1", "b = 2"])
        t.ed.resume(b"3\r")
        self.assertEqual(t.submitted, ["a = 1", "b = 2", "c3"])


if __name__ == "__main__":
    unittest.main()
