"""Evaluate a DMN decision table on its own, as a business-rule task would."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from lxml import etree
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.dmn.parser.DMNParser import DMNParser

from engine.bpmn.parser import _parser
from engine.bpmn.scripting import SCRIPT_ENGINE


def load_decision(source: Path | bytes) -> DMNEngine:
    """Parse a one-decision DMN file into an engine that can decide."""
    content = source.read_bytes() if isinstance(source, Path) else source
    root = etree.fromstring(content, _parser())
    parser = DMNParser(None, root, {"dmn": etree.QName(root).namespace}, filename=str(source)[:200])
    parser.parse()
    return DMNEngine(parser.decision.decisionTables[0])


def evaluate_decision(source: Path | bytes, data: dict[str, Any]) -> dict[str, Any]:
    """Return the outputs of the decision for ``data`` (first matching rule, or lists for COLLECT)."""
    engine = load_decision(source)
    task = SimpleNamespace(data=dict(data), workflow=SimpleNamespace(script_engine=SCRIPT_ENGINE))
    return dict(engine.result(task))
