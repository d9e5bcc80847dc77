"""Chat templates: every attribute a template names is judged, real templates stay clean.

Malicious templates carry harmless payloads (`os.getcwd`) and are only parsed, never rendered.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mlsbom.analyzers.chat_templates import template_facts
from mlsbom.facts import ParseError, TemplateConstruct
from mlsbom.models import ArtifactRef, Severity
from mlsbom.rules import load_rules

LISTS = load_rules().lists

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
REAL = sorted((FIXTURES / "chat_templates_real").glob("*.jinja"))

# name -> template; each must produce a finding that fails the default policy (high or above)
MALICIOUS = {
    "cycler_globals": "{{ cycler.__init__.__globals__.os.getcwd() }}",
    "attr_concat": "{{ ''|attr('__cla'~'ss__') }}",
    "attr_plus": "{{ ''|attr('__cla' + 'ss__') }}",
    "map_attribute": "{{ messages|map(attribute='__class__')|list }}",
    "map_attr_filter": "{{ messages|map('attr', '__class__')|list }}",
    "selectattr": "{{ (messages|selectattr('__globals__'))|list }}",
    "rejectattr_dotted": "{{ messages|rejectattr('content.__class__')|list }}",
    "groupby": "{{ messages|groupby('__class__') }}",
    "sort_multi": "{{ messages|sort(attribute='role,__class__') }}",
    "sum_positional": "{{ messages|sum('__len__') }}",
    "unique_positional": "{{ messages|unique(false, '__class__') }}",
    "min_attribute": "{{ messages|min(attribute='__class__') }}",
    "max_attribute": "{{ messages|max(attribute='__class__') }}",
    "set_concat_subscript": "{% set a = '_' ~ '_class__' %}{{ foo[a] }}",
    "set_const_subscript": "{% set a = '__class__' %}{{ foo[a] }}",
    "format_method_built": "{% set a = '{}{}'.format('__cla', 'ss__') %}{{ foo[a] }}",
    "format_filter_built": "{{ foo|attr('%sclass%s'|format('__', '__')) }}",
    "join_filter_built": "{% set a = ['__cla', 'ss__']|join %}{{ foo[a] }}",
    "join_method_built": "{% set a = ''.join(['__cla', 'ss__']) %}{{ foo|attr(a) }}",
    "self_context": "{{ self._TemplateReference__context }}",
    "lipsum_globals": "{{ lipsum.__globals__ }}",
    "namespace_init": "{{ namespace.__init__ }}",
    "joiner_init": "{{ joiner.__init__ }}",
    "subscript_const": "{{ joiner['__init__']['__globals__'] }}",
    "escaped_literal": "{{ joiner['\\x5f\\x5finit\\x5f\\x5f'] }}",
    "char_pick": "{% set u = 'tool_call'[4] %}{{ foo[u ~ u ~ 'class' ~ u ~ u] }}",
    "loop_over_list": "{% for n in ['__class__'] %}{{ foo[n] }}{% endfor %}",
    "loop_over_dict": "{% for k in {'__class__': 1} %}{{ foo[k] }}{% endfor %}",
    "loop_items": "{% for k, v in {'__class__': 1}.items() %}{{ foo[k] }}{% endfor %}",
    "loop_tuples": "{% for a, b in [('__class__', 1)] %}{{ foo[a] }}{% endfor %}",
    "namespace_kwarg": "{% set ns = namespace(k='__class__') %}{{ foo[ns.k] }}",
    "namespace_set": "{% set ns = namespace() %}{% set ns.k = '__cla' ~ 'ss__' %}"
    "{{ foo|attr(ns.k) }}",
    "macro_param": "{% macro g(o, n) %}{{ o[n] }}{% endmacro %}{{ g(foo, '__class__') }}",
    "macro_default": "{% macro g(o, n='__class__') %}{{ o[n] }}{% endmacro %}{{ g(foo) }}",
    "set_block": "{% set n %}__class__{% endset %}{{ foo[n] }}",
    "with_block": "{% with n = '__class__' %}{{ foo[n] }}{% endwith %}",
    "reverse_filter": "{{ foo|attr('__ssalc__'|reverse) }}",
    "lower_filter": "{{ foo|attr('__CLASS__'|lower) }}",
    "attr_from_data": "{{ foo|attr(messages[0].content) }}",
    "map_computed_filter": "{{ messages|map(messages[0].content)|list }}",
    "format_field_dunder": "{{ '{0.__class__}'.format(messages) }}",
    "format_field_plain": "{{ '{0.gi_frame}'.format(messages) }}",
    "format_on_data": "{{ messages[0].content.format(messages) }}",
    "mro": "{{ ''.__class__.mro() }}",
    "environment": "{{ self.environment }}",
    "generator_frame": "{{ foo.gi_frame.f_globals }}",
    "cycler_next_globals": "{{ cycler.next.__globals__ }}",
    "loop_class": "{% for m in messages %}{{ loop.__class__ }}{% endfor %}",
    "cond_expr": "{{ foo[('__class__' if true else 'x')] }}",
    "or_expr": "{{ foo[(none or '__class__')] }}",
    "default_filter": "{{ foo[(bar|default('__class__'))] }}",
    "string_repeat": "{{ foo[('_' * 2) ~ 'class' ~ ('_' * 2)] }}",
    "percent_format": "{{ foo[('%s' % '__class__')] }}",
    "gadget_attribute": "{{ cycler.items }}{{ lipsum.environment }}",
    "do_update_namespace": "{% set ns = namespace() %}{% do ns.update({'k': '__class__'}) %}"
    "{{ foo[ns.k] }}",
    "do_update_dict": "{% set d = {} %}{% do d.update({'k': '__class__'}) %}{{ foo[d.k] }}",
    "do_append": "{% set l = [] %}{% do l.append('__cla' ~ 'ss__') %}{{ foo[l[0]] }}",
    "namespace_subscript": "{% set ns = namespace(k='__class__') %}{{ foo[ns['k']] }}",
    "namespace_double_star": "{% set ns = namespace(**{'k': '__class__'}) %}{{ foo[ns.k] }}",
    "filter_block": "{% filter attr('__class__') %}x{% endfilter %}",
}

# ordinary constructs real templates use: nothing at medium or above
BENIGN = {
    "subscript_literal": "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}{% endfor %}",
    "subscript_loop_var": "{% for k, v in tool.parameters.properties|items %}"
    "{{ tool.parameters.properties[k].type }}{% endfor %}",
    "subscript_index": "{% for i in range(messages|length) %}{{ messages[i].content }}{% endfor %}",
    "subscript_const_var": "{% set key = 'content' %}{{ messages[0][key] }}",
    "subscript_const_list": "{% for f in ['maximum', 'minimum'] %}{{ p[f] }}{% endfor %}",
    "map_attribute": "{{ tools|map(attribute='function')|map(attribute='name')|join(', ') }}",
    "selectattr": "{{ messages|selectattr('role', 'equalto', 'user')|list|length }}",
    "namespace": "{% set ns = namespace(found=false, idx=0) %}{% set ns.idx = ns.idx + 1 %}"
    "{{ ns.found }}{{ messages[ns.idx] }}",
    "methods": "{{ m.content.strip().split('</think>')[-1].lstrip() }}{{ x.get('a', 'b') }}",
    "format": "{{ '<tool_call{}>'.format(i) }}{{ '%s'|format(x) }}",
    "loop": "{% for m in messages %}{{ loop.index0 }}{{ loop.last }}{{ loop.previtem }}"
    "{% endfor %}",
    "dict_literal_lookup": "{% set map = {'string': 'str'} %}{{ map[spec.type] }}",
    "do_append_data": "{% set l = [] %}{% do l.append(message.content) %}{{ foo[l[0]] }}",
    "name_field": "{{ tool.name }}{{ tool.function.arguments }}{{ message.content.blocks }}",
}


def _judge(source: str) -> list[str]:
    findings = load_rules().judge(template_facts(source, LISTS), ArtifactRef("t.jinja"))
    return [f.rule_id for f in findings if f.severity >= Severity.HIGH]


@pytest.mark.parametrize("name", sorted(MALICIOUS))
def test_malicious_templates_fail(name: str) -> None:
    assert _judge(MALICIOUS[name]), MALICIOUS[name]


@pytest.mark.parametrize("name", sorted(BENIGN))
def test_benign_constructs_stay_quiet(name: str) -> None:
    findings = load_rules().judge(template_facts(BENIGN[name], LISTS), ArtifactRef("t.jinja"))
    assert [f.rule_id for f in findings if f.severity >= Severity.MEDIUM] == []


def test_real_templates_are_present() -> None:
    assert len(REAL) >= 70


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.stem)
def test_real_templates_produce_no_facts(path: Path) -> None:
    assert template_facts(path.read_text(encoding="utf-8"), LISTS) == []


@pytest.mark.parametrize(
    "source",
    [
        "{% for m in messages %}{{ m.content }",
        "{{" + "(" * 3000 + "1" + ")" * 3000 + "}}",
        "{{ x" + "|attr('a')" * 20000 + " }}",
        "{% set a = " + " ~ ".join(["'_'"] * 5000) + " %}{{ x[a] }}",
        "\x00\xff{{ x[",
        "{% macro m(a) %}{{ m(a ~ '_') }}{{ x[a] }}{% endmacro %}{{ m('_') }}",
    ],
    ids=["unclosed", "deep", "long-chain", "long-concat", "binary", "recursive-macro"],
)
def test_malformed_templates_are_bounded(source: str) -> None:
    facts = template_facts(source, LISTS)
    assert all(isinstance(f, TemplateConstruct | ParseError) or f.kind for f in facts)
