#!/usr/bin/env python3
"""Deterministic synthetic chat data for the tiny default model (pure Python + jinja2).

Every conversation is a dict {"messages", "tools", "enable_thinking"} in the OpenAI shape the
server receives, rendered to text through the real Qwen3.6 chat template exactly as transformers'
apply_chat_template does. Tool results are computed here, so the final answers are right given
the tool response.

    python3 tools/train_tiny/make_data.py --show 8            # print 8 rendered samples
    python3 tools/train_tiny/make_data.py --heldout OUT.txt   # write the held-out text file
    python3 tools/train_tiny/make_data.py --stats 20000       # kind / length statistics

train.py imports generate() and render(); the same seed gives the same texts on any machine.
"""
import argparse
import json
import os
import random
import sys

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
# The real Qwen3.6 template: next to this script on the GPU machine (carried copy), else the copy
# committed with the model, else the shared data folder.
TEMPLATE_CANDIDATES = [os.path.join(HERE, "chat_template.jinja"),
                       os.path.join(HERE, "..", "..", "models", "default", "chat_template.jinja"),
                       "/work/shared/data/qwen36_chat_template.jinja"]

# ------------------------------------------------------------------------------------------------
# Rendering: the same Jinja settings transformers uses for chat templates.

_template = None


def _tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def _raise(message):
    raise jinja2.exceptions.TemplateError(message)


def load_template(path=None):
    global _template
    if path is None:
        path = next(p for p in TEMPLATE_CANDIDATES if os.path.exists(p))
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise
    _template = env.from_string(open(path, encoding="utf-8").read())
    return _template


def render(conv, add_generation_prompt=False):
    """conv: {"messages", "tools" (list or None), "enable_thinking" (bool)} -> prompt text."""
    if _template is None:
        load_template()
    kw = {}
    if conv.get("enable_thinking") is not None:
        kw["enable_thinking"] = conv["enable_thinking"]
    return _template.render(messages=conv["messages"], tools=conv.get("tools"),
                            add_generation_prompt=add_generation_prompt, **kw)


# ------------------------------------------------------------------------------------------------
# Tools (OpenAI function schemas). models/default/tools.json holds these same objects.

def _fn(name, description, props, required):
    return {"type": "function", "function": {"name": name, "description": description, "parameters": {
        "type": "object", "properties": props, "required": required}}}


CALCULATOR = _fn("calculator", "Evaluate an arithmetic expression and return the numeric result.",
                 {"expression": {"type": "string",
                                 "description": "Arithmetic expression with numbers, + - * / and parentheses, e.g. 12 * (3 + 4)"}},
                 ["expression"])
CONVERT = _fn("convert_units", "Convert a value from one unit to another.",
              {"value": {"type": "number", "description": "The value to convert"},
               "from_unit": {"type": "string", "description": "Unit of the value, e.g. miles"},
               "to_unit": {"type": "string", "description": "Target unit, e.g. kilometers"}},
              ["value", "from_unit", "to_unit"])
READ_FILE = _fn("read_file", "Read a text file from the user's workspace and return its content.",
                {"path": {"type": "string", "description": "Path of the file, relative to the workspace"}},
                ["path"])
WEATHER = _fn("get_weather", "Get the current weather for a city.",
              {"city": {"type": "string", "description": "City name, e.g. Paris"},
               "unit": {"type": "string", "enum": ["celsius", "fahrenheit"],
                        "description": "Temperature unit (default celsius)"}},
              ["city"])
TIME = _fn("get_time", "Get the current local time in a city.",
           {"city": {"type": "string", "description": "City name, e.g. Tokyo"}}, ["city"])
ALL_TOOLS = [CALCULATOR, CONVERT, READ_FILE, WEATHER, TIME]

# ------------------------------------------------------------------------------------------------
# Small knowledge tables.

CAPITALS = [("France", "Paris"), ("Germany", "Berlin"), ("Italy", "Rome"), ("Spain", "Madrid"),
            ("Japan", "Tokyo"), ("China", "Beijing"), ("India", "New Delhi"), ("Brazil", "Brasilia"),
            ("Canada", "Ottawa"), ("Australia", "Canberra"), ("Egypt", "Cairo"), ("Kenya", "Nairobi"),
            ("Mexico", "Mexico City"), ("Russia", "Moscow"), ("Norway", "Oslo"), ("Sweden", "Stockholm"),
            ("Finland", "Helsinki"), ("Poland", "Warsaw"), ("Greece", "Athens"), ("Portugal", "Lisbon"),
            ("Ireland", "Dublin"), ("Austria", "Vienna"), ("Peru", "Lima"), ("Chile", "Santiago"),
            ("Argentina", "Buenos Aires"), ("Turkey", "Ankara"), ("Thailand", "Bangkok"),
            ("Vietnam", "Hanoi"), ("South Korea", "Seoul"), ("Indonesia", "Jakarta"),
            ("the United Kingdom", "London"), ("the United States", "Washington, D.C."),
            ("Switzerland", "Bern"), ("Belgium", "Brussels"), ("the Netherlands", "Amsterdam"),
            ("Denmark", "Copenhagen"), ("Hungary", "Budapest"), ("Cuba", "Havana"),
            ("Morocco", "Rabat"), ("Nigeria", "Abuja")]
