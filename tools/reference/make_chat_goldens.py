#!/usr/bin/env python3
"""Golden outputs for the C++ Jinja engine and chat-template rendering, from Python jinja2.

Run from the repository root with a Python that has jinja2 3.1.x (the pyenv `python3` here):

    python3 tools/reference/make_chat_goldens.py

Writes
  tests/chat/chat_goldens.json   real chat templates (tests/chat/templates/) x conversations
  tests/chat/jinja_goldens.json  small templates exercising the engine: hand-written and random

Rendering matches transformers' apply_chat_template: the environment of
transformers/utils/chat_template_utils.py (_compile_jinja_template):
  ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                extensions=[AssistantTracker, jinja2.ext.loopcontrols])
  filters["tojson"] = json.dumps(x, ensure_ascii=False, indent, separators, sort_keys)
  globals["raise_exception"], globals["strftime_now"]
and its render call: messages, tools, documents=None, add_generation_prompt, **kwargs.
strftime_now uses the fixed time FIXED_NOW so goldens do not depend on the day; the C++ test
sets the same clock. Messages go through normalize_messages() first, the Python twin of
a3b::normalize_messages (src/chat/chat_template.h).
"""
import copy
import datetime
import json
import os
import random
import sys

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEMPLATES = os.path.join(ROOT, "tests", "chat", "templates")
FIXED_NOW = datetime.datetime(2026, 3, 14, 9, 26, 53)


class Raised(jinja2.exceptions.TemplateError):
    """raise_exception() from a template (told apart from other errors: its message is compared)."""


