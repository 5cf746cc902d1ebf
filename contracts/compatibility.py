"""A small checker for breaking changes between two JSON Schemas of the same event version.

Within a major version an event may only gain optional fields (docs/architecture.md), so that
data written under the old schema still validates under the new one and old consumers keep working.
This checker names everything that breaks that promise: a property removed, a type changed or
narrowed, an optional property made required, a new required property, enum values removed. It
follows ``$ref`` into ``$defs`` (or ``definitions``/``components/schemas``), nested objects,
arrays, maps, and the ``anyOf`` pydantic uses for optional fields.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]
_ANY = "any"
_FROM = "x-resolved-from"  # marks a definition reached through $ref, to stop at recursion


def breaking_changes(old_schema: Schema, new_schema: Schema) -> list[str]:
    """Every incompatibility of ``new_schema`` with ``old_schema``, as readable messages."""
    checker = _Checker(old_schema, new_schema)
    name = _resolve(old_schema, old_schema).get("title", "$")
    checker.compare(old_schema, new_schema, name)
    return checker.problems


class _Checker:
    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.old_root = old_root
        self.new_root = new_root
        self.problems: list[str] = []
        self._seen: set[tuple[str, str]] = set()

    def compare(self, old: Schema, new: Schema, path: str) -> None:
        old_branches = _branches(self.old_root, old)
        new_branches = _branches(self.new_root, new)
        old_types, new_types = _types(old_branches), _types(new_branches)
        if not _accepts(new_types, old_types):
            self.problems.append(
                f"{path}: type changed from {_show(old_types)} to {_show(new_types)}"
            )
            return
        self._compare_values(_allowed(old_branches), _allowed(new_branches), path)
        old_object, new_object = _branch(old_branches, "object"), _branch(new_branches, "object")
        if old_object is not None and new_object is not None:
            defs = (old_object.get(_FROM, ""), new_object.get(_FROM, ""))
            if not all(defs) or defs not in self._seen:  # a recursive model is compared once
                self._seen.add(defs)
                self._compare_objects(old_object, new_object, path)
        old_array, new_array = _branch(old_branches, "array"), _branch(new_branches, "array")
        if old_array is not None and new_array is not None:
            old_items, new_items = old_array.get("items"), new_array.get("items")
            if isinstance(old_items, dict) and isinstance(new_items, dict):
                self.compare(old_items, new_items, f"{path}[]")

    def _compare_values(
        self, old_values: list[Any] | None, new_values: list[Any] | None, path: str
    ) -> None:
        if new_values is None:
            return
        if old_values is None:
            self.problems.append(f"{path}: restricted to the values {_sorted(new_values)}")
            return
        removed = [value for value in old_values if value not in new_values]
        if removed:
            self.problems.append(f"{path}: enum values removed: {_sorted(removed)}")

    def _compare_objects(self, old: Schema, new: Schema, path: str) -> None:
        old_props: Schema = old.get("properties", {})
        new_props: Schema = new.get("properties", {})
        old_required = set(old.get("required", []))
        for name in new.get("required", []):
            if name not in old_required:
                kind = "became required" if name in old_props else "new required property"
                self.problems.append(f"{path}.{name}: {kind}")
        for name, old_prop in old_props.items():
            if name not in new_props:
                self.problems.append(f"{path}.{name}: property removed")
            else:
                self.compare(old_prop, new_props[name], f"{path}.{name}")
        old_extra, new_extra = old.get("additionalProperties"), new.get("additionalProperties")
        if isinstance(old_extra, dict) and isinstance(new_extra, dict):
            self.compare(old_extra, new_extra, f"{path}{{}}")


def _branches(root: Schema, schema: Schema) -> list[Schema]:
    """The alternatives a value may match, with ``$ref`` and one-element ``allOf`` resolved."""
    schema = _resolve(root, schema)
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(alternatives, list) and alternatives:
        return [branch for alt in alternatives for branch in _branches(root, alt)]
    return [schema]


def _types(branches: list[Schema]) -> set[str]:
    types: set[str] = set()
    for branch in branches:
        declared = branch.get("type")
        if isinstance(declared, list):
            types.update(declared)
        elif isinstance(declared, str):
            types.add(declared)
        elif "const" in branch or "enum" in branch:
            values = [branch["const"]] if "const" in branch else branch["enum"]
            types.update(_json_type(value) for value in values)
        else:
            types.add(_ANY)
    return types


def _branch(branches: list[Schema], json_type: str) -> Schema | None:
    for branch in branches:
        declared = branch.get("type")
        if declared == json_type or (isinstance(declared, list) and json_type in declared):
            return branch
    return None


def _allowed(branches: list[Schema]) -> list[Any] | None:
    """The closed set of values the branches accept, or None when it is open."""
    values: list[Any] = []
    for branch in branches:
        if "const" in branch:
            values.append(branch["const"])
        elif "enum" in branch:
            values.extend(branch["enum"])
        elif branch.get("type") == "null":
            values.append(None)
        else:
            return None
    return values


def _resolve(root: Schema, schema: Schema) -> Schema:
    for _ in range(32):  # a chain of refs longer than this is a malformed schema
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1 and "$ref" not in schema:
            schema = {**{k: v for k, v in schema.items() if k != "allOf"}, **all_of[0]}
            continue
        ref = schema.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return schema
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~"), {})
        schema = {**{k: v for k, v in schema.items() if k != "$ref"}, **target, _FROM: ref}
    return schema


def _accepts(new_types: set[str], old_types: set[str]) -> bool:
    if _ANY in new_types:
        return True
    widened = new_types | ({"integer"} if "number" in new_types else set())
    return old_types <= widened


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object" if isinstance(value, dict) else _ANY


def _show(types: set[str]) -> str:
    return "|".join(sorted(types))


def _sorted(values: list[Any]) -> list[Any]:
    return sorted(values, key=lambda value: (str(type(value)), str(value)))