CITIES = ["Paris", "Berlin", "Rome", "Madrid", "Tokyo", "Beijing", "London", "New York", "Sydney",
          "Toronto", "Cairo", "Nairobi", "Lima", "Oslo", "Stockholm", "Vienna", "Seoul", "Bangkok",
          "Lisbon", "Dublin", "Chicago", "Mumbai", "Moscow", "Athens", "Zurich", "Amsterdam",
          "Helsinki", "Warsaw", "Prague", "Budapest", "Istanbul", "Singapore", "Hanoi", "Jakarta",
          "Santiago", "Boston", "Denver", "Montreal", "Osaka", "Munich"]
TIMEZONES = {"Paris": "Europe/Paris", "Berlin": "Europe/Berlin", "Rome": "Europe/Rome",
             "Madrid": "Europe/Madrid", "Tokyo": "Asia/Tokyo", "Beijing": "Asia/Shanghai",
             "London": "Europe/London", "New York": "America/New_York", "Sydney": "Australia/Sydney",
             "Toronto": "America/Toronto", "Cairo": "Africa/Cairo", "Nairobi": "Africa/Nairobi"}
CONDITIONS = ["sunny", "cloudy", "partly cloudy", "light rain", "heavy rain", "snow", "fog",
              "clear", "windy", "thunderstorms", "overcast", "drizzle"]
