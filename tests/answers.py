"""Checklist answers for tests: a valid passing answer for any item of a published template."""


def passing_answer(item) -> dict:
    """The answer that passes ``item``: a number inside its range, a choice that does not fail."""
    answer = {"item": item.code, "result": "pass", "value": None, "note": "", "photos": []}
    if item.answer.type == "number":
        low = item.answer.min if item.answer.min is not None else 0
        answer["value"] = low if item.answer.max is None else (low + item.answer.max) / 2
    elif item.answer.type == "choice":
        answer["value"] = next(o.value for o in item.answer.options if not o.fails)
    elif item.answer.type == "text":
        answer["value"] = "符合"
    return answer


def failing_answer(item, photo: str) -> dict:
    answer = passing_answer(item)
    answer.update(result="fail", note="现场发现问题", photos=[photo])
    return answer
