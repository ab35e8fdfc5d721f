"""GGUF chat templates judged on jinja2's syntax tree, in real GGUF files written by `gguf`.

Hostile templates are server-side template injection payloads from public advisories and write-ups:
llama-cpp-python CVE-2024-34359 (GHSA-56xg-wfcc-g829, the "retr0reg" payload), Jinja sandbox
escapes through `str.format` (CVE-2016-10745, CVE-2024-56326), and the classic Flask/Jinja SSTI
gadgets (`cycler`, `joiner`, `lipsum`, `self`, `request`, `config`; PayloadsAllTheThings,
"Server Side Template Injection/Python.md", Jinja2 section), with the filter-bypass spellings of
the same payloads (concatenation, hex escapes, `|attr`, `|format`, slicing, `{% set %}` parts).

Benign templates are the `chat_template` of each model's public `tokenizer_config.json` on the
Hugging Face Hub: meta-llama/Meta-Llama-3-8B-Instruct, mistralai/Mistral-7B-Instruct-v0.2,
Qwen/Qwen2-7B-Instruct (ChatML), Qwen/Qwen2.5-7B-Instruct (tools), Qwen/Qwen3-8B (namespace and
reversed-message parts), google/gemma-7b-it, and HuggingFaceTB/SmolLM3-3B's `{% generation %}`
blocks (the tag transformers' renderer adds).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import gguf
import jinja2
import numpy as np
import pytest

from unified_supply_chain import limits
from unified_supply_chain.formats.gguf import read_gguf
from unified_supply_chain.records import Severity
from unified_supply_chain.safety.gguf import CHAT_TEMPLATE_RULE, chat_template_findings
from unified_supply_chain.safety.scan import scan_file

LLAMA3 = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
    "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim"
    " + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}"
    "{{ content }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)
MISTRAL = (
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != "
    "(loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate "
    "user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}"
    "{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
    "{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant "
    "roles are supported!') }}{% endif %}{% endfor %}"
)
CHATML_QWEN2 = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
QWEN25_TOOLS = """{%- if tools %}
    {{- '<|im_start|>system\\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query." }}
    {%- for tool in tools %}
        {{- "\\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\\n</tools>\\n\\nFor each function call, return a json object<|im_end|>\\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) %}
        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\\n<tool_call>\\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\\n<tool_response>\\n' }}
        {{- message.content }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
{%- endif %}
"""
QWEN3 = """{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}
{%- for message in messages[::-1] %}
    {%- set index = (messages|length - 1) - loop.index0 %}
    {%- if ns.multi_step_tool and message.role == "user" and message.content is string and
        not(message.content.startswith('<tool_response>')
        and message.content.endswith('</tool_response>')) %}
        {%- set ns.multi_step_tool = false %}
        {%- set ns.last_query_index = index %}
    {%- endif %}
{%- endfor %}
{%- for message in messages %}
    {%- set content = message.content if message.content is string else '' %}
    {%- if message.role == "assistant" %}
        {%- set reasoning_content = '' %}
        {%- if '</think>' in content %}
            {%- set reasoning_content = content.split('</think>')[0].rstrip('\\n')
                .split('<think>')[-1].lstrip('\\n') %}
            {%- set content = content.split('</think>')[-1].lstrip('\\n') %}
        {%- endif %}
        {%- if loop.index0 > ns.last_query_index %}
            {{- '<|im_start|>' + message.role + '\\n<think>\\n' + reasoning_content.strip('\\n')
                + '\\n</think>\\n\\n' + content.lstrip('\\n') }}
        {%- else %}
            {{- '<|im_start|>' + message.role + '\\n' + content }}
        {%- endif %}
        {{- '<|im_end|>\\n' }}
    {%- else %}
        {{- '<|im_start|>' + message.role + '\\n' + content + '<|im_end|>' + '\\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}
"""
GEMMA = (
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not "
    "supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != "
    "(loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate "
    "user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}"
    "{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}"
    "{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}"
)
GENERATION_BLOCKS = (
    "{%- for message in messages %}{%- if message.role == 'assistant' %}"
    "{{ '<|im_start|>assistant\n' }}{% generation %}{{ message.content }}{% endgeneration %}"
    "{{ '<|im_end|>\n' }}{%- else %}{{ '<|im_start|>' + message.role + '\n' + message.content "
    "+ '<|im_end|>\n' }}{%- endif %}{%- endfor %}"
)
BENIGN = {
    "llama3": LLAMA3,
    "mistral": MISTRAL,
    "chatml-qwen2": CHATML_QWEN2,
    "qwen2.5-tools": QWEN25_TOOLS,
    "qwen3": QWEN3,
    "gemma": GEMMA,
    "generation-blocks": GENERATION_BLOCKS,
}

HOSTILE = {
    # CVE-2024-34359, GHSA-56xg-wfcc-g829 (llama-cpp-python): the published proof of concept.
    "cve-2024-34359": '{% for x in ().__class__.__base__.__subclasses__() %}{% if "warning" in '
    "x.__name__ %}{{x()._module.__builtins__['__import__']('os').popen(\"touch /tmp/retr0reg\")}}"
    "{%endif%}{% endfor %}",
    "cycler-globals": "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "joiner-globals": "{{ joiner.__init__.__globals__ }}",
    "lipsum-os": "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "self-context": "{{ self._TemplateReference__context.cycler.__init__.__globals__.os }}",
    "request-app": "{{ request.application.__globals__.__builtins__.__import__('os') }}",
    "config-items": "{{ config.items() }}",
    "namespace-init": "{{ namespace.__init__.__globals__ }}",
    "concat-item": "{{ messages['__cla' ~ 'ss__'] }}",
    "plus-item": "{{ messages['__cla' + 'ss__'] }}",
    "hex-escape-attr": "{{ ''|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
    "unicode-escape-item": "{{ ''['\\u005f\\u005fclass\\u005f\\u005f'] }}",
    "set-parts": "{% set a = '__glo' %}{% set b = 'bals__' %}{{ messages|attr(a ~ b) }}",
    "set-block": "{% set a %}__class__{% endset %}{{ messages|attr(a) }}",
    "namespace-parts": "{% set ns = namespace() %}{% set ns.a = '__cla' %}"
    "{{ messages[ns.a ~ 'ss__'] }}",
    "format-filter": "{{ messages|attr('%c%cclass%c%c'|format(95, 95, 95, 95)) }}",
    "percent-format": "{{ messages|attr('%sclass%s' % ('__', '__')) }}",
    "str-format-method": "{{ messages|attr('{0}class{0}'.format('__')) }}",
    "repeat": "{{ messages['_' * 2 ~ 'class' ~ '_' * 2] }}",
    "reversed": "{{ messages['__ssalc__'[::-1]] }}",
    "join-list": "{{ messages|attr(['_', '_', 'class', '_', '_']|join) }}",
    "replace": "{{ messages|attr('xxclassxx'|replace('x', '_')) }}",
    "underscore-from-repr": "{% set u = (()|select|string|list).pop(24) %}"
    "{{ messages|attr(u ~ u ~ 'class' ~ u ~ u) }}",
    "map-attribute": "{{ messages|map(attribute='__class__')|list }}",
    "str-format-escape": "{{ '{0.__class__.__init__.__globals__}'.format(messages) }}",
    "mro-method": "{{ messages.mro() }}",
    "builtins-name": "{{ __builtins__ }}",
    "dunder-keyword": "{{ dict(__class__=1) }}",
    "include": "{% include 'other.j2' %}",
    "import": "{% import 'macros.j2' as m %}{{ m.x() }}",
}


def _gguf(
    path: Path, template: str | list[dict[str, str]], extra: dict[str, str] | None = None
) -> Path:
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name("m")
    writer.add_chat_template(template)
    for key, value in (extra or {}).items():
        writer.add_string(key, value)
    writer.add_tensor("w", np.zeros((4,), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@pytest.mark.parametrize("name", sorted(BENIGN))
def test_real_chat_templates_have_no_finding(tmp_path: Path, name: str) -> None:
    path = _gguf(tmp_path / "m.gguf", BENIGN[name])
    assert scan_file(path, "m.gguf", "gguf") == []


def test_real_chat_templates_render() -> None:
    # The benign set is live Jinja: each renders a conversation (so the parser accepts them).
    env = jinja2.Environment(extensions=["jinja2.ext.loopcontrols"])
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    for name, template in BENIGN.items():
        if "generation" in template:
            continue
        text = env.from_string(template).render(
            messages=messages,
            bos_token="<s>",
            eos_token="</s>",
            add_generation_prompt=True,
            raise_exception=lambda m: pytest.fail(m),
        )
        assert "hello" in text, name


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_chat_templates_are_high(tmp_path: Path, name: str) -> None:
    path = _gguf(tmp_path / "m.gguf", HOSTILE[name])
    findings = scan_file(path, "m.gguf", "gguf")
    assert [(f.rule, f.severity) for f in findings] == [(CHAT_TEMPLATE_RULE, Severity.HIGH)]
    assert findings[0].details and all(d.startswith("pattern: ") for d in findings[0].details)


def test_cve_payload_is_live_unsandboxed(tmp_path: Path) -> None:
    # The probe works: an unsandboxed Environment (what llama-cpp-python used) runs a command.
    canary = tmp_path / "canary"
    template = HOSTILE["cycler-globals"].replace("'id'", f"'touch {canary}'")
    jinja2.Environment().from_string(template).render()
    assert canary.exists()
    assert chat_template_findings(template, "t")


def test_unparseable_template_could_not_be_verified(tmp_path: Path) -> None:
    path = _gguf(tmp_path / "m.gguf", "{{ messages.__class__ ")
    findings = scan_file(path, "m.gguf", "gguf")
    assert [(f.severity, f.rule) for f in findings] == [(Severity.HIGH, CHAT_TEMPLATE_RULE)]
    assert "could not be verified safe" in findings[0].message
    deep = "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}"
    assert [f.severity for f in chat_template_findings(deep, "t")] == [Severity.HIGH]


def test_template_too_long_to_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _gguf(tmp_path / "m.gguf", LLAMA3)
    monkeypatch.setattr(limits, "MAX_GGUF_STRING", 64)
    findings = scan_file(path, "m.gguf", "gguf")
    assert [f.severity for f in findings] == [Severity.HIGH]
    assert "too long to read" in findings[0].message


def test_named_template_cannot_be_shadowed(tmp_path: Path) -> None:
    # A named template whose key ends like a bookkeeping property is still scanned.
    extra = {
        "tokenizer.chat_template.x.sha256": HOSTILE["cycler-globals"],
        "tokenizer.chat_template.x": LLAMA3,
    }
    findings = scan_file(_gguf(tmp_path / "m.gguf", LLAMA3, extra), "m.gguf", "gguf")
    assert [f.path for f in findings] == ["m.gguf!tokenizer.chat_template.x.sha256"]


def test_template_sha256_is_recorded(tmp_path: Path) -> None:
    path = _gguf(
        tmp_path / "m.gguf",
        [{"name": "default", "template": LLAMA3}, {"name": "tool_use", "template": QWEN25_TOOLS}],
    )
    props = read_gguf(path).properties
    assert props["tokenizer.chat_template.sha256"] == hashlib.sha256(LLAMA3.encode()).hexdigest()
    assert (
        props["tokenizer.chat_template.tool_use.sha256"]
        == hashlib.sha256(QWEN25_TOOLS.encode()).hexdigest()
    )


def test_template_over_the_analysis_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _gguf(tmp_path / "m.gguf", QWEN25_TOOLS)
    assert scan_file(path, "m.gguf", "gguf") == []
    monkeypatch.setattr(limits, "MAX_GGUF_CHAT_TEMPLATE", len(QWEN25_TOOLS) - 1)
    findings = scan_file(path, "m.gguf", "gguf")
    assert [f.severity for f in findings] == [Severity.HIGH]
    assert "to analyse" in findings[0].message


def test_long_string_chains_fold_once() -> None:
    # 3000 chained '+' terms: folded once per node (a name this long is not folded: computed).
    chain = "{{ messages[" + " + ".join(["'a'"] * 3000) + "] }}"
    assert [f.details for f in chat_template_findings(chain, "t")] == [
        ("pattern: item with a computed name",)
    ]
    short = "{{ messages[" + " + ".join(["'_'"] * 2) + " ~ 'class' ~ '__'] }}"
    assert chat_template_findings(short, "t")[0].details[0] == "pattern: item __class__"