FACTS = [
    (["How many days are in a week?", "How many days does a week have?"],
     "A week has 7 days.", "A week has seven days: Monday to Sunday."),
    (["How many months are in a year?", "How many months does a year have?"],
     "A year has 12 months.", "There are twelve months in a year."),
    (["What color is the sky?", "What colour is the sky on a clear day?"],
     "On a clear day the sky is blue.", "The sky looks blue because air scatters blue light the most."),
    (["What color is grass?", "What colour is grass?"], "Grass is green.", "Grass is green because of chlorophyll."),
    (["How many legs does a spider have?"], "A spider has 8 legs.", "Spiders have eight legs."),
    (["How many legs does an insect have?"], "An insect has 6 legs.", "Insects have six legs."),
    (["At what temperature does water boil?", "What is the boiling point of water?"],
     "Water boils at 100 degrees Celsius at sea level.", "At sea level water boils at 100 °C (212 °F)."),
    (["At what temperature does water freeze?", "What is the freezing point of water?"],
     "Water freezes at 0 degrees Celsius.", "Water freezes at 0 °C (32 °F)."),
    (["How many planets are in the solar system?", "How many planets orbit the Sun?"],
     "There are 8 planets in the solar system.", "The solar system has eight planets."),
    (["What is the largest planet?", "Which planet is the biggest?"],
     "Jupiter is the largest planet in the solar system.", "The biggest planet is Jupiter."),
    (["What is the closest planet to the Sun?"], "Mercury is the closest planet to the Sun.",
     "Mercury orbits closest to the Sun."),
    (["Tell me a fact about the Moon.", "Tell me something about the Moon."],
     "The Moon is about 384,000 km from Earth and always shows the same face to us.",
     "The Moon takes about 27 days to orbit Earth."),
    (["Tell me a fact about the Sun.", "Tell me something about the Sun."],
     "The Sun is a star, and its light takes about 8 minutes to reach Earth.",
     "The Sun contains more than 99% of the mass of the solar system."),
    (["How many hours are in a day?"], "A day has 24 hours.", "There are 24 hours in a day."),
    (["How many minutes are in an hour?"], "An hour has 60 minutes.", "There are 60 minutes in an hour."),
    (["What is the largest ocean?", "Which ocean is the biggest?"],
     "The Pacific Ocean is the largest ocean.", "The biggest ocean on Earth is the Pacific."),
    (["What gas do plants absorb?", "What do plants take in from the air?"],
     "Plants absorb carbon dioxide and release oxygen.", "Plants take in carbon dioxide for photosynthesis."),
    (["What is H2O?"], "H2O is water: two hydrogen atoms and one oxygen atom.", "H2O is the chemical formula of water."),
    (["How many continents are there?"], "There are 7 continents.", "Earth has seven continents."),
    (["What is the tallest mountain?", "Which mountain is the highest?"],
     "Mount Everest is the tallest mountain, at about 8,849 meters.", "The highest mountain is Mount Everest."),
]
CONCEPTS = [
    ("a list in Python", "A list is an ordered, mutable collection of items, written with square brackets, for example [1, 2, 3]."),
    ("a tuple in Python", "A tuple is an ordered, immutable collection of items, written with parentheses, for example (1, 2)."),
    ("a dictionary in Python", "A dictionary maps keys to values, for example {\"name\": \"Ada\", \"age\": 36}."),
    ("a set in Python", "A set is an unordered collection of unique items, for example {1, 2, 3}."),
    ("a function", "A function is a named block of code that takes arguments, does some work and can return a value."),
    ("a loop", "A loop repeats a block of code, for example once for every item in a list."),
    ("a variable", "A variable is a name that refers to a value, for example x = 5."),
    ("recursion", "Recursion is when a function calls itself on a smaller version of the same problem."),
    ("a string", "A string is a sequence of characters, for example \"hello\"."),
    ("an integer", "An integer is a whole number without a fractional part, such as -3, 0 or 42."),
    ("a class", "A class is a blueprint for objects: it bundles data (attributes) and behaviour (methods)."),
    ("an exception", "An exception is an error raised while a program runs; it can be handled with try and except."),
    ("a module", "A module is a file of Python code that other code can import."),
    ("JSON", "JSON is a text format for data made of objects, arrays, strings, numbers, true, false and null."),
    ("an API", "An API is a set of functions or endpoints that one program offers so that other programs can use it."),
]
CODE_TASKS = [
    ("adds two numbers", "add", "def add(a, b):\n    return a + b"),
    ("returns the square of a number", "square", "def square(x):\n    return x * x"),
    ("checks if a number is even", "is_even", "def is_even(n):\n    return n % 2 == 0"),
    ("reverses a string", "reverse", "def reverse(s):\n    return s[::-1]"),
    ("returns the largest item of a list", "largest", "def largest(items):\n    best = items[0]\n    for x in items[1:]:\n        if x > best:\n            best = x\n    return best"),
    ("counts the vowels in a string", "count_vowels", "def count_vowels(s):\n    return sum(1 for c in s.lower() if c in \"aeiou\")"),
    ("computes the factorial of n", "factorial", "def factorial(n):\n    result = 1\n    for i in range(2, n + 1):\n        result *= i\n    return result"),
    ("returns the n-th Fibonacci number", "fibonacci", "def fibonacci(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a"),
    ("sums a list of numbers", "total", "def total(numbers):\n    s = 0\n    for x in numbers:\n        s += x\n    return s"),
    ("checks if a word is a palindrome", "is_palindrome", "def is_palindrome(word):\n    w = word.lower()\n    return w == w[::-1]"),
    ("converts Celsius to Fahrenheit", "c_to_f", "def c_to_f(celsius):\n    return celsius * 9 / 5 + 32"),
    ("returns the average of a list", "average", "def average(numbers):\n    return sum(numbers) / len(numbers)"),
]
WORDS = ["apple", "banana", "cherry", "orange", "planet", "rocket", "garden", "python", "window",
         "silver", "yellow", "castle", "dragon", "forest", "guitar", "island", "jungle", "kitten",
         "lemon", "mirror", "pencil", "river", "summer", "tiger", "violet", "winter", "zebra",
         "cloud", "stone", "bread", "music", "light", "ocean", "paper", "table", "house", "model"]
COLORS = ["red", "blue", "green", "yellow", "orange", "purple", "black", "white", "pink", "brown"]
ANIMALS = ["cat", "dog", "horse", "cow", "lion", "tiger", "rabbit", "bear", "fox", "owl", "duck", "sheep"]
NAMES = ["Alice", "Bob", "Carol", "Dave", "Eve", "Frank", "Grace", "Heidi", "Ivan", "Judy"]
SYSTEMS = ["You are a helpful assistant.", "You are a helpful assistant. Answer briefly.",
           "You are a3b, a small and friendly assistant.", "Be concise.",
           "You are a careful assistant. Use tools when they help.",
           "You are a helpful assistant that answers in plain English."]
IDENTITY = ("I am the tiny demo model of a3b: a small Qwen3.6-style assistant. I can chat, think step "
            "by step and call tools such as a calculator.")

# ------------------------------------------------------------------------------------------------
# Helpers.


def fmt_num(x):
    """Integers without a decimal point; other numbers rounded to 6 places, no trailing zeros."""
    if isinstance(x, int):
        return str(x)
    if abs(x - round(x)) < 1e-9 and abs(x) < 1e15:
        return str(int(round(x)))
    s = f"{x:.6f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def json_num(x):
    """The value as it appears in a JSON tool response."""
    return int(x) if isinstance(x, int) or (abs(x - round(x)) < 1e-9 and abs(x) < 1e15) else float(fmt_num(x))


def call(name, **args):
    return {"type": "function", "function": {"name": name, "arguments": args}}


