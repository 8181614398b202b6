"""Compare two sets of BPMN/DMN files element by element: added, removed and changed, layout aside."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from lxml import etree

from engine.bpmn.parser import BPMN_NS, CAMUNDA_NS, DMN_NAMESPACES, _parser

# Elements compared as a whole; their children without an id of their own count as their properties.
MODEL_NAMESPACES = (BPMN_NS, *DMN_NAMESPACES)
PREFIXES = {CAMUNDA_NS: "camunda:"}
# Back references that change whenever a flow is redrawn; the flow itself carries the change.
SKIPPED = {"incoming", "outgoing", "flowNodeRef"}


@dataclass
class Element:
    element_id: str
    name: str
    type: str
    file: str
    props: dict[str, str] = field(default_factory=dict)


@dataclass
class Change:
    element_id: str
    name: str
    kind: str
    type: str
    file: str
    changes: list[tuple[str, str | None, str | None]] = field(default_factory=list)


def _attr_name(name: str) -> str:
    qname = etree.QName(name)
    return PREFIXES.get(qname.namespace or "", "") + str(qname.localname)


def _label(child: etree._Element) -> str:
    qname = etree.QName(child)
    tag = PREFIXES.get(qname.namespace or "", "") + qname.localname
    key = child.get("id") or child.get("name")
    return f"{tag}[{key}]" if key else tag


def _collect(node: etree._Element, path: str, props: dict[str, str]) -> None:
    for attr, value in node.attrib.items():
        name = _attr_name(str(attr))
        if path or name != "id":
            props[f"{path}@{name}" if path else name] = value
    text = (node.text or "").strip()
    if text and path:
        props[path] = text
    counts: dict[str, int] = {}
    for child in node:
        if not isinstance(child.tag, str):
            continue
        qname = etree.QName(child)
        if qname.namespace in MODEL_NAMESPACES and child.get("id"):
            continue  # compared on its own
        if qname.localname in SKIPPED:
            continue
        label = _label(child)
        counts[label] = counts.get(label, 0) + 1
        if counts[label] > 1:
            label += f"#{counts[label]}"
        _collect(child, f"{path}/{label}" if path else label, props)


def _readable(prop: str) -> str:
    """Shorten a property path for people: formField[order_no]/constraint[required] · name."""
    for noise in ("extensionElements/", "camunda:", "formData/", "validation/", "inputOutput/"):
        prop = prop.replace(noise, "")
    return prop.replace("@", " · ").strip(" ·/")


def elements(files: Mapping[str, str]) -> dict[str, Element]:
    """Index every BPMN/DMN element with an id by file and id, with its flattened properties."""
    found: dict[str, Element] = {}
    for file_name, text in files.items():
        try:
            root = etree.fromstring(text.encode("utf-8"), _parser())
        except (etree.XMLSyntaxError, ValueError):
            continue
        for node in root.iter():
            if not isinstance(node.tag, str) or node is root:
                continue
            qname = etree.QName(node)
            if qname.namespace not in MODEL_NAMESPACES or not node.get("id"):
                continue
            element = Element(node.get("id") or "", node.get("name") or "", qname.localname, file_name)
            raw: dict[str, str] = {}
            _collect(node, "", raw)
            element.props = {_readable(k): v for k, v in raw.items()}
            key = node.get("id") if file_name.endswith(".bpmn") else f"{file_name}#{node.get('id')}"
            found[str(key)] = element
    return found


def compare(before: Mapping[str, str], after: Mapping[str, str]) -> list[Change]:
    """List what changed from ``before`` to ``after`` (file name -> XML text), in document order."""
    old, new = elements(before), elements(after)
    changes: list[Change] = []
    for key, element in new.items():
        if key not in old:
            changes.append(Change(element.element_id, element.name, "added", element.type, element.file))
            continue
        was = old[key]
        diffs = [
            (prop, was.props.get(prop), element.props.get(prop))
            for prop in sorted(set(was.props) | set(element.props))
            if was.props.get(prop) != element.props.get(prop)
        ]
        if diffs or was.type != element.type:
            if was.type != element.type:
                diffs.insert(0, ("type", was.type, element.type))
            changes.append(
                Change(element.element_id, element.name or was.name, "changed", element.type, element.file, diffs)
            )
    for key, element in old.items():
        if key not in new:
            changes.append(Change(element.element_id, element.name, "removed", element.type, element.file))
    return changes
