"""The command-language lexer: which token class each part of a line gets."""

from __future__ import annotations

import io

from pygments.token import Comment, Keyword, Name, Number, Operator, String, Whitespace

from armdbg.app import App
from armdbg.ui.lexer import ArmdbgLexer, lexer_class, prefixes_of

PREFIXES = {"info": ["registers", "mem", "r"], "set": ["var", "variable"]}


def tokens(line: str, **options: object) -> list[tuple[object, str]]:
    lexer = ArmdbgLexer(prefixes=PREFIXES, **options)
    return [(token, text) for token, text in lexer.get_tokens(line)
            if text.strip() and token is not Whitespace]


def test_command_registers_operators_numbers() -> None:
    assert tokens("break do_something if $r0 == 0x3") == [
        (Keyword, "break"), (Name, "do_something"), (Keyword, "if"),
        (Name.Variable, "$r0"), (Operator, "=="), (Number.Hex, "0x3")]


def test_subcommand_words_of_prefix_commands_and_abbreviations() -> None:
    assert tokens("info registers pc") == [
        (Keyword, "info"), (Keyword, "registers"), (Name, "pc")]
    assert tokens("i r") == [(Keyword, "i"), (Keyword, "r")]
    assert tokens("info nosuch") == [(Keyword, "info"), (Name, "nosuch")]


def test_format_after_the_command_word() -> None:
    assert tokens("x/4xw $sp") == [
        (Keyword, "x"), (Keyword.Type, "/4xw"), (Name.Variable, "$sp")]


def test_options_strings_and_chars() -> None:
    assert tokens("kprobe do_something --stop --log \"%r0\" 'c'") == [
        (Keyword, "kprobe"), (Name, "do_something"), (Name.Attribute, "--stop"),
        (Name.Attribute, "--log"), (String.Double, '"%r0"'), (String.Char, "'c'")]


def test_minus_number_is_not_an_option() -> None:
    assert tokens("print 5 -1") == [
        (Keyword, "print"), (Number.Integer, "5"), (Operator, "-"), (Number.Integer, "1")]


def test_comment_lines_and_function_calls() -> None:
    assert tokens("  # a comment") == [(Comment.Single, "  # a comment")]
    assert tokens("print f(2)")[:2] == [(Keyword, "print"), (Name, "f")]


def test_unterminated_string_while_typing() -> None:
    assert tokens('echo "abc') == [(Keyword, "echo"), (String.Double, '"abc')]


def test_several_lines_each_start_with_a_command() -> None:
    assert [t for t in tokens("echo a\ninfo mem\n") if t[0] is Keyword] == [
        (Keyword, "echo"), (Keyword, "info"), (Keyword, "mem")]


def test_lexer_text_round_trips() -> None:
    line = 'set var $x = calls[1] + 0x10 * 2.5  "s" \'c\' @ ~!'
    text = "".join(t for _, t in ArmdbgLexer(prefixes=PREFIXES).get_tokens(line))
    assert text == line + "\n"


def test_prefixes_come_from_the_registry() -> None:
    app = App(stdout=io.StringIO())
    prefixes = prefixes_of(app.registry)
    assert "mem" in prefixes["info"]
    lexer = lexer_class(app.registry)()
    found = [(t, v) for t, v in lexer.get_tokens("info mem") if v.strip()]
    assert found == [(Keyword, "info"), (Keyword, "mem")]