def pick_tools(rng, needed):
    """The needed tools plus some others, in random order; sometimes only the needed ones."""
    others = [t for t in ALL_TOOLS if t not in needed]
    extra = [] if rng.random() < 0.35 else rng.sample(others, rng.randint(1, len(others)))
    tools = list(needed) + extra
    rng.shuffle(tools)
    return tools


def rand_number(rng):
    r = rng.random()
    if r < 0.30:
        return rng.randint(2, 99)
    if r < 0.60:
        return rng.randint(100, 9999)
    if r < 0.85:
        return rng.randint(10000, 999999)
    return round(rng.uniform(0.5, 999), rng.choice([1, 2]))


class Turn:
    """One user request with what the assistant does: optional tool calls + results, then an answer."""

    def __init__(self, user, reasoning, answer, calls=None, results=None, final_reasoning=None):
        self.user, self.reasoning, self.answer = user, reasoning, answer
        self.calls, self.results, self.final_reasoning = calls or [], results or [], final_reasoning

    def messages(self):
        msgs = [{"role": "user", "content": self.user}]
        if self.calls:
            msgs.append({"role": "assistant", "content": "", "reasoning_content": self.reasoning,
                         "tool_calls": self.calls})
            for r in self.results:
                msgs.append({"role": "tool", "content": r})
            msgs.append({"role": "assistant", "content": self.answer, "reasoning_content": self.final_reasoning})
        else:
            msgs.append({"role": "assistant", "content": self.answer, "reasoning_content": self.reasoning})
        return msgs


# ------------------------------------------------------------------------------------------------
# Tool turns.

OPS = [("+", "plus", "Add {a} and {b}.", "the sum of {a} and {b}"),
       ("-", "minus", "Subtract {b} from {a}.", "the difference between {a} and {b}"),
       ("*", "times", "Multiply {a} by {b}.", "the product of {a} and {b}"),
       ("/", "divided by", "Divide {a} by {b}.", "the quotient of {a} and {b}")]


def make_expression(rng):
    """An arithmetic expression (canonical spacing), the words for a plain two-operand one."""
    kind = rng.random()
    if kind < 0.72:
        a, b = rand_number(rng), rand_number(rng)
        op = rng.choices(OPS, weights=[3, 2, 4, 2])[0]
        return f"{fmt_num(a)} {op[0]} {fmt_num(b)}", (a, b, op)
    if kind < 0.88:
        xs = [rng.randint(2, 999) for _ in range(3)]
        o1, o2 = rng.choice("+-*"), rng.choice("+-*")
        return f"{xs[0]} {o1} {xs[1]} {o2} {xs[2]}", None
    xs = [rng.randint(2, 999) for _ in range(3)]
    o1, o2 = rng.choice("+-"), rng.choice("*/")
    return f"({xs[0]} {o1} {xs[1]}) {o2} {xs[2]}", None


def evaluate(expr):
    # Only digits, spaces, . + - * / ( ) reach here (built above).
    assert all(c in "0123456789 .+-*/()" for c in expr), expr
    return eval(expr, {"__builtins__": {}})  # noqa: S307 - generated expression, checked above


def calc_question(rng, expr, words):
    forms = ["What is {e}? Use the calculator.", "What is {e}?", "Calculate {e}.", "Compute {e} for me.",
             "Can you work out {e}?", "Use the calculator to find {e}.", "How much is {e}?",
             "Please calculate {e} using the calculator tool.", "What's {e}?", "{e} = ?",
             "I need the result of {e}.", "What is {e}? Use the calculator.",
             "Quick question: what is {e}?", "Evaluate {e}, please."]
    if words and rng.random() < 0.35:
        a, b, op = words
        wform = rng.choice(["What is {a} {w} {b}?", op[2], "What is " + op[3] + "?",
                            "What is {a} {w} {b}? Use the calculator."])
        return wform.format(a=fmt_num(a), b=fmt_num(b), w=op[1])
    q = rng.choice(forms).format(e=expr)
    if rng.random() < 0.1:
        q = q.replace(" * ", "*").replace(" + ", "+") if rng.random() < 0.5 else q.lower()
    return q