class Generation(jinja2.ext.Extension):
    """transformers' {% generation %} tag; renders its body."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_render"), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def make_env():
    def raise_exception(message):
        raise Raised(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return FIXED_NOW.strftime(format)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[Generation, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


ENV = make_env()


def normalize_part(part):
    if not isinstance(part, dict) or not isinstance(part.get("type"), str):
        return part
    t = part["type"]
    if t in ("text", "input_text") and "text" in part:
        return {"type": "text", "text": part["text"]}
    if t in ("image_url", "image", "input_image"):
        return {"type": "image"}
    if t in ("video_url", "video"):
        return {"type": "video"}
    return part


def normalize_messages(messages):
    out = []
    for i, m in enumerate(messages):
        m = copy.deepcopy(m)
        if not isinstance(m, dict):
            raise ValueError(f"messages[{i}] must be a JSON object")
        if m.get("role") == "developer":
            m["role"] = "system"
        if "reasoning" in m and "reasoning_content" not in m:
            m["reasoning_content"] = m.pop("reasoning")
        if isinstance(m.get("content"), list):
            m["content"] = [normalize_part(p) for p in m["content"]]
        calls = m.get("tool_calls") if isinstance(m.get("tool_calls"), list) else []
        for tool_call in calls:
            fn = tool_call.get("function") if isinstance(tool_call, dict) else None
            if not isinstance(fn, dict) or not isinstance(fn.get("arguments"), str):
                continue
            if not fn["arguments"].strip(" \t\r\n"):
                fn["arguments"] = {}
            else:
                fn["arguments"] = json.loads(fn["arguments"])  # invalid JSON raises, as in C++
        out.append(m)
    return out


def render_chat(source, messages, tools, add_generation_prompt, kwargs):
    variables = {"messages": normalize_messages(messages), "tools": tools, "documents": None,
                 "add_generation_prompt": add_generation_prompt}
    variables.update(kwargs)
    return ENV.from_string(source).render(**variables)


def outcome(fn):
    """{"expected": text} or {"error": {"raised": message-or-null, "python": description}}."""
    try:
        return {"expected": fn()}
    except Raised as e:
        return {"error": {"raised": str(e), "python": "raise_exception"}}
    except Exception as e:  # any other failure: the C++ side must fail too
        return {"error": {"raised": None, "python": f"{type(e).__name__}: {e}"}}


# ---------------------------------------------------------------- conversations

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Get the current weather in a city",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string", "description": "City name"},
        "days": {"type": "integer", "description": "Forecast days"},
        "units": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
        "required": ["city"]}}}
WRITE = {"type": "function", "function": {
    "name": "write_file", "description": "Write a file — UTF-8 «text»",
    "parameters": {"type": "object", "properties": {
        "path": {"type": "string"}, "content": {"type": "string"},
        "overwrite": {"type": "boolean"}, "mode": {"type": ["integer", "null"]},
        "meta": {"type": "object"}, "tags": {"type": "array", "items": {"type": "string"}},
        "ratio": {"type": "number"}},
        "required": ["path", "content"]}}}
TOOLS = [WEATHER, WRITE]


def call(name, arguments, cid="call_1", wrapped=True):
    fn = {"name": name, "arguments": arguments}
    return {"id": cid, "type": "function", "function": fn} if wrapped else fn


U = lambda text: {"role": "user", "content": text}
S = lambda text: {"role": "system", "content": text}
A = lambda text, **kw: dict({"role": "assistant", "content": text}, **kw)
T = lambda text, cid="call_1": {"role": "tool", "tool_call_id": cid, "content": text}

# (name, messages, tools, add_generation_prompt, kwargs)
QWEN_CONVERSATIONS = [
    ("user_only", [U("Hi")], None, True, {}),
    ("system_user", [S("You are helpful."), U("Hi")], None, True, {}),
    ("no_generation_prompt", [S("You are helpful."), U("Hi"), A("Hello!")], None, False, {}),
    ("multi_turn", [S("Be brief."), U("Q1"), A("A1"), U("Q2")], None, True, {}),
    ("history_reasoning", [U("Q1"), A("A1", reasoning_content="think 1"), U("Q2"),
                           A("A2", reasoning_content="  think 2\n"), U("Q3")], None, True, {}),
    ("reasoning_after_last_query", [U("Q1"), A("A1", reasoning_content="r1")], None, False, {}),
    ("inline_think_in_content", [U("Q1"), A("<think>\nhidden\n</think>\n\nvisible"), U("Q2")], None, True, {}),
    ("inline_think_after_query", [U("Q1"), A("<think>\nplan\n</think>\n\nanswer")], None, False, {}),
    ("reasoning_field_vllm", [U("Q"), A("A", reasoning="vllm reasoning")], None, False, {}),
    ("reasoning_null", [U("Q"), A("x</think>y", reasoning_content=None)], None, False, {}),
    ("tools_user", [U("Weather in Paris?")], TOOLS, True, {}),
    ("tools_system", [S("Use tools wisely."), U("Weather?")], TOOLS, True, {}),
    ("tools_empty_system", [S("   "), U("Weather?")], [WEATHER], True, {}),
    ("tools_empty_list", [U("Hi")], [], True, {}),
    ("tool_round_trip", [U("Weather in Paris?"),
                         A("", tool_calls=[call("get_weather", '{"city": "Paris", "days": 2}')]),
                         T('{"temp": 21}'), A("It is 21 C."), U("Thanks")], TOOLS, True, {}),
    ("tool_loop_open", [U("Weather in Paris and Lyon?"),
                        A("Let me check.", reasoning_content="Need two calls.",
                          tool_calls=[call("get_weather", {"city": "Paris"}, "c1"),
                                      call("get_weather", {"city": "Lyon", "days": 3}, "c2")]),
                        T("sunny", "c1"), T("rain", "c2")], TOOLS, True, {}),
    ("multi_step_agent", [S("agent"), U("Do it"),
                          A("", reasoning_content="step 1", tool_calls=[call("write_file", {"path": "a", "content": "x"})]),
                          T("ok"),
                          A("", reasoning_content="step 2", tool_calls=[call("get_weather", {"city": "Oslo"})]),
                          T("cold")], TOOLS, True, {}),
    ("argument_types", [U("write"), A("", tool_calls=[call("write_file", {
        "path": "/tmp/a.txt", "content": "line 1\nline \"2\"\n", "overwrite": True, "mode": None, "ratio": 0.5,
        "meta": {"k": [1, 2], "u": "ü"}, "tags": ["a", "b"], "count": 3, "empty": "", "off": False})]),
        T("done")], TOOLS, True, {}),
    ("flat_tool_call", [U("q"), A("", tool_calls=[{"name": "get_weather", "arguments": {"city": "Rome"}}])],
     TOOLS, False, {}),
    ("tool_call_no_arguments", [U("q"), A("", tool_calls=[{"type": "function", "function": {"name": "ping"}}])],
     None, False, {}),
    ("tool_call_empty_string_args", [U("q"), A(None, tool_calls=[call("ping", "")])], None, False, {}),
    ("tool_call_bad_json_args", [U("q"), A(None, tool_calls=[call("ping", "{not json")])], None, False, {}),
    ("tool_call_list_args", [U("q"), A(None, tool_calls=[call("ping", "[1, 2]")])], None, False, {}),
    ("tool_response_user_message", [U("start"), A("", tool_calls=[call("get_weather", {"city": "A"})]),
                                    U("<tool_response>\nmanual result\n</tool_response>")], TOOLS, True, {}),
    ("tool_first_message", [T("orphan result"), U("hello")], None, True, {}),
    ("tool_last_message", [U("q"), A("", tool_calls=[call("get_weather", {"city": "B"})]), T("r")], None, False, {}),
    ("images", [U([{"type": "text", "text": "Compare "}, {"type": "image_url", "image_url": {"url": "data:x"}},
                   {"type": "text", "text": " and "}, {"type": "image", "image": "file.png"}])], None, True, {}),
    ("images_vision_id", [U([{"type": "image_url", "image_url": {"url": "a"}}, {"type": "text", "text": "this"}]),
                          A("A cat."), U([{"type": "image_url", "image_url": {"url": "b"}},
                                          {"type": "video_url", "video_url": {"url": "v"}}, {"type": "text", "text": "and these?"}])],
     None, True, {"add_vision_id": True}),
    ("video", [U([{"type": "video", "video": "clip.mp4"}, {"type": "text", "text": "Describe."}])], None, True, {}),
    ("system_image_raises", [{"role": "system", "content": [{"type": "image_url", "image_url": {"url": "x"}}]},
                             U("hi")], None, True, {}),
    ("system_video_raises", [{"role": "system", "content": [{"type": "video_url", "video_url": {"url": "x"}}]},
                             U("hi")], TOOLS, True, {}),
    ("system_parts_text", [{"role": "system", "content": [{"type": "text", "text": "sys part"}]}, U("hi")],
     [WEATHER], True, {}),
    ("unexpected_part_raises", [U([{"type": "input_audio", "input_audio": {"data": "..."}}])], None, True, {}),
    ("content_null_user", [U(None), U("second")], None, True, {}),
    ("content_number_raises", [U(42)], None, True, {}),
    ("content_mapping_raises", [U({"text": "x"})], None, True, {}),
    ("no_messages_raises", [], None, True, {}),
    ("no_user_query_raises", [S("only system")], None, True, {}),
    ("only_tool_responses_raises", [U("<tool_response>\nx\n</tool_response>")], None, True, {}),
    ("system_not_first_raises", [U("hi"), S("late system")], None, True, {}),
    ("unknown_role_raises", [U("hi"), {"role": "function", "content": "x"}], None, True, {}),
    ("developer_role", [{"role": "developer", "content": "dev rules"}, U("hi")], None, True, {}),
    ("whitespace_trimmed", [S("\n  sys  \n"), U("  spaced  \n\n"), A("\n answer \n"), U("\tq\t")], None, True, {}),
    ("continue_final_assistant", [U("q"), A("partial", reasoning_content="r")], None, False, {}),
    ("assistant_parts_content", [U("q"), A([{"type": "text", "text": "part one "}, {"type": "text", "text": "two"}])],
     None, False, {}),
    ("tool_parts_content", [U("q"), A("", tool_calls=[call("get_weather", {"city": "C"})]),
                            {"role": "tool", "content": [{"type": "text", "text": "structured"}]}], None, True, {}),
    ("unicode", [S("Système: répondez en français 🇫🇷"), U("日本語で？ \u200b zero-width \x01 ctrl")],
     [WRITE], True, {}),
    ("nested_quotes_args", [U("q"), A("", tool_calls=[call("write_file", {"path": "a\"b", "content": "{\"x\": [1, \"y\"]}\n</parameter>"})])],
     None, False, {}),
]

QWEN_KWARG_VARIANTS = [("", {}), ("thinking_off", {"enable_thinking": False}),
                       ("preserve", {"preserve_thinking": True})]
# Variants run on these conversations only (the kwargs change nothing else).
QWEN_VARIANT_CASES = {"user_only", "history_reasoning", "tool_round_trip", "tool_loop_open", "multi_step_agent",
                      "multi_turn", "inline_think_in_content", "continue_final_assistant", "tool_call_empty_string_args"}

GENERIC_CONVERSATIONS = [
    ("simple", [S("You are helpful."), U("Hi"), A("Hello!"), U("How are you?")], None, True, {}),
    ("no_system", [U("Hi")], None, True, {}),
    ("tools", [U("Weather in Paris?")], TOOLS, True, {}),
    ("tool_round_trip", [S("sys"), U("Weather in Paris?"),
                         A("", tool_calls=[call("get_weather", '{"city": "Paris"}')]),
                         T('{"temp": 21}'), A("21 C")], TOOLS, True, {}),
    ("parallel_calls", [U("Two cities"), A("", tool_calls=[call("get_weather", {"city": "A"}, "c1"),
                                                            call("get_weather", {"city": "B"}, "c2")]),
                        T("x", "c1"), T("y", "c2")], TOOLS, True, {}),
]

QWEN3_CONVERSATIONS = GENERIC_CONVERSATIONS + [
    ("reasoning_history", [U("Q1"), A("A1", reasoning_content="r1"), U("Q2"), A("A2", reasoning_content="r2")],
     None, False, {}),
    ("think_in_content", [U("Q1"), A("<think>\nr\n</think>\n\nA"), U("Q2")], None, True, {}),
    ("thinking_off", [U("Q")], None, True, {"enable_thinking": False}),
    ("tool_loop_reasoning", [U("Q"), A("", reasoning_content="plan", tool_calls=[call("get_weather", {"city": "X"})]),
                             T("r"), A("done", reasoning_content="final")], TOOLS, False, {}),
    ("tool_response_user", [U("Q"), U("<tool_response>\nx\n</tool_response>")], None, True, {}),
    ("system_mid", [U("Q"), S("late system"), U("Q2")], None, True, {}),
]

LLAMA_CONVERSATIONS = [
    ("simple", [S("You are helpful."), U("Hi"), A("Hello!"), U("How are you?")], None, True, {}),
    ("no_system", [U("Hi")], None, True, {}),
    ("date_string", [U("Hi")], None, True, {"date_string": "01 Jan 2025"}),
    ("tools_in_user", [S("sys"), U("Weather in Paris?")], TOOLS, True, {}),
    ("tools_in_system", [S("sys"), U("Weather in Paris?")], TOOLS, True, {"tools_in_user_message": False}),
    ("custom_tools", [U("Weather?")], None, True, {"custom_tools": [WEATHER]}),
    ("tools_no_user_raises", [S("sys")], TOOLS, True, {}),
    ("tool_call", [U("Weather?"), A("", tool_calls=[call("get_weather", '{"city": "Paris"}')]),
                   T('{"temp": 21}')], TOOLS, True, {}),
    ("tool_response_mapping", [U("q"), A("", tool_calls=[call("get_weather", {"city": "P"})]),
                               {"role": "ipython", "content": {"temp": 21}}], None, True, {}),
    ("two_calls_raises", [U("q"), A("", tool_calls=[call("get_weather", {"city": "A"}), call("get_weather", {"city": "B"})])],
     None, True, {}),
    ("builtin_tools", [U("search it"), A("", tool_calls=[call("brave_search", {"query": "jinja"})]),
                       {"role": "ipython", "content": "results"}], None, True,
     {"builtin_tools": ["brave_search", "wolfram_alpha", "code_interpreter"]}),
    ("system_trim", [S("  padded system  \n"), U("  padded user ")], None, False, {}),
]

EXTRA_FAMILY_CONVERSATIONS = GENERIC_CONVERSATIONS + [
    ("reasoning", [U("Q"), A("answer", reasoning_content="thoughts"), U("Q2")], None, True, {}),
]

FAMILIES = [
    ("qwen3.6", QWEN_CONVERSATIONS),
    ("qwen3.5", QWEN_CONVERSATIONS),
    ("qwen3", QWEN3_CONVERSATIONS),
    ("llama-3.1", LLAMA_CONVERSATIONS),
    ("llama-3.2", LLAMA_CONVERSATIONS),
    ("qwen3-coder", EXTRA_FAMILY_CONVERSATIONS),
    ("gpt-oss", EXTRA_FAMILY_CONVERSATIONS),
    ("functionary-v3.1", EXTRA_FAMILY_CONVERSATIONS),
    ("mistral-nemo", EXTRA_FAMILY_CONVERSATIONS),
    ("hermes-3", EXTRA_FAMILY_CONVERSATIONS),
]
SPECIAL_TOKENS = {"llama-3.1": {"bos_token": "<|begin_of_text|>"}, "llama-3.2": {"bos_token": "<|begin_of_text|>"},
                  "mistral-nemo": {"bos_token": "<s>", "eos_token": "</s>"},
                  "functionary-v3.1": {"bos_token": "<|begin_of_text|>"}}


def chat_cases():
    cases = []
    for family, conversations in FAMILIES:
        with open(os.path.join(TEMPLATES, family + ".jinja"), encoding="utf-8") as f:
            source = f.read()
        for name, messages, tools, agp, kwargs in conversations:
            variants = QWEN_KWARG_VARIANTS if family.startswith("qwen3.") and name in QWEN_VARIANT_CASES else [("", {})]
            for suffix, extra in variants:
                kw = dict(SPECIAL_TOKENS.get(family, {}), **kwargs, **extra)
                case = {"name": f"{family}/{name}" + (f"/{suffix}" if suffix else ""), "template": family,
                        "messages": messages, "tools": tools, "add_generation_prompt": agp, "kwargs": kw}
                case.update(outcome(lambda: render_chat(source, messages, tools, agp, kw)))
                cases.append(case)
    return cases


# ---------------------------------------------------------------- engine cases

ENGINE_VARS = {
    "s": "héllo World", "n": 3, "f": 2.5, "neg": -7, "z": 0, "l": [1, 2, 3], "e": "", "t": True, "nn": None,
    "d": {"a": 1, "b": [1, 2], "c": {"x": "y"}, "items": "shadow"}, "words": ["b", "A", "c", "a"],
    "msgs": [{"role": "system", "content": "sys"}, {"role": "user", "content": " hi "},
             {"role": "assistant", "content": None, "tool_calls": [{"function": {"name": "f", "arguments": {"k": 1}}}]}],
    "ws": "  \t pad \n", "multi": "line1\nline2\r\nline3\n\nline5", "uni": "Ünïcødé ß 日本 😀 \u200b",
}

HANDWRITTEN = [
    # whitespace control and tag forms
    "a  {% if true %}\n  b\n{% endif %}\nc", "  {%- if true %} x {% endif -%}  \n y", "x\n    {% if true %}\n    y\n    {% endif %}\nz",
    "{%+ if true %}\n  k{% endif %}", "a\n  {%+ if true +%}\nb{% endif %}", "{# c #}\n  {#- c -#}  \nq", "  {# c #}\nr",
    "{% raw %}{{ not }} {% evaluated %}{% endraw %}", "a\n  {% raw %}\n  x\n  {% endraw %}\nb", "{%- raw -%}  x  {%- endraw -%}",
    "{{- ' a ' -}}  b  {{- 'c' }}", "x {{ 'y' }}\n z", "{{ s }}\n", "t\r\nu\rv\n", "  {{- s -}}  ",
    "{% for i in l %}\n  {{ i }}\n{% endfor %}", "{% for i in l -%}\n {{ i }}\n{%- endfor %}",
    # expressions and values
    "{{ 1 + 2 * 3 - 4 / 2 }}|{{ 7 // 2 }}|{{ -7 // 2 }}|{{ 7 % -3 }}|{{ 2 ** 10 }}|{{ 2 ** -1 }}|{{ 1e3 }}|{{ 1.5e-7 }}",
    "{{ 0.1 + 0.2 }}|{{ 1/3 }}|{{ 10 / 5 }}|{{ 1e16 }}|{{ 123456789.0 }}|{{ -0.0 }}|{{ 1_000 }}|{{ 0x1f }}|{{ 0b11 }}|{{ 0o17 }}",
    "{{ [1, 'a', none, true, 1.5, {'k': [1]}] }}|{{ (1,) }}|{{ (1, 2) }}|{{ () }}|{{ {} }}",
    "{{ \"it's\" }}{{ ['it\\'s', 'q\"', 'both\\'\"', '\\n\\t', '\\x01\\x7f', 'é', '\\u200b', '\\U0001F600'] }}",
    "{{ 'a' ~ 1 ~ none ~ true ~ [1] ~ x }}", "{{ 'ab' * 3 }}{{ [0] * 2 }}{{ 3 * 'x' }}{{ 'a' + 'b' }}{{ [1] + [2] }}",
    "{{ 1 == 1.0 }}{{ true == 1 }}{{ [1] == (1,) }}{{ 'a' < 'b' }}{{ [1, 2] < [1, 3] }}{{ 1 < 2 < 3 }}{{ 3 > 2 > 2 }}",
    "{{ 'a' in 'cat' }}{{ 2 in l }}{{ 'a' in d }}{{ 'x' not in d }}{{ 'q' in x }}", "{{ not none }}{{ 1 and 2 }}{{ 0 or 'x' }}{{ e or nn }}",
    "{{ 1 if t }}|{{ 1 if not t }}|{{ 'a' if n > 2 else 'b' }}|{{ (1 if false) is defined }}",
    "{{ -2 ** 2 }}|{{ 2 ** 3 ** 2 }}|{{ -l|length }}|{{ 'a' ~ 'b' is string }}",
    "{{ s[0] }}{{ s[-1] }}{{ s[1:4] }}{{ s[::-1] }}{{ s[::2] }}{{ l[5] }}|{{ l[-4] }}|{{ l[1:] }}{{ l[:-1] }}{{ l[::-1] }}{{ l[5:0:-2] }}",
    "{{ d.a }}{{ d['b'][1] }}{{ d.c.x }}{{ d.missing }}|{{ d['items'] }}|{{ d.items is callable }}", "{{ msgs[2].tool_calls[0].function.arguments.k }}",
    "{{ l.0 }}{{ msgs.1.role }}", "{{ d.get('a') }}{{ d.get('zz') }}{{ d.get('zz', 5) }}{{ d.keys()|list }}{{ d.values()|list|length }}",
    "{{ d|items|list }}", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", "{% for k in d %}{{ k }},{% endfor %}",
    "{{ nn }}|{{ t }}|{{ f }}|{{ n }}|{{ e }}|{{ x }}|", "{{ x.y }}", "{{ x + 1 }}", "{{ 'a' + 1 }}", "{{ 1 < 'a' }}", "{{ 1 / 0 }}",
    "{{ none.attr }}|{{ n.attr }}|{{ s.nope }}|", "{{ s.nope() }}", "{{ undefined_fn() }}", "{{ l.append(4) }}", "{{ d.update({}) }}",
    # filters
    "{{ ws|trim }}|{{ 'xxaxx'|trim('x') }}|{{ nn|trim }}|{{ x|trim }}|{{ 5|trim }}",
    "{{ s|upper }}{{ s|lower }}{{ 'hello wORLD-x'|title }}{{ 'hELLO'|capitalize }}{{ uni|upper }}{{ uni|title }}",
    "{{ l|length }}{{ s|length }}{{ d|length }}{{ x|length }}{{ uni|length }}", "{{ n|length }}",
    "{{ l|first }}{{ l|last }}{{ []|first }}|{{ s|first }}{{ d|first }}{{ d|last }}",
    "{{ l|join('-') }}|{{ words|join }}|{{ msgs|map(attribute='role')|join(', ') }}|{{ l|join(attribute='x') }}",
    "{{ words|sort }}{{ words|sort(reverse=true) }}{{ words|sort(case_sensitive=true) }}{{ msgs|sort(attribute='role')|map(attribute='role')|list }}",
    "{{ words|unique|list }}{{ [1, 1.0, 2]|unique|list }}{{ words|min }}{{ words|max }}{{ l|sum }}{{ l|sum(start=10) }}",
    "{{ d|dictsort }}{{ {'b': 1, 'A': 2, 'a': 0}|dictsort(true) }}{{ {'b': 1, 'a': 2}|dictsort(by='value', reverse=true) }}",
    "{{ l|reverse|list }}{{ s|reverse }}{{ d|reverse|list }}{{ l|list }}{{ s|list }}{{ d|list }}",
    "{{ msgs|selectattr('content')|list|length }}{{ msgs|rejectattr('content')|map(attribute='role')|list }}",
    "{{ msgs|selectattr('role', 'equalto', 'user')|first }}{{ l|select('odd')|list }}{{ l|reject('even')|list }}{{ l|select('>', 1)|list }}",
    "{{ l|map('string')|list }}{{ words|map('upper')|join }}{{ msgs|map(attribute='nope', default='-')|list }}",
    "{{ x|default('dv') }}{{ e|default('dv') }}{{ e|default('dv', true) }}{{ nn|default('dv') }}{{ nn|d('d2', boolean=true) }}",
    "{{ '3.7'|int }}{{ 'x'|int }}{{ 'x'|int(9) }}{{ 3.9|int }}{{ '0x1f'|int(0, 16) }}{{ ' 12 '|int }}{{ '1_0'|int }}{{ true|int }}",
    "{{ '3.5'|float }}{{ 'x'|float }}{{ 3|float }}{{ ' 1e2 '|float }}{{ 'inf'|float }}", "{{ 2.5|round }}{{ 3.5|round }}{{ 2.675|round(2) }}{{ 3|round }}{{ 1.234|round(1, 'ceil') }}{{ 1.26|round(1, 'floor') }}",
    "{{ -3|abs }}{{ -2.5|abs }}", "{{ 'a\\nb\\n\\nc'|indent }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb\\n'|indent('> ', blank=true) }}",
    "{{ s|replace('l', 'L') }}{{ s|replace('l', 'L', 1) }}{{ 'aaa'|replace('', '-') }}", "{{ '%s=%d (%.2f) %5s|%-4s|%x %%'|format('k', 42, 3.14159, 'ab', 'c', 255) }}",
    "{{ '%(a)s-%(b)r'|format(a=1, b='q') }}", "{{ s|center(15) }}|{{ s|wordcount }}|{{ 'a <b> & \"c\"'|e }}|{{ 'x'|escape|escape }}",
    "{{ l|string }}{{ nn|string }}{{ 1.0|string }}{{ d|string }}", "{{ s|attr('upper')() }}{{ d|attr('a') }}|",
    "{{ l|tojson }}{{ d|tojson }}{{ s|tojson }}{{ uni|tojson }}{{ uni|tojson(ensure_ascii=true) }}{{ (1, 'a')|tojson }}",
    "{{ d|tojson(indent=2) }}|{{ d|tojson(indent='\\t', sort_keys=true) }}|{{ l|tojson(separators=(',', ':')) }}|{{ {}|tojson(indent=2) }}|{{ []|tojson(indent=0) }}",
    "{{ {1: 'i', 1.5: 'f', true: 't', none: 'n'}|tojson }}", "{{ {'b': 1, 'a': {'d': 1, 'c': 2}}|tojson(sort_keys=true) }}",
    "{{ 1e100|tojson }}{{ 0.1|tojson }}{{ -1.5e-10|tojson }}{{ 2**62|tojson }}", "{{ x|tojson }}", "{{ l|map('string')|tojson }}",
    "{% for a, b in 1|items %}{% endfor %}", "{{ l|nosuchfilter }}", "{% if false %}{{ l|nosuchfilter }}{% endif %}ok",
    "{{ 'a' is nosuchtest }}", "{{ (x|nosuchfilter) if false else 'ok' }}", "{% for i in l %}{{ i|nosuchfilter }}{% endfor %}",
    "{{ ('a<'|safe) + '<b>' }}{{ '<a' + ('<b'|safe) }}{{ ['x'|safe] }}{{ ('<%s>'|safe) % '<i>' }}{{ ('a'|safe) ~ '<' }}",
    "{{ ('x'|safe)|trim + '<' }}{{ ('x'|safe)|replace('x', 'y') + '<' }}{{ (','|safe).join(['<', 'b'|safe]) }}{{ ('{}'|safe).format('<') }}{{ 1|safe + '<' }}",
    # tests
    "{{ x is defined }}{{ x is undefined }}{{ nn is none }}{{ s is string }}{{ d is mapping }}{{ l is sequence }}{{ s is sequence }}{{ x is sequence }}{{ d is sequence }}",
    "{{ l is iterable }}{{ n is iterable }}{{ x is iterable }}{{ (l|map('string')) is iterable }}{{ (l|map('string')) is sequence }}",
    "{{ n is number }}{{ t is number }}{{ t is integer }}{{ f is float }}{{ n is integer }}{{ t is boolean }}{{ t is true }}{{ 1 is true }}{{ false is false }}",
    "{{ 4 is even }}{{ 3 is odd }}{{ 9 is divisibleby 3 }}{{ 9 is divisibleby(4) }}{{ 'abc' is lower }}{{ 'ABC' is upper }}{{ s is lower }}",
    "{{ 1 is eq 1 }}{{ 1 is ne 2 }}{{ 1 is lt 2 }}{{ 2 is le 2 }}{{ 3 is gt 2 }}{{ 2 is ge 3 }}{{ 1 is equalto 1 }}{{ 2 is greaterthan 1 }}",
    "{{ nn is sameas none }}{{ t is sameas true }}{{ 1 is sameas 1 }}{{ 2 is in l }}{{ 'a' is in 'cat' }}",
    "{{ 'trim' is filter }}{{ 'odd' is test }}{{ 'nope' is filter }}{{ d.get is callable }}{{ s is callable }}{{ x is callable }}",
    "{{ s is not string }}{{ x is not defined and true }}{{ not x is defined }}", "{{ x is lt 1 }}",
    # statements
    "{% if n > 5 %}a{% elif n > 2 %}b{% else %}c{% endif %}", "{% if x %}a{% elif nn %}b{% endif %}|",
    "{% for i in l if i != 2 %}{{ loop.index }}/{{ loop.length }}:{{ i }}{{ ',' if not loop.last }}{% else %}E{% endfor %}",
    "{% for i in [] %}x{% else %}empty{% endfor %}", "{% for i in l %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% endfor %}",
    "{% for i in l %}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.previtem }}{{ loop.nextitem }}{{ loop.cycle('a', 'b') }}{{ loop.depth }};{% endfor %}",
    "{% for i in l %}{% for j in l %}{{ loop.index }}{% endfor %}{{ loop.index }}|{% endfor %}", "{% for i in l %}{{ loop }}{% endfor %}",
    "{% for a, b in [[1, 2], (3, 4), 'xy'] %}{{ a }}{{ b }}{% endfor %}", "{% for a, b in [[1, 2, 3]] %}{% endfor %}", "{% for i in 5 %}{% endfor %}",
    "{% for c in uni %}{{ c }}|{% endfor %}", "{% for i in none %}{% endfor %}", "{% for i in x %}{% endfor %}done",
    "{% set a = 1 %}{% set b, c = 2, 3 %}{% set tpl = 4, 5 %}{{ a }}{{ b }}{{ c }}{{ tpl }}",
    "{% set a = 1 %}{% for i in l %}{% set a = i %}{{ a }}{% endfor %}{{ a }}", "{% set a = 1 %}{% if true %}{% set a = 2 %}{% endif %}{{ a }}",
    "{% for i in [1, 2] %}{% if i == 2 %}[{{ v }}]{% endif %}{% set v = i %}{% endfor %}", "{% set ns = namespace(c=0, items=[]) %}{% for i in l %}{% set ns.c = ns.c + i %}{% endfor %}{{ ns.c }}{{ ns }}",
    "{% set ns = namespace(d) %}{{ ns.a }}{{ ns.missing }}|", "{% set q = 1 %}{% set q.attr = 2 %}", "{% set ns = namespace() %}{% set ns.self = ns %}{{ ns }}",
    "{% set blk %}inside {{ n }}{% endset %}[{{ blk }}]{% set up | upper | trim %}  abc  {% endset %}[{{ up }}]",
    "{% macro m(a, b=2, c=b + 1) %}{{ a }}-{{ b }}-{{ c }}{% endmacro %}{{ m(1) }}|{{ m(1, 5) }}|{{ m(b=7, a=0) }}|{{ m() }}|{{ m }}",
    "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, 2) }}", "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(z=1) }}",
    "{% macro rec(k) %}{% if k > 0 %}{{ k }}{{ rec(k - 1) }}{% endif %}{% endmacro %}{{ rec(5) }}",
    "{% set v = 1 %}{% macro m() %}{{ v }}{% endmacro %}{% set v = 2 %}{{ m() }}", "{% macro m() %}{{ lv }}{% endmacro %}{% for lv in l %}{{ m() }}{% endfor %}|",
    "{% filter upper %}abc {{ s }}{% endfilter %}", "{% with a = 5, b = 6 %}{{ a + b }}{% endwith %}{{ a }}|",
    "{{ range(4)|list }}{{ range(1, 10, 3)|list }}{{ range(5, 0, -2)|list }}", "{{ range(200000)|length }}", "{{ dict(a=1, b=2) }}{{ dict(d, z=0)|length }}",
    "{{ raise_exception('custom failure') }}", "{% if n == 3 %}{{ raise_exception('n is ' ~ n) }}{% endif %}",
    "{{ strftime_now('%Y-%m-%d %H:%M:%S %a %b %d') }}",
    # string methods
    "{{ ws.strip() }}|{{ ws.lstrip() }}|{{ ws.rstrip() }}|{{ 'xxhixx'.strip('x') }}|{{ 'a\\n\\n'.rstrip('\\n') }}",
    "{{ 'a,b,,c'.split(',') }}{{ ' a  b '.split() }}{{ ' a  b c '.split(None, 1) }}{{ 'a-b-c'.rsplit('-', 1) }}{{ multi.splitlines() }}",
    "{{ s.startswith('hé') }}{{ s.endswith(('x', 'ld')) }}{{ s.find('W') }}{{ s.rfind('l') }}{{ s.count('l') }}{{ s.replace('l', '_', 2) }}",
    "{{ '-'.join(words) }}{{ s.title() }}{{ s.upper() }}{{ s.lower() }}{{ 'x'.center(5, '*') }}{{ 'x'.ljust(3, '.') }}{{ 'x'.rjust(3) }}",
    "{{ '{} and {}'.format('a', 1) }}{{ '{0}{0}{1!r}'.format('x', 'y') }}{{ '{n}'.format(n=2) }}{{ '{{}}'.format() }}",
    "{{ 'abc'.isdigit() }}{{ '123'.isdigit() }}{{ ' '.isspace() }}{{ 'ab'.isalpha() }}{{ 'Ab'.islower() }}{{ 'a'.islower() }}",
    "{{ 'prefix_x'.removeprefix('prefix_') }}{{ 'a=b=c'.partition('=') }}{{ 'a=b=c'.rpartition('=') }}", "{{ s.split('') }}",
    "{{ uni.split() }}{{ uni.strip() }}{{ uni[3:9] }}{{ uni.find('日') }}",
    # syntax errors
    "{% if %}", "{% if true %}", "{% endif %}", "{% for x in %}{% endfor %}", "{{ }}", "{{ 1 + }}", "{{ (1, 2 }}", "{{ [1, 2) }}",
    "{% set %}", "{% macro m(a=1, b) %}{% endmacro %}", "{% unknown %}", "{% extends 'x' %}", "{% include 'x' %}", "{% call m() %}{% endcall %}",
    "{{ 'unterminated }}", "{# no end", "{% raw %}no end", "{{ a | }}", "{{ 1 is }}", "{% break %}", "{% for i in l %}{% macro m() %}{% break %}{% endmacro %}{% endfor %}",
    "{{ x is defined is defined }}", "{{ @ }}", "{% set a.b.c = 1 %}", "{{ 1 }} {% if true %} {% else %} {% else %} {% endif %}",
]


def engine_case(source, variables=ENGINE_VARS):
    case = {"template": source, "variables": variables}
    case.update(outcome(lambda: ENV.from_string(source).render(**variables)))
    return case


class RandomTemplates:
    """Random templates mixing text, whitespace control and control structures: they pin down the
    lexer's whitespace rules (trim_blocks / lstrip_blocks / -, + modifiers) and scoping."""

    TEXT = ["", " ", "  ", "\n", " \n ", "\t", "x", "ab\n", "\n\n", "  \n  ", "y ", " z\n  "]
    SIMPLE_EXPR = ["n", "s", "l|length", "i", "ns.c", "'q'", "n + 1", "s ~ n", "e or 'v'", "x|default(1)",
                   "l[0]", "d.a", "[n, s]", "k", "v"]
    LOOP_EXPR = ["loop.index", "loop.revindex0", "loop.previtem", "loop.length"]
    CONDITIONS = ["true", "false", "n > 2", "x is defined", "e", "i == 2", "k == 'a'", "ns.c > 2"]
    LOOP_CONDITIONS = ["loop.first", "not loop.last", "loop.index is even"]

    def __init__(self, seed):
        self.r = random.Random(seed)

    def text(self):
        return "".join(self.r.choice(self.TEXT) for _ in range(self.r.randint(0, 2)))

    def tag(self, body, kind="%"):
        if kind == "{":
            return self.r.choice(["{{", "{{-", "{{+"]) + " " + body + " " + self.r.choice(["}}", "-}}"])
        return self.r.choice(["{%", "{%-", "{%+"]) + " " + body + " " + self.r.choice(["%}", "-%}", "+%}"])

    def block(self, depth, in_loop=False):
        parts = []
        exprs = self.SIMPLE_EXPR + (self.LOOP_EXPR if in_loop else [])
        conditions = self.CONDITIONS + (self.LOOP_CONDITIONS if in_loop else [])
        for _ in range(self.r.randint(1, 4)):
            parts.append(self.text())
            choice = self.r.random()
            if depth <= 0 or choice < 0.35:
                parts.append(self.tag(self.r.choice(exprs), "{"))
            elif choice < 0.5:
                parts.append(self.r.choice(["{#", "{#-"]) + " note " + self.r.choice(["#}", "-#}"]))
            elif choice < 0.68:
                parts.append(self.tag("if " + self.r.choice(conditions)) + self.block(depth - 1, in_loop))
                if self.r.random() < 0.4:
                    parts.append(self.tag("elif " + self.r.choice(conditions)) + self.block(depth - 1, in_loop))
                if self.r.random() < 0.5:
                    parts.append(self.tag("else") + self.block(depth - 1, in_loop))
                parts.append(self.tag("endif"))
            elif choice < 0.82:
                loop = self.r.choice(["i in l", "i in l if i > 1", "k, v in d|items", "i in []", "c in s[:3]"])
                parts.append(self.tag("for " + loop) + self.block(depth - 1, True))
                if self.r.random() < 0.3:
                    parts.append(self.tag("else") + self.block(depth - 1, in_loop))
                parts.append(self.tag("endfor"))
            elif choice < 0.9:
                parts.append(self.tag(self.r.choice(["set n = n + 1", "set ns.c = ns.c + 1", "set s = s ~ '!'", "set e = 'E'"])))
            elif choice < 0.95:
                # {% raw +%} is not a raw tag in jinja2 (an error); keep it rare
                raw_open = self.tag("raw") if self.r.random() < 0.2 else self.r.choice(["{% raw %}", "{%- raw %}", "{%+ raw -%}"])
                parts.append(raw_open + self.text() + "{{ raw }}" + self.text() + self.tag("endraw"))
            else:
                parts.append(self.tag("macro mm(a=1)") + self.block(depth - 1) + self.tag("endmacro") +
                             self.tag("mm(" + self.r.choice(["", "2", "a=n"]) + ")", "{"))
        parts.append(self.text())
        return "".join(parts)

    def template(self):
        return self.tag("set ns = namespace(c=0)") + self.text() + self.block(3)


