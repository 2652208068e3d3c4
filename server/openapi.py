"""The HTTP API described as OpenAPI 3.0 (served at /openapi.json; fuzzed by the tests)."""

from __future__ import annotations

from typing import Any

from redline.jobs.export import CHANGE_MODES, INCLUDE_CHOICES
from redline.jobs.models import DECISIONS
from redline.server.protocol import PROTOCOL_VERSION


def _err(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _ok(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": schema or {"type": "object"}}}}


RID = {"name": "rid", "in": "path", "required": True, "schema": {"type": "string"}}
JOB = {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}
ITEM = {"name": "item_id", "in": "path", "required": True, "schema": {"type": "string"}}
AUTH_ERRORS = {"401": _err("missing or wrong token"), "404": _err("no such thing"), "429": _err("rate limited")}


def _json_body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


ITEM_SCHEMA = {
    "type": "object",
    "required": ["id", "section_id", "type", "category", "risk", "description", "suggestion", "quote",
                 "questions", "refs", "confidence", "source", "decision"],
    "properties": {
        "id": {"type": "string"}, "section_id": {"type": "string"},
        "type": {"type": "string", "enum": ["critical", "important", "suggestion"]},
        "category": {"type": "string"}, "risk": {"type": "string", "enum": ["high", "medium", "low"]},
        "description": {"type": "string"}, "suggestion": {"type": "string"},
        "quote": {"type": "string", "nullable": True},
        "questions": {"type": "array", "items": {"type": "string"}},
        "refs": {"type": "array", "items": {"type": "string"}},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "source": {"type": "string", "enum": ["claude", "offline", "user"]},
        "decision": {"type": "string", "enum": list(DECISIONS)},
        "replacement": {"type": "string", "nullable": True, "maxLength": 4000},
        "related_section_id": {"type": "string", "nullable": True},
        "related_quote": {"type": "string", "nullable": True},
        "resolution": {"type": "string", "nullable": True, "description": "open, resolved or outdated"},
        "decided_by": {"type": "string", "nullable": True},
        "decided_at": {"type": "string", "format": "date-time", "nullable": True},
        "reason": {"type": "string", "nullable": True, "maxLength": 1000},
    },
}

DECISION_EXTRAS = {
    "replacement": {"type": "string", "maxLength": 4000,
                    "description": "the reviewer's rewrite of the quote (items with a quote only; \"\" deletes it)"},
    "reason": {"type": "string", "maxLength": 1000, "description": "why (kept with the decision)"},
    "by": {"type": "string"},
}

AUDIT_ENTRY = {
    "type": "object", "required": ["id", "at", "kind"],
    "properties": {"id": {"type": "string"}, "at": {"type": "string", "format": "date-time"},
                   "by": {"type": "string"}, "kind": {"type": "string"}, "item_id": {"type": "string"},
                   "decision": {"type": "string"}, "reason": {"type": "string"}, "detail": {"type": "string"}},
}

NEW_ITEM = {
    "type": "object", "required": ["section_id", "description"],
    "properties": {"section_id": {"type": "string"}, "description": {"type": "string"},
                   "suggestion": {"type": "string"}, "quote": {"type": "string", "nullable": True},
                   "type": {"type": "string", "enum": ["critical", "important", "suggestion"]},
                   "risk": {"type": "string", "enum": ["high", "medium", "low"]},
                   "category": {"type": "string"}, "author": {"type": "string"}},
}

SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Redline", "version": f"protocol {PROTOCOL_VERSION}",
             "description": "Live, collaborative AI review of investigation write-ups. See CONTRACT.md."},
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
            "Item": ITEM_SCHEMA,
        },
    },
    "paths": {
        "/api/reviews": {"post": {
            "summary": "Create a review from an uploaded document",
            "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": ["document"],
                "properties": {"document": {"type": "string", "format": "binary"},
                               "guidelines": {"type": "string", "format": "binary"},
                               "title": {"type": "string"}}}}}},
            "responses": {"201": _ok("the new review"), "400": _err("bad document"), "413": _err("too large"),
                          "415": _err("unsupported type"), "429": _err("rate limited")}}},
        "/api/reviews/{rid}": {"get": {"parameters": [RID], "security": [{"bearer": []}],
                                       "responses": {"200": _ok("snapshot"), **AUTH_ERRORS}},
                               "delete": {"parameters": [RID], "security": [{"bearer": []}],
                                          "responses": {"200": _ok("deleted"), **AUTH_ERRORS}}},
        "/api/reviews/{rid}/versions": {"post": {
            "parameters": [RID], "security": [{"bearer": []}],
            "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": ["document"], "properties": {
                    "document": {"type": "string", "format": "binary"}, "by": {"type": "string"}}}}}},
            "responses": {"201": _ok("the round: version, resolved, open, outdated, changes, sections"),
                          "400": _err("bad document"), "409": _err("another version is being uploaded"),
                          "413": _err("too large"), "415": _err("unsupported type"), "429": _err("rate limited"),
                          **AUTH_ERRORS}}},
        "/api/reviews/{rid}/analyze": {"post": {
            "parameters": [RID], "security": [{"bearer": []}],
            "requestBody": _json_body({"type": "object", "properties": {
                "sections": {"type": "array", "items": {"type": "string"}}}}, required=False),
            "responses": {"202": _ok("jobs"), "400": _err("bad body"), **AUTH_ERRORS}}},
        "/api/reviews/{rid}/chat": {"post": {
            "parameters": [RID], "security": [{"bearer": []}],
            "requestBody": _json_body({"type": "object", "required": ["message"], "properties": {
                "message": {"type": "string"}, "section_id": {"type": "string"}}}),
            "responses": {"202": _ok("job"), "400": _err("bad body"), **AUTH_ERRORS}}},
        "/api/reviews/{rid}/items": {"post": {
            "parameters": [RID], "security": [{"bearer": []}], "requestBody": _json_body(NEW_ITEM),
            "responses": {"201": _ok("item"), "400": _err("bad item"), **AUTH_ERRORS}}},
        "/api/reviews/{rid}/items/{item_id}": {
            "patch": {"parameters": [RID, ITEM], "security": [{"bearer": []}],
                      "requestBody": _json_body({"type": "object"}),
                      "responses": {"200": _ok("item"), "400": _err("bad item"), "409": _err("not editable"),
                                    **AUTH_ERRORS}},
            "delete": {"parameters": [RID, ITEM], "security": [{"bearer": []}],
                       "responses": {"200": _ok("deleted"), "409": _err("not editable"), **AUTH_ERRORS}}},
        "/api/reviews/{rid}/items/{item_id}/decision": {"post": {
            "parameters": [RID, ITEM], "security": [{"bearer": []}],
            "requestBody": _json_body({"type": "object", "required": ["decision"], "properties": {
                "decision": {"type": "string", "enum": list(DECISIONS)}, **DECISION_EXTRAS}}),
            "responses": {"200": _ok("item"), "400": _err("bad decision, replacement or reason (no_quote: "
                                                           "a rewrite on an item without a quote)"),
                          **AUTH_ERRORS}}},
        "/api/reviews/{rid}/decisions": {"post": {
            "parameters": [RID], "security": [{"bearer": []}],
            "requestBody": _json_body({"type": "object", "required": ["item_ids", "decision"], "properties": {
                "item_ids": {"type": "array", "items": {"type": "string"}},
                "decision": {"type": "string", "enum": list(DECISIONS)}, **DECISION_EXTRAS}}),
            "responses": {"200": _ok("items"), "400": _err("bad body"), **AUTH_ERRORS}}},
        "/api/reviews/{rid}/export.docx": {"get": {
            "parameters": [RID, {"name": "include", "in": "query", "required": False,
                                 "schema": {"type": "string", "enum": list(INCLUDE_CHOICES), "default": "accepted"}},
                           {"name": "changes", "in": "query", "required": False,
                            "schema": {"type": "string", "enum": list(CHANGE_MODES), "default": "both"}},
                           {"name": "audit", "in": "query", "required": False,
                            "schema": {"type": "string", "enum": ["0", "1"], "default": "0"},
                            "description": "1: the review record appended as a table"},
                           {"name": "by", "in": "query", "required": False, "schema": {"type": "string"},
                            "description": "who exports (kept in the audit trail)"}],
            "security": [{"bearer": []}],
            "responses": {"200": {"description": "the reviewed .docx", "content": {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {
                    "schema": {"type": "string", "format": "binary"}}}}, "400": _err("bad include or changes"),
                **AUTH_ERRORS}}},
        "/api/reviews/{rid}/audit": {"get": {
            "parameters": [RID, {"name": "format", "in": "query", "required": False,
                                 "schema": {"type": "string", "enum": ["json", "csv"], "default": "json"}}],
            "security": [{"bearer": []}],
            "responses": {"200": {"description": "every change to the review, in order", "content": {
                "application/json": {"schema": {"type": "object", "properties": {
                    "entries": {"type": "array", "items": AUDIT_ENTRY}}}},
                "text/csv": {"schema": {"type": "string"}}}}, "400": _err("bad format"), **AUTH_ERRORS}}},
        "/api/jobs/{job_id}": {"get": {"parameters": [JOB], "security": [{"bearer": []}],
                                       "responses": {"200": _ok("job"), **AUTH_ERRORS}}},
        "/api/jobs/{job_id}/cancel": {"post": {"parameters": [JOB], "security": [{"bearer": []}],
                                               "responses": {"202": _ok("status"), **AUTH_ERRORS}}},
        "/api/queues": {"get": {"responses": {"200": _ok("queue stats")}}},
        "/api/llm/test": {"post": {"requestBody": _json_body({"type": "object", "properties": {
            "review_id": {"type": "string"}}}, required=False),
            "responses": {"202": _ok("job"), "429": _err("rate limited (Retry-After)"), **AUTH_ERRORS}}},
        "/healthz": {"get": {"responses": {"200": _ok("alive")}}},
        "/readyz": {"get": {"responses": {"200": _ok("ready"), "503": _ok("not ready")}}},
    },
}