def turn_calculator(rng):
    if rng.random() < 0.12:  # two independent calculations in one request: two calls
        e1, _ = make_expression(rng)
        e2, _ = make_expression(rng)
        if e1 == e2:
            e2 = e2 + " + 1"
        v1, v2 = evaluate(e1), evaluate(e2)
        user = rng.choice(["What are {a} and {b}?", "Calculate {a} and {b}.", "Compute {a} and also {b}."]).format(a=e1, b=e2)
        reasoning = f"The user wants two results: {e1} and {e2}. I will call the calculator once for each."
        res = [_calc_result(rng, v1), _calc_result(rng, v2)]
        answer = f"{e1} = {fmt_num(v1)}\n{e2} = {fmt_num(v2)}"
        final_r = f"The calculator returned {fmt_num(v1)} for {e1} and {fmt_num(v2)} for {e2}."
        return Turn(user, reasoning, answer, [call("calculator", expression=e1), call("calculator", expression=e2)],
                    res, final_r), [CALCULATOR]
    expr, words = make_expression(rng)
    try:
        value = evaluate(expr)
    except ZeroDivisionError:
        expr, words, value = "1 + 1", None, 2
    user = calc_question(rng, expr, words)
    reasoning = rng.choice([
        "The user wants to compute {e}. I should use the calculator tool.",
        "The user asks for {e}. I will use the calculator to get the exact result.",
        "I need to evaluate {e}. The calculator tool can do this exactly.",
        "This is arithmetic: {e}. Let me call the calculator.",
        "The user wants the value of {e}. I'll call the calculator with that expression.",
    ]).format(e=expr)
    result = _calc_result(rng, value)
    v = fmt_num(value)
    answer = rng.choice(["{e} = {v}.", "The result of {e} is {v}.", "{e} is {v}.", "The answer is {v}.",
                         "{e} = {v}"]).format(e=expr, v=v)
    final_r = rng.choice(["The calculator returned {v}. So {e} = {v}.", "The tool says the result is {v}.",
                          "The calculator gave {v} for {e}."]).format(e=expr, v=v)
    return Turn(user, reasoning, answer, [call("calculator", expression=expr)], [result], final_r), [CALCULATOR]


def _calc_result(rng, value):
    return fmt_num(value) if rng.random() < 0.5 else json.dumps({"result": json_num(value)})


UNITS = [("miles", "kilometers", 1.609344), ("kilometers", "miles", 1 / 1.609344),
         ("pounds", "kilograms", 0.45359237), ("kilograms", "pounds", 1 / 0.45359237),
         ("feet", "meters", 0.3048), ("meters", "feet", 1 / 0.3048), ("inches", "centimeters", 2.54),
         ("centimeters", "inches", 1 / 2.54), ("liters", "gallons", 0.264172052),
         ("gallons", "liters", 3.785411784), ("hours", "minutes", 60), ("minutes", "seconds", 60),
         ("days", "hours", 24), ("celsius", "fahrenheit", None), ("fahrenheit", "celsius", None),
         ("ounces", "grams", 28.349523125), ("grams", "ounces", 1 / 28.349523125)]


def turn_convert(rng):
    src, dst, factor = rng.choice(UNITS)
    value = rng.randint(1, 500) if rng.random() < 0.8 else round(rng.uniform(0.5, 100), 1)
    if factor is None:
        out = value * 9 / 5 + 32 if src == "celsius" else (value - 32) * 5 / 9
    else:
        out = value * factor
    out = round(out, 3)
    vs, os_ = fmt_num(value), fmt_num(out)
    user = rng.choice(["Convert {v} {s} to {d}.", "How many {d} is {v} {s}?", "What is {v} {s} in {d}?",
                       "Please convert {v} {s} into {d}.", "{v} {s} to {d}?"]).format(v=vs, s=src, d=dst)
    reasoning = rng.choice(["The user wants to convert {v} {s} to {d}. I will use the convert_units tool.",
                            "This is a unit conversion from {s} to {d}. Let me call convert_units."]).format(v=vs, s=src, d=dst)
    result = json.dumps({"value": json_num(out), "unit": dst})
    answer = rng.choice(["{v} {s} is {o} {d}.", "{v} {s} equals {o} {d}.", "That is {o} {d}."]).format(
        v=vs, s=src, o=os_, d=dst)
    final_r = f"The tool returned {os_} {dst}."
    return Turn(user, reasoning, answer, [call("convert_units", value=json_num(value), from_unit=src, to_unit=dst)],
                [result], final_r), [CONVERT]


def turn_weather(rng):
    city = rng.choice(CITIES)
    unit = "fahrenheit" if rng.random() < 0.2 else None
    temp_c = rng.randint(-15, 38)
    temp = round(temp_c * 9 / 5 + 32) if unit else temp_c
    cond, hum = rng.choice(CONDITIONS), rng.randint(20, 95)
    user = rng.choice(["What's the weather in {c}?", "What is the weather like in {c} right now?",
                       "How is the weather in {c}?", "Is it cold in {c} today?", "Weather in {c}?",
                       "Tell me the current weather in {c}."]).format(c=city)
    if unit:
        user = user.rstrip("?.") + " in Fahrenheit?"
    args = {"city": city}
    if unit:
        args["unit"] = unit
    reasoning = rng.choice(["The user wants the current weather in {c}. I will call get_weather.",
                            "I need live weather data for {c}, so I should use the get_weather tool."]).format(c=city)
    sym = "°F" if unit else "°C"
    result = json.dumps({"city": city, "temperature": temp, "unit": unit or "celsius", "condition": cond,
                         "humidity": hum})
    answer = rng.choice(["In {c} it is currently {t}{s} and {k}, with {h}% humidity.",
                         "The weather in {c}: {k}, {t}{s}, humidity {h}%.",
                         "It is {t}{s} in {c} right now ({k})."]).format(c=city, t=temp, s=sym, k=cond, h=hum)
    final_r = f"The tool reports {temp}{sym} and {cond} in {city}."
    return Turn(user, reasoning, answer, [call("get_weather", **args)], [result], final_r), [WEATHER]