def jinja_cases():
    cases = [engine_case(t) for t in HANDWRITTEN]
    gen = RandomTemplates(seed=20260314)
    variables = {"n": 3, "s": "ab", "l": [1, 2, 3], "d": {"a": 1, "b": 2}, "e": ""}
    for _ in range(400):
        cases.append(engine_case(gen.template(), variables))
    return cases


def main():
    out_dir = os.path.join(ROOT, "tests", "chat")
    chat = chat_cases()
    jinja_ = jinja_cases()
    meta = {"generated_by": "tools/reference/make_chat_goldens.py", "jinja2": jinja2.__version__,
            "fixed_now": FIXED_NOW.isoformat()}
    with open(os.path.join(out_dir, "chat_goldens.json"), "w", encoding="utf-8") as f:
        json.dump(dict(meta, cases=chat), f, ensure_ascii=False, indent=1)
        f.write("\n")
    with open(os.path.join(out_dir, "jinja_goldens.json"), "w", encoding="utf-8") as f:
        json.dump(dict(meta, cases=jinja_), f, ensure_ascii=False, indent=1)
        f.write("\n")
    raised = sum("error" in c for c in chat)
    print(f"chat: {len(chat)} cases ({raised} raise); jinja: {len(jinja_)} cases "
          f"({sum('error' in c for c in jinja_)} raise)", file=sys.stderr)


if __name__ == "__main__":
    main()
