"""When to answer a conditional question, in words: the hint the form shows without JavaScript.

A page without JavaScript shows every question; one that applies only after some answer says so
("Chỉ trả lời nếu …"). The simple shapes of docs/SURVEY_MODEL.md's expressions (an answer equal or not
to an option, an option selected, a number compared, joined by one `and`/`or`) are put in words with the
questions' and options' own texts; anything else gets a generic sentence. The server drops answers to
questions whose condition does not hold, so a wrong guess costs nothing.
"""

from __future__ import annotations

import re
from typing import Any

GENERIC = {
    "vi": "Chỉ trả lời nếu câu này phù hợp với các câu trả lời trước của Ông/Bà.",
    "en": "Answer only if it applies given your earlier answers.",
}
_ATOM = re.compile(
    r"""^(?:
      \$\{(?P<q>\w+)\}\s*(?P<op>!=|<=|>=|=|<|>)\s*(?:'(?P<s1>[^']*)'|"(?P<s2>[^"]*)"|(?P<n>-?\d+(?:\.\d+)?))
    | selected\(\s*\$\{(?P<sq>\w+)\}\s*,\s*(?:'(?P<sv1>[^']*)'|"(?P<sv2>[^"]*)")\s*\)
    )$""",
    re.VERBOSE,
)
_WORDS = {
    "=": ("Ông/Bà chọn “{v}” ở “{q}”", "you chose “{v}” at “{q}”"),
    "!=": ("Ông/Bà không chọn “{v}” ở “{q}”", "you did not choose “{v}” at “{q}”"),
    "selected": ("Ông/Bà có chọn “{v}” ở “{q}”", "you chose “{v}” at “{q}”"),
    "<": ("“{q}” nhỏ hơn {v}", "“{q}” is less than {v}"),
    "<=": ("“{q}” không quá {v}", "“{q}” is at most {v}"),
    ">": ("“{q}” lớn hơn {v}", "“{q}” is more than {v}"),
    ">=": ("“{q}” từ {v} trở lên", "“{q}” is at least {v}"),
}
_SHORT = re.compile(r"^(Câu [\w()]+(?: \([^)]*\))?)[.:]")


def when_to_answer(
    expression: str | None, labels: dict[str, str], choices: dict[str, dict[str, Any]]
) -> dict[str, str] | None:
    """{"vi": "Chỉ trả lời nếu …", "en": "Answer only if …"} for a relevance expression; None without one."""
    if not expression or not expression.strip():
        return None
    text = expression.strip()
    joiners = {"and": (" và ", " and "), "or": (" hoặc ", " or ")}
    parts, (vi_join, en_join) = [text], joiners["and"]
    for word, join in joiners.items():  # one kind of joiner only: "a and b or c" gets the generic sentence
        split = [p.strip() for p in re.split(rf"\s+{word}\s+", text)]
        if len(split) > 1:
            parts, (vi_join, en_join) = split, join
            break
    words = [_atom_words(p, labels, choices) for p in parts]
    if not parts or any(w is None for w in words):
        return dict(GENERIC)
    vi = vi_join.join(w[0] for w in words if w)
    en = en_join.join(w[1] for w in words if w)
    return {"vi": f"Chỉ trả lời nếu {vi}.", "en": f"Answer only if {en}."}


def _atom_words(atom: str, labels: dict[str, str], choices: dict[str, dict[str, Any]]) -> tuple[str, str] | None:
    found = _ATOM.match(atom)
    if not found:
        return None
    if found["sq"]:
        qid, op, value = found["sq"], "selected", found["sv1"] if found["sv1"] is not None else found["sv2"]
    else:
        qid, op = found["q"], found["op"]
        value = next((found[g] for g in ("s1", "s2", "n") if found[g] is not None), "")
    if qid not in labels:
        return None
    options = choices.get(qid) or {}
    if op in ("=", "!=", "selected"):
        if value not in options:
            return None
        label = options[value]
        v_vi, v_en = _text(label, "vi"), _text(label, "en") or _text(label, "vi")
    else:
        v_vi = v_en = value
    q = _short(labels[qid])
    vi, en = _WORDS[op]
    return vi.format(q=q, v=v_vi), en.format(q=q, v=v_en)


def _short(label: str) -> str:
    """'Câu 8. Trong 12 tháng qua … — Thực hiện thủ tục hành chính' -> 'Câu 8 — Thực hiện thủ tục hành chính'."""
    head, _, row = label.partition(" — ")
    found = _SHORT.match(head)
    if found:
        head = found.group(1)
    elif len(head) > 80:
        head = head[:77].rstrip() + "…"
    return f"{head} — {row}" if row else head


def _text(text: Any, lang: str) -> str:
    if isinstance(text, dict):
        return str(text.get(lang) or "")
    return str(text or "")