def turn_time(rng):
    city = rng.choice(CITIES)
    hh, mm = rng.randint(0, 23), rng.randint(0, 59)
    t = f"{hh:02d}:{mm:02d}"
    user = rng.choice(["What time is it in {c}?", "What's the local time in {c}?", "Current time in {c}?",
                       "Tell me the time in {c}."]).format(c=city)
    reasoning = f"The user wants the current time in {city}. I will call get_time."
    result = json.dumps({"city": city, "time": t, "timezone": TIMEZONES.get(city, "local")})
    answer = rng.choice(["It is {t} in {c}.", "The local time in {c} is {t}.", "Right now it is {t} in {c}."]).format(
        t=t, c=city)
    return Turn(user, reasoning, answer, [call("get_time", city=city)], [result], f"The tool says it is {t}."), [TIME]


def file_content(rng, path):
    if path.endswith(".txt"):
        items = rng.sample(["buy milk", "call " + rng.choice(NAMES), "fix the login bug", "write the report",
                            "book a train ticket", "water the plants", "review the pull request",
                            "pay the rent", "clean the kitchen", "update the README"], rng.randint(2, 4))
        return "\n".join(f"- {x}" for x in items), f"a to-do list with {len(items)} items: " + ", ".join(items)
    if path.endswith(".py"):
        desc, name, code = rng.choice(CODE_TASKS)
        return code, f"a Python function `{name}` that {desc}"
    if path.endswith(".json"):
        port, debug = rng.choice([8080, 8000, 5000, 3000]), rng.choice(["true", "false"])
        return (f'{{"port": {port}, "debug": {debug}, "name": "{rng.choice(WORDS)}"}}',
                f"a JSON configuration with port {port} and debug set to {debug}")
    rows = [f"{rng.choice(NAMES)},{rng.randint(18, 70)}" for _ in range(rng.randint(2, 4))]
    return "name,age\n" + "\n".join(rows), f"a CSV table with {len(rows)} rows of names and ages"


def turn_file(rng):
    d = rng.choice(["", "notes/", "src/", "docs/", "data/", "config/"])
    ext = rng.choice([".txt", ".py", ".json", ".csv"])
    path = d + rng.choice(["todo", "main", "notes", "settings", "report", "people", "utils", "app"]) + ext
    user = rng.choice(["What is in {p}?", "Show me the contents of {p}.", "Read {p} for me.",
                       "Can you open {p} and tell me what it contains?", "What does the file {p} say?"]).format(p=path)
    reasoning = rng.choice(["The user wants to know what {p} contains. I will read it with read_file.",
                            "I need to look at the file {p}. Let me call read_file."]).format(p=path)
    if rng.random() < 0.15:
        result = json.dumps({"error": f"file not found: {path}"})
        answer = f"I could not find the file {path}. Please check the path."
        final_r = f"The tool says {path} does not exist."
    else:
        content, summary = file_content(rng, path)
        result = content
        if rng.random() < 0.5:
            answer = f"The file {path} contains {summary}."
        else:
            answer = f"Here is {path}:\n\n```\n{content}\n```"
        final_r = f"The file holds {summary}."
    return Turn(user, reasoning, answer, [call("read_file", path=path)], [result], final_r), [READ_FILE]


# ------------------------------------------------------------------------------------------------
# Turns that need no tool.


def turn_greeting(rng):
    user = rng.choice(["Hi", "Hello!", "Hello", "Hey there", "Good morning!", "Hi! How are you?",
                       "Hello, who are you?", "Who are you?", "What can you do?", "What is your name?",
                       "Hello! Who are you?", "Thanks!", "Thank you.", "Bye!"])
    low = user.lower()
    if "thank" in low:
        return Turn(user, "The user is thanking me. I should reply politely.",
                    rng.choice(["You're welcome!", "You're welcome! Anything else I can help with?"]))
    if "bye" in low:
        return Turn(user, "The user is saying goodbye.", "Goodbye! Have a nice day.")
    if "who" in low or "name" in low or "can you do" in low:
        return Turn(user, "The user asks who I am. I should introduce myself briefly.", IDENTITY)
    if "how are you" in low:
        return Turn(user, "The user greets me and asks how I am.",
                    "Hello! I'm doing well, thank you. How can I help you today?")
    return Turn(user, "The user is greeting me. I should greet them back and offer help.",
                rng.choice(["Hello! How can I help you today?", "Hi! What can I do for you?",
                            "Hello! How can I help?"]))


