"""Block Kit validation: blocks and views checked the way Slack checks them, with its errors."""

from __future__ import annotations

import copy

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100


def _known_block_types() -> frozenset[str]:
    found: set[str] = set()
    pending = list(Block.__subclasses__())
    while pending:
        cls = pending.pop()
        block_type = getattr(cls, "type", None)
        if isinstance(block_type, str):
            found.add(block_type)
        pending.extend(cls.__subclasses__())
    return frozenset(found)


_BLOCK_TYPES = _known_block_types()
# Blocks whose schema is settled: for them a bare string where Slack wants an object is an
# error even though the SDK would quietly wrap it. Newer block types are only SDK-checked.
_STRICT_BLOCK_TYPES = frozenset(
    {"actions", "context", "divider", "file", "header", "image", "input", "rich_text", "section"}
)
_TEXT_OBJECT_KEYS = frozenset({"text", "label", "hint", "placeholder", "title", "description"})
_PLAIN_TEXT_ONLY = {"header": ("text",), "button": ("text",), "input": ("label", "hint")}
_VIEW_TYPES = ("modal", "home")
_VIEW_KEYS = frozenset(View(type="modal").attributes)


def _pointer_error(message: str, pointer: str) -> str:
    return f"{message} [json-pointer:{pointer}]"


def validate_blocks(
    blocks: object, *, pointer: str = "/blocks", limit: int = MAX_MESSAGE_BLOCKS
) -> list[str]:
    """Check blocks the way Slack does; answer its error strings (empty when valid)."""
    if not isinstance(blocks, list):
        return [_pointer_error("must provide an array", pointer)]
    errors: list[str] = []
    if len(blocks) > limit:
        errors.append(_pointer_error(f"no more than {limit} items allowed", pointer))
    for index, block in enumerate(blocks):
        errors.extend(_validate_block(block, f"{pointer}/{index}"))
    return errors


def validate_view(view: object, *, pointer: str = "/view") -> list[str]:
    """Check a modal or home view the way Slack does; answer its error strings."""
    if not isinstance(view, dict):
        return [_pointer_error("must provide an object", pointer)]
    view_type = view.get("type")
    if view_type not in _VIEW_TYPES:
        return [_pointer_error(f"unsupported type: {view_type}", f"{pointer}/type")]
    errors = [
        _pointer_error(f"invalid additional property: {key}", pointer)
        for key in view
        if key not in _VIEW_KEYS
    ]
    blocks = view.get("blocks")
    if blocks is None:
        errors.append(_pointer_error("missing required field: blocks", pointer))
    else:
        errors.extend(validate_blocks(blocks, pointer=f"{pointer}/blocks", limit=MAX_VIEW_BLOCKS))
    if view_type == "modal":
        if not view.get("title"):
            errors.append(_pointer_error("missing required field: title", pointer))
        has_input = isinstance(blocks, list) and any(
            isinstance(block, dict) and block.get("type") == "input" for block in blocks
        )
        if has_input and not view.get("submit"):
            errors.append(_pointer_error("submit is required when input blocks are used", pointer))
    for key in ("title", "submit", "close"):
        value = view.get(key)
        if value is None:
            continue
        if not isinstance(value, dict):
            errors.append(_pointer_error("must provide an object", f"{pointer}/{key}"))
        elif value.get("type") != "plain_text":
            errors.append(_pointer_error("must be plain_text", f"{pointer}/{key}/type"))
    if errors:
        return errors
    try:
        View(**copy.deepcopy(view)).validate_json()
    # SlackObjectFormationError for broken rules; anything else means the SDK choked on it.
    except Exception as exc:
        return [_pointer_error(str(exc), pointer)]
    return []


def _validate_block(raw: object, pointer: str) -> list[str]:
    if not isinstance(raw, dict):
        return [_pointer_error("must provide an object", pointer)]
    block_type = raw.get("type")
    if not isinstance(block_type, str) or block_type not in _BLOCK_TYPES:
        return [_pointer_error(f"unsupported type: {block_type}", f"{pointer}/type")]
    try:
        block = Block.parse(copy.deepcopy(raw))
        if block is None:
            return [_pointer_error(f"unsupported type: {block_type}", f"{pointer}/type")]
        block.validate_json()
        rebuilt: object = block.to_dict()  # to_dict() also validates every nested element
    # SlackObjectFormationError for broken rules; a malformed payload can make the SDK raise
    # TypeError, AttributeError and the like: all of them mean "invalid".
    except Exception as exc:
        return [_pointer_error(str(exc) or type(exc).__name__, pointer)]
    strict = block_type in _STRICT_BLOCK_TYPES
    return _round_trip_errors(raw, rebuilt, pointer, strict=strict) + _text_object_errors(
        raw, pointer
    )


def _round_trip_errors(sent: object, parsed: object, pointer: str, *, strict: bool) -> list[str]:
    """Compare what was sent with the SDK's re-serialisation of it.

    The SDK drops what it does not understand (unknown keys, unknown elements) and wraps
    bare strings into text objects; Slack rejects all of those, so must we.
    """
    if isinstance(sent, dict):
        if not isinstance(parsed, dict):
            return [_pointer_error("failed to match all allowed schemas", pointer)]
        errors: list[str] = []
        for key, value in sent.items():
            child = f"{pointer}/{key}"
            if key in parsed:
                errors.extend(_round_trip_errors(value, parsed[key], child, strict=strict))
            elif value is None:
                continue  # null reads as "absent", for the SDK and for us
            elif isinstance(value, (str, list, dict)) and not value:
                errors.append(_pointer_error("must not be empty", child))
            else:
                errors.append(_pointer_error(f"invalid additional property: {key}", pointer))
        return errors
    if isinstance(sent, list):
        if not isinstance(parsed, list) or len(parsed) != len(sent):
            return [_pointer_error("failed to match all allowed schemas", pointer)]
        errors = []
        for index, (item, parsed_item) in enumerate(zip(sent, parsed, strict=True)):
            child = f"{pointer}/{index}"
            if parsed_item is None and item is not None:
                errors.append(_pointer_error("failed to match all allowed schemas", child))
            else:
                errors.extend(_round_trip_errors(item, parsed_item, child, strict=strict))
        return errors
    if strict and isinstance(parsed, dict):
        return [_pointer_error("must provide an object", pointer)]
    return []


def _text_object_errors(node: object, pointer: str) -> list[str]:
    """Text objects must be plain_text or mrkdwn, and plain_text where Slack insists."""
    if isinstance(node, list):
        errors: list[str] = []
        for index, item in enumerate(node):
            errors.extend(_text_object_errors(item, f"{pointer}/{index}"))
        return errors
    if not isinstance(node, dict):
        return []
    errors = []
    plain_only = set(_PLAIN_TEXT_ONLY.get(str(node.get("type")), ())) | {"placeholder"}
    for key, value in node.items():
        child = f"{pointer}/{key}"
        if key in _TEXT_OBJECT_KEYS and isinstance(value, dict) and "text" in value:
            text_type = value.get("type")
            if text_type not in ("plain_text", "mrkdwn"):
                errors.append(_pointer_error(f"unsupported type: {text_type}", f"{child}/type"))
            elif key in plain_only and text_type != "plain_text":
                errors.append(_pointer_error("must be plain_text", f"{child}/type"))
        errors.extend(_text_object_errors(value, child))
    return errors
