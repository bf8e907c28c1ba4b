"""Check JSON replies against a published API description (OpenAPI 3.1 or 3.0, Swagger 2.0)
with ``jsonschema``, ``$ref``s resolved within the document.

* ``ApiSpec.response_schema(method, path, status, content_type)`` finds the schema the
  description gives for that operation's answer (the path is matched against the path
  templates, so a route the description does not have is an error in itself).
* ``ApiSpec.problems(schema, instance)`` lists every violation, and also every property
  that the description does not define where it lists an object's properties (descriptions
  rarely forbid extra properties, so a misspelled optional field would otherwise pass).

OpenAPI 3.0's ``nullable: true`` (which OpenAI's 3.1 file still uses in places) and
Swagger's ``x-nullable`` become ``anyOf [..., null]``, 3.0's boolean ``exclusiveMinimum``
(beside ``minimum``) becomes 2020-12's number; anything else of the older dialects
is read as JSON Schema 2020-12.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

API_DIR = Path(__file__).parent / "data" / "api"
OPENAI_SPEC = API_DIR / "openai-openapi.yaml"
AZURE_AUTHORING_SPEC = API_DIR / "azure-openai" / "azureopenai-authoring-2024-10-21.json"
AZURE_INFERENCE_SPEC = API_DIR / "azure-openai" / "azureopenai-inference-2024-10-21.json"

_COMBINERS = ("allOf", "anyOf", "oneOf")


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0 / Swagger nullability as JSON Schema, recursively."""
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {k: _nullable(v) for k, v in node.items()}
    # OpenAPI 3.0's boolean exclusiveMinimum/exclusiveMaximum (beside minimum/maximum), which
    # OpenAI's file still uses (DPO's beta: 0 < beta <= 2): in 2020-12, ``true`` would be 1.
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        flag = converted.get(exclusive)
        if isinstance(flag, bool) and converted.pop(exclusive) and bound in converted:
            converted[exclusive] = converted.pop(bound)
    if converted.pop("nullable", False) is True or converted.pop("x-nullable", False) is True:
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def load(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    document = (
        yaml.load(text, Loader=yaml.CSafeLoader) if path.suffix == ".yaml" else json.loads(text)
    )
    assert isinstance(document, dict)
    return document


class ApiSpec:
    def __init__(self, document: dict[str, Any], uri: str) -> None:
        self.uri = uri
        self.swagger = str(document.get("swagger", "")).startswith("2")
        # Even OpenAI's 3.1 file still says ``nullable: true`` in places (111 of them).
        self.document = _nullable(document)
        resource = Resource.from_contents(self.document, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(uri, resource)

    @classmethod
    def from_file(cls, path: Path) -> ApiSpec:
        return cls(load(path), f"urn:api:{path.name}")

    # ---- finding schemas -------------------------------------------------------------------

    @cached_property
    def _templates(self) -> list[tuple[re.Pattern[str], str]]:
        found = []
        for template in self.document["paths"]:
            pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
            found.append((re.compile(pattern), template))
        return found

    def template(self, path: str) -> str:
        matches = [t for pattern, t in self._templates if pattern.fullmatch(path)]
        if not matches:
            raise AssertionError(f"{self.uri} has no path {path}")
        # A literal segment beats a parameter: "/files/import" before "/files/{file-id}".
        return max(matches, key=lambda t: len(re.sub(r"\{[^}]+\}", "", t)))

    def schema(self, name: str) -> dict[str, Any]:
        where = "definitions" if self.swagger else "components/schemas"
        return {"$ref": f"{self.uri}#/{where}/{name}"}

    def response_schema(
        self, method: str, path: str, status: int, content_type: str = "application/json"
    ) -> dict[str, Any]:
        template = self.template(path)
        operation = self.document["paths"][template].get(method.lower())
        if operation is None:
            raise AssertionError(f"{self.uri} has no {method} {template}")
        responses = operation["responses"]
        response = responses.get(str(status)) or responses.get("default")
        if response is None:
            raise AssertionError(f"{self.uri}: {method} {template} does not answer {status}")
        pointer = f"#/paths/{_escape(template)}/{method.lower()}"
        key = str(status) if str(status) in responses else "default"
        if self.swagger:
            if "schema" not in response:
                raise AssertionError(f"{method} {template} {status} has no body in {self.uri}")
            return {"$ref": f"{self.uri}{pointer}/responses/{key}/schema"}
        content = response.get("content") or {}
        if content_type not in content:
            raise AssertionError(f"{method} {template} {status} has no {content_type} body")
        media = _escape(content_type)
        return {"$ref": f"{self.uri}{pointer}/responses/{key}/content/{media}/schema"}

    # ---- checking ------------------------------------------------------------------------

    def problems(self, schema: dict[str, Any], instance: Any) -> list[str]:
        validator = jsonschema.Draft202012Validator(schema, registry=self.registry)
        found = [f"{_where(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]
        if not found:
            found += [
                f"{where}: {key!r} is not a property the description defines"
                for where, key in self._unknown(schema, instance, ())
            ]
        return found

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        resolver = self.registry.resolver()
        while isinstance(schema, dict) and "$ref" in schema:
            resolved = resolver.lookup(schema["$ref"])
            resolver = resolved.resolver
            target = resolved.contents
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        return schema

    def _valid(self, schema: dict[str, Any], instance: Any) -> bool:
        return bool(
            jsonschema.Draft202012Validator(schema, registry=self.registry).is_valid(instance)
        )

    def _unknown(
        self, schema: Any, instance: Any, where: tuple[str | int, ...]
    ) -> Iterator[tuple[str, str]]:
        if not isinstance(schema, dict):
            return
        schema = self._resolve(self._absolute(schema))
        for combiner in ("anyOf", "oneOf"):
            for branch in schema.get(combiner, []):
                if self._valid(self._absolute(branch), instance):
                    yield from self._unknown(branch, instance, where)
                    break
        if isinstance(instance, list) and "items" in schema:
            for number, item in enumerate(instance):
                yield from self._unknown(schema["items"], item, (*where, number))
        if not isinstance(instance, dict):
            return
        properties: dict[str, Any] = dict(schema.get("properties") or {})
        for branch in schema.get("allOf", []):
            properties.update(self._resolve(self._absolute(branch)).get("properties") or {})
        open_ended = "additionalProperties" in schema or any(c in schema for c in _COMBINERS[1:])
        if not properties:
            return
        for key, value in instance.items():
            if key in properties:
                yield from self._unknown(properties[key], value, (*where, key))
            elif not open_ended:
                yield _where(where), key

    def _absolute(self, schema: Any) -> Any:
        """A ``$ref`` relative to the document made absolute (subschemas keep local refs)."""
        if isinstance(schema, dict) and str(schema.get("$ref", "")).startswith("#"):
            return {**schema, "$ref": self.uri + schema["$ref"]}
        return schema


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _where(path: Any) -> str:
    return "/" + "/".join(str(p) for p in path) if path else "(top)"