def turn_capital(rng):
    country, cap = rng.choice(CAPITALS)
    user = rng.choice(["What is the capital of {c}?", "What's the capital city of {c}?",
                       "Which city is the capital of {c}?", "Capital of {c}?"]).format(c=country)
    return Turn(user, f"The user asks for the capital of {country}. The capital of {country} is {cap}.",
                rng.choice(["The capital of {c} is {k}.", "{k} is the capital of {c}."]).format(c=country, k=cap))


def turn_fact(rng):
    qs, a1, a2 = rng.choice(FACTS)
    user = rng.choice(qs)
    return Turn(user, "This is a simple factual question. " + a1, rng.choice([a1, a2]))


def turn_concept(rng):
    name, text = rng.choice(CONCEPTS)
    user = rng.choice(["What is {n}?", "Explain {n}.", "Can you explain what {n} is?", "Briefly, what is {n}?"]).format(n=name)
    return Turn(user, f"The user wants a short explanation of {name}.", text)


def turn_code(rng):
    desc, name, code = rng.choice(CODE_TASKS)
    user = rng.choice(["Write a Python function that {d}.", "Can you write a Python function that {d}?",
                       "Show me Python code that {d}.", "I need a function that {d}, in Python."]).format(d=desc)
    reasoning = f"The user wants a Python function that {desc}. I will write a short function called {name}."
    answer = rng.choice(["Here is a function that {d}:\n\n```python\n{c}\n```",
                         "```python\n{c}\n```\n\nThe function `{n}` {d}."]).format(d=desc, c=code, n=name)
    return Turn(user, reasoning, answer)


def turn_mental_math(rng):
    a, b = rng.randint(1, 20), rng.randint(1, 20)
    op = rng.choice(["+", "-", "*"])
    v = a + b if op == "+" else a - b if op == "-" else a * b
    user = rng.choice(["What is {a} {o} {b}?", "What's {a} {o} {b}?", "{a} {o} {b} = ?"]).format(a=a, o=op, b=b)
    return Turn(user, f"This is small arithmetic: {a} {op} {b} = {v}.", f"{a} {op} {b} = {v}.")


def turn_word(rng):
    w = rng.choice(WORDS)
    kind = rng.randrange(5)
    if kind == 0:
        return Turn(f"Spell the word '{w}' letter by letter.", f"The word {w} has {len(w)} letters.",
                    "-".join(w))
    if kind == 1:
        return Turn(f"Write '{w}' in capital letters.", "I need to uppercase the word.", w.upper())
    if kind == 2:
        return Turn(f"How many letters are in the word '{w}'?", f"{w} is spelled {'-'.join(w)}, which is {len(w)} letters.",
                    f"The word '{w}' has {len(w)} letters.")
    if kind == 3:
        return Turn(f"Reverse the word '{w}'.", f"Reversed letter by letter: {'-'.join(w[::-1])}.", w[::-1])
    return Turn(f"What is the first letter of '{w}'?", f"The word {w} starts with {w[0]}.",
                f"The first letter of '{w}' is '{w[0]}'.")


def turn_list(rng):
    xs = [rng.randint(0, 99) for _ in range(rng.randint(3, 6))]
    s = ", ".join(map(str, xs))
    kind = rng.randrange(4)
    if kind == 0:
        out = ", ".join(map(str, sorted(xs)))
        return Turn(f"Sort these numbers: {s}.", f"Sorting {s} in ascending order gives {out}.", out)
    if kind == 1:
        return Turn(f"What is the largest number in {s}?", f"Comparing {s}, the largest is {max(xs)}.",
                    f"The largest number is {max(xs)}.")
    if kind == 2:
        return Turn(f"What is the smallest number in {s}?", f"Comparing {s}, the smallest is {min(xs)}.",
                    f"The smallest number is {min(xs)}.")
    n = rng.randint(3, 12)
    seq = ", ".join(str(i) for i in range(1, n + 1))
    return Turn(f"Count from 1 to {n}.", f"I list the numbers 1 through {n}.", seq)


def turn_list_things(rng):
    kind, pool = rng.choice([("colors", COLORS), ("animals", ANIMALS), ("cities", CITIES)])
    n = rng.randint(2, 5)
    items = rng.sample(pool, n)
    words = {2: "two", 3: "three", 4: "four", 5: "five"}[n]
    user = rng.choice(["List {w} {k}.", "Name {w} {k}.", "Give me {w} {k}."]).format(w=words, k=kind)
    answer = "\n".join(f"{i + 1}. {x[0].upper() + x[1:]}" for i, x in enumerate(items))
    return Turn(user, f"The user wants {words} {kind}. I will list {', '.join(items)}.", answer)


def turn_capability(rng):
    """Tool-like requests when no tool is offered: say so instead of inventing a call."""
    if rng.random() < 0.5:
        expr, _ = make_expression(rng)
        return Turn(rng.choice(["What is {e}? Use the calculator.", "Calculate {e}."]).format(e=expr),
                    "No calculator tool is available in this conversation, and I cannot do this exactly in my head.",
                    f"I don't have a calculator tool here, so I can't compute {expr} exactly.")
    city = rng.choice(CITIES)
    user = rng.choice([f"What's the weather in {city}?", f"What time is it in {city}?"])
    return Turn(user, "I have no tool for live data in this conversation, so I cannot look this up.",
                "I don't have access to live data here, so I can't check that. A weather or clock service "
                "can tell you.")


PLAIN = [(turn_greeting, 3), (turn_capital, 3), (turn_fact, 3), (turn_concept, 2), (turn_code, 3),
         (turn_mental_math, 2), (turn_word, 2), (turn_list, 2), (turn_list_things, 2)]
TOOLED = [(turn_calculator, 6), (turn_convert, 2), (turn_weather, 2), (turn_time, 1), (turn_file, 2)]


def _choose(rng, table):
    return rng.choices([f for f, _ in table], weights=[w for _, w in table])[0]


def _strip_reasoning(turn):
    turn.reasoning, turn.final_reasoning = "", ("" if turn.calls else None)
    return turn


def conversation(rng):
    """One conversation: kind mix tuned so tool calls and plain answers are both common."""
    thinking = rng.random() < 0.6
    r = rng.random()
    tools = None
    turns = []
    if r < 0.40:                                   # a tool is needed and offered
        t, needed = _choose(rng, TOOLED)(rng)
        tools, turns = pick_tools(rng, needed), [t]
    elif r < 0.52:                                 # tools are offered, none is needed
        tools, turns = pick_tools(rng, [rng.choice(ALL_TOOLS)]), [_choose(rng, PLAIN)(rng)]
    elif r < 0.85:                                 # plain chat
        turns = [_choose(rng, PLAIN)(rng) if rng.random() > 0.04 else turn_capability(rng)]
    else:                                          # multi-turn, tools or not
        with_tools = rng.random() < 0.6
        for _ in range(rng.randint(2, 3)):
            if with_tools and rng.random() < 0.6:
                t, _ = _choose(rng, TOOLED)(rng)
            else:
                t = _choose(rng, PLAIN)(rng)
            turns.append(t)
        if with_tools:
            tools = list(ALL_TOOLS)
            rng.shuffle(tools)
    if not thinking:
        turns[-1] = _strip_reasoning(turns[-1])
    messages = []
    if rng.random() < 0.35:
        messages.append({"role": "system", "content": rng.choice(SYSTEMS)})
    for t in turns:
        messages.extend(t.messages())
    return {"messages": messages, "tools": tools, "enable_thinking": thinking}


def generate(n, seed, start=0):
    """Conversations start..start+n-1 of the stream `seed`; each has its own Random, so any slice
    of the stream can be generated independently (parallel workers give the same texts)."""
    out = []
    for i in range(start, start + n):
        out.append(conversation(random.Random(f"{seed}:{i}")))
    return out


# ------------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", default="train")
    ap.add_argument("--show", type=int, default=0, help="print N rendered conversations")
    ap.add_argument("--stats", type=int, default=0, help="render N and print length statistics")
    ap.add_argument("--heldout", help="write the held-out text file here")
    ap.add_argument("--template", help="chat template path (default: the Qwen3.6 copy)")
    a = ap.parse_args()
    load_template(a.template)
    if a.show:
        for c in generate(a.show, a.seed):
            print("=" * 100)
            print(render(c))
    if a.stats:
        import time
        t = time.time()
        texts = [render(c) for c in generate(a.stats, a.seed)]
        dt = time.time() - t
        lens = sorted(len(x) for x in texts)
        print(f"{a.stats} conversations in {dt:.2f}s; chars mean {sum(lens) / len(lens):.0f}, "
              f"median {lens[len(lens) // 2]}, max {lens[-1]}; total {sum(lens) / 1e6:.1f} MB")
        print("with <tool_call>:", sum("<tool_call>\n<function=" in x for x in texts),
              " empty think:", sum("<think>\n\n</think>" in x for x in texts))
    if a.heldout:
        write_heldout(a.heldout)


HELDOUT_CODE = ["colorsys.py"]   # stdlib modules kept out of training (train.py skips these names)


def write_heldout(path):
    """Held-out text: 24 conversations from a seed the training stream never uses, then one stdlib
    module that training skips; documents joined by <|endoftext|> as in training."""
    docs = [render(c) for c in generate(24, "heldout")]
    for name in HELDOUT_CODE:
        docs.append(open(os.path.join("/usr/lib/python3.11", name), encoding="utf-8").read())
    with open(path, "w", encoding="utf-8") as f:
        f.write("<|endoftext|>".join(docs))
    print(f"wrote {path}: {len(docs)} documents, {sum(map(len, docs))} chars")


if __name__ == "__main__":
    sys.exit(main())
