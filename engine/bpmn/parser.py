"""Parse and check BPMN/DMN files: hardened XML, SpiffWorkflow's Camunda parser, Teamflow's own rules."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.bpmn import camunda_io, feel, form_rules, integration, juel, lanes, serializer, timer_values
from engine.bpmn.scripting import ScriptCompileError, compile_expression, compile_script
from engine.errors import DefinitionError, DefinitionProblem

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
# Camunda 7 still reads its attributes in the namespace it inherited from Activiti.
ACTIVITI_NS = "http://activiti.org/bpmn"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
# SpiffWorkflow's own extensions that change what a task does; Teamflow reads the Camunda dialect only.
SPIFF_BEHAVIOUR = {
    "preScript",
    "postScript",
    "calledDecisionId",
    "serviceTaskOperator",
    "messagePayload",
    "messageVariable",
    "payloadExpression",
    "variableName",
    "retry",
}
DMN_NAMESPACES = (
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "https://www.omg.org/spec/DMN/20230324/MODEL/",
)
NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS}
HUMAN_TAGS = ("userTask", "manualTask", "task")
FORM_TYPES = {"string", "long", "boolean", "date", "enum", "double"}
CONSTRAINTS = {"required", "min", "max", "minlength", "maxlength", "readonly"}
MAX_FILE_BYTES = 5 * 1024 * 1024
CAMUNDA_DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")
EXTERNAL_WAY_OUT = (
    'make it an external task (camunda:type="external" camunda:topic="...") and run that code in a worker'
)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )


@dataclass
class ParsedProcess:
    """One executable process of a deployment, ready to store as a version."""

    key: str
    name: str
    documentation: str
    bpmn_file: str
    files: dict[str, str]
    spec: Any
    subprocess_specs: dict[str, Any]
    task_meta: dict[str, dict[str, Any]]
    start_groups: list[str] = field(default_factory=list)
    # Process-wide settings: business key variable, message start events, external tasks.
    process_meta: dict[str, Any] = field(default_factory=dict)
    # Human tasks naming no known group, sent to the fallback group the uploader picked.
    warnings: list[DefinitionProblem] = field(default_factory=list)
    fallback_group: str | None = None

    @property
    def content_hash(self) -> str:
        """Hash of the files' contents; renaming a file does not make a new version."""
        digest = hashlib.sha256()
        for text in sorted(self.files.values()):
            digest.update(text.encode() + b"\0")
        return digest.hexdigest()


@dataclass
class _Doc:
    name: str
    text: str
    root: Any
    kind: str  # "bpmn" or "dmn"
    lines: dict[str, int] = field(default_factory=dict)
    # Camunda input/output parameters by element id, translated at deploy.
    io: dict[str, dict[str, list[list[str]]]] = field(default_factory=dict)


def _line_of(doc: _Doc, element_id: str | None) -> int | None:
    return doc.lines.get(element_id or "")


def _load(files: Sequence[tuple[str, bytes]], problems: list[DefinitionProblem]) -> list[_Doc]:
    docs: list[_Doc] = []
    for name, content in files:
        if not name.endswith((".bpmn", ".dmn", ".bpmn20.xml", ".xml")):
            problems.append(DefinitionProblem(name, None, None, "only .bpmn and .dmn files can be deployed"))
            continue
        if len(content) > MAX_FILE_BYTES:
            problems.append(DefinitionProblem(name, None, None, "file is larger than 5 MB"))
            continue
        try:
            text = content.decode("utf-8-sig")
            root = etree.fromstring(text.encode("utf-8"), _parser())
        except UnicodeDecodeError:
            problems.append(DefinitionProblem(name, None, None, "file is not UTF-8 text"))
            continue
        except etree.XMLSyntaxError as exc:
            problems.append(DefinitionProblem(name, None, exc.lineno, f"not well-formed XML: {exc.msg}"))
            continue
        tree = root.getroottree()
        if tree.docinfo.doctype:
            problems.append(DefinitionProblem(name, None, 1, "a DOCTYPE (DTD or entities) is not allowed"))
            continue
        qname = etree.QName(root)
        if qname.namespace == BPMN_NS and qname.localname == "definitions":
            kind = "bpmn"
        elif qname.namespace in DMN_NAMESPACES and qname.localname == "definitions":
            kind = "dmn"
        else:
            problems.append(
                DefinitionProblem(name, None, root.sourceline, f"root element {root.tag} is not BPMN 2.0 or DMN")
            )
            continue
        doc = _Doc(name, text, root, kind)
        duplicates = []
        for element in root.iter():
            if isinstance(element.tag, str) and element.get("id"):
                # ids are unique among BPMN/DMN elements; Camunda extensions (form values...) reuse theirs
                if element.get("id") in doc.lines and etree.QName(element).namespace in (BPMN_NS, *DMN_NAMESPACES):
                    duplicates.append(element)
                doc.lines.setdefault(element.get("id"), element.sourceline)
        if duplicates:
            problems.extend(
                DefinitionProblem(
                    name, e.get("id"), e.sourceline, f"the id {e.get('id')} is used by more than one element"
                )
                for e in duplicates
            )
            continue
        if kind == "bpmn":
            _read_as_camunda(root)
        docs.append(doc)
    return docs


def _read_as_camunda(root: Any) -> None:
    """Read a diagram as Camunda 7 does, in the tree handed to SpiffWorkflow (the stored text is unchanged).

    Attributes and elements in the legacy Activiti namespace are Camunda's; a multi-instance
    ``loopDataInputRef`` is the collection and its ``inputDataItem`` the element variable; data stores are
    documentation (Camunda does not run them), so they and their associations are left out.
    """
    legacy = f"{{{ACTIVITI_NS}}}"
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag.startswith(legacy):
            element.tag = f"{{{CAMUNDA_NS}}}{element.tag[len(legacy) :]}"
        for key in [k for k in element.attrib if k.startswith(legacy)]:
            element.set(f"{{{CAMUNDA_NS}}}{key[len(legacy) :]}", element.attrib.pop(key))
    stores = {e.get("id") for e in root.iterfind(".//bpmn:dataStoreReference", NS)}
    for tag in ("dataInputAssociation", "dataOutputAssociation"):
        for association in list(root.iterfind(f".//bpmn:{tag}", NS)):
            refs = {_text(r) for r in association if etree.QName(r).localname in ("sourceRef", "targetRef")}
            if refs & stores:
                association.getparent().remove(association)
    for tag in ("dataStoreReference", "dataStore"):
        for element in list(root.iterfind(f".//bpmn:{tag}", NS)):
            element.getparent().remove(element)
    for loop in root.iterfind(".//bpmn:multiInstanceLoopCharacteristics", NS):
        source = loop.find("bpmn:loopDataInputRef", NS)
        if (
            source is None
            or loop.get(f"{{{CAMUNDA_NS}}}collection")
            or loop.find("bpmn:loopCardinality", NS) is not None
        ):
            continue
        loop.set(f"{{{CAMUNDA_NS}}}collection", _text(source))
        item = loop.find("bpmn:inputDataItem", NS)
        if item is not None and not loop.get(f"{{{CAMUNDA_NS}}}elementVariable"):
            name = item.get("name") or ""
            loop.set(f"{{{CAMUNDA_NS}}}elementVariable", name if name.isidentifier() else item.get("id") or "item")


def _text(element: Any) -> str:
    return (element.text or "").strip()


def _documentation(element: Any) -> str:
    docs = element.findall(f"{{{BPMN_NS}}}documentation")
    return "\n".join(_text(d) for d in docs if _text(d))


def _form_fields(task: Any) -> list[dict[str, Any]]:
    fields = []
    for xml_field in task.iterfind(".//camunda:formData/camunda:formField", NS):
        constraints = {
            c.get("name"): c.get("config") for c in xml_field.iterfind("camunda:validation/camunda:constraint", NS)
        }
        fields.append(
            {
                "id": xml_field.get("id") or "",
                "label": xml_field.get("label") or xml_field.get("id") or "",
                "type": xml_field.get("type") or "string",
                "default": _camunda_default(xml_field),
                "constraints": constraints,
                "options": [
                    {"id": v.get("id") or "", "name": v.get("name") or v.get("id") or ""}
                    for v in xml_field.iterfind("camunda:value", NS)
                ],
                "properties": _properties(xml_field),
                "line": xml_field.sourceline,
            }
        )
    return fields


def _properties(element: Any) -> dict[str, str]:
    """The ``camunda:properties`` of an element, by name (form fields name them by ``id``)."""
    found = element.findall("camunda:properties/camunda:property", NS)
    found += element.findall("bpmn:extensionElements/camunda:properties/camunda:property", NS)
    return {name: p.get("value") or "" for p in found if (name := p.get("name") or p.get("id"))}


def _scope_property(task: Any, name: str) -> str | None:
    """A property of the task, else of the nearest sub-process or process around it."""
    scopes = (f"{{{BPMN_NS}}}subProcess", f"{{{BPMN_NS}}}process")
    element = task
    while element is not None:
        if (element is task or element.tag in scopes) and (value := _properties(element).get(name)):
            return value
        element = element.getparent()
    return None


def _camunda_default(xml_field: Any) -> str | None:
    """A form field's default; a date in Camunda's own pattern (dd/MM/yyyy) becomes an ISO date."""
    value: str | None = xml_field.get("defaultValue")
    if value and xml_field.get("type") == "date" and (match := CAMUNDA_DATE.match(value.strip())):
        day, month, year = match.groups()
        return f"{year}-{month}-{day}"
    return value


def _lane_index(root: Any) -> dict[str, str]:
    index: dict[str, str] = {}
    # Deeper lanes come later in document order, so the innermost lane wins.
    for lane in root.iterfind(".//bpmn:lane", NS):
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            if ref.text:
                index[ref.text.strip()] = lane.get("name") or lane.get("id") or ""
    return index


def _task_meta(doc: _Doc) -> dict[str, dict[str, Any]]:
    lane_of = _lane_index(doc.root)
    meta: dict[str, dict[str, Any]] = {}
    for tag in HUMAN_TAGS:
        for task in doc.root.iterfind(f".//bpmn:{tag}", NS):
            element_id = task.get("id")
            meta[element_id] = {
                "type": tag,
                "name": task.get("name") or element_id,
                "documentation": _documentation(task),
                "candidate_groups": lanes.split_list(task.get(f"{{{CAMUNDA_NS}}}candidateGroups")),
                "candidate_users": lanes.split_list(task.get(f"{{{CAMUNDA_NS}}}candidateUsers")),
                "assignee": task.get(f"{{{CAMUNDA_NS}}}assignee"),
                "due_date": task.get(f"{{{CAMUNDA_NS}}}dueDate"),
                "priority": task.get(f"{{{CAMUNDA_NS}}}priority"),
                "lane": lane_of.get(element_id),
                "form": _form_fields(task),
                # What the task is about (a multi-instance item) and why it came back, as variable names.
                "item_field": _scope_property(task, "itemField"),
                "reason_field": _properties(task).get("returnReason") or None,
                "line": task.sourceline,
            }
    return meta


class _Checker:
    """Teamflow's own checks, run on the XML so that every problem carries its line."""

    def __init__(
        self,
        doc: _Doc,
        groups: Mapping[str, str],
        problems: list[DefinitionProblem],
        fallback_group: str | None = None,
        warnings: list[DefinitionProblem] | None = None,
    ) -> None:
        self.doc = doc
        self.groups = groups
        self.problems = problems
        self.fallback_group = fallback_group
        self.warnings = warnings if warnings is not None else []

    def add(self, element: Any, message: str) -> None:
        element_id = element.get("id") if element is not None else None
        line = element.sourceline if element is not None else None
        self.problems.append(DefinitionProblem(self.doc.name, element_id, line, message))

    def warn(self, element: Any, message: str) -> None:
        self.warnings.append(DefinitionProblem(self.doc.name, element.get("id"), element.sourceline, message))

    def run(self, meta: dict[str, dict[str, Any]]) -> None:
        root = self.doc.root
        for element in root.iter():
            if (
                isinstance(element.tag, str)
                and element.get("id") in ("Start", "End")
                and (etree.QName(element).namespace == BPMN_NS)
            ):
                self.add(element, "the ids 'Start' and 'End' are reserved by the engine; rename the element")
        for cond in root.iterfind(".//bpmn:conditionExpression", NS):
            self._condition(cond, cond.getparent())
        for cond in root.iterfind(".//bpmn:conditionalEventDefinition/bpmn:condition", NS):
            self._condition(cond, cond.getparent().getparent())
        self._unconditioned_choices()
        # Camunda 7 does not read an activity's ioSpecification nor the data associations between its inputs
        # and outputs and data objects: they document the model. SpiffWorkflow would fail the task for a data
        # output nobody sets.
        for spec in list(root.iterfind(".//bpmn:ioSpecification", NS)):
            activity = spec.getparent()
            if etree.QName(activity).localname == "process":
                continue
            for child in [spec, *activity.iterfind("bpmn:dataInputAssociation", NS)]:
                activity.remove(child)
            for child in list(activity.iterfind("bpmn:dataOutputAssociation", NS)):
                activity.remove(child)
        for script in root.iterfind(".//bpmn:scriptTask", NS):
            body = script.find("bpmn:script", NS)
            fmt = (script.get("scriptFormat") or "python").lower()
            if fmt not in ("python", "py", ""):
                self.add(
                    script,
                    f"{fmt} scripts cannot run in Teamflow (scripts are Python): rewrite it in Python or "
                    f"{EXTERNAL_WAY_OUT}",
                )
            elif body is not None and _text(body):
                try:
                    compile_script(body.text or "")
                except ScriptCompileError as exc:
                    self.add(script, f"script is not allowed: {exc}")
        for timer in root.iterfind(".//bpmn:timerEventDefinition", NS):
            self._timer(timer)
        integration.check(root, self.add)
        for service in root.iterfind(".//bpmn:serviceTask", NS):
            if integration.is_external(service):
                continue  # worked by an outside worker over /engine-rest/external-task
            self._service(service)
        self._java_hooks()
        self._spiff_extensions()
        self._io_parameters()
        self._messages()
        for rule in root.iterfind(".//bpmn:businessRuleTask", NS):
            if not rule.get(f"{{{CAMUNDA_NS}}}decisionRef"):
                self.add(rule, "business rule task has no camunda:decisionRef")
        for tag in ("message", "signal", "error", "escalation"):
            for element in root.iterfind(f"bpmn:{tag}", NS):
                if not element.get("name") and tag in ("message", "signal"):
                    self.add(element, f"{tag} has no name")
        for element_id, task_meta in meta.items():
            self._human_task(self.doc.root.find(f".//*[@id='{element_id}']"), task_meta)

    def _messages(self) -> None:
        """Refuse message events and tasks that name no declared message.

        A message wait that nothing in the instance sends is fine: other systems correlate it over the
        API (``POST /engine-rest/message``) by the message's name.
        """
        declared = integration.message_names(self.doc.root)
        for element in self.doc.root.iter(f"{{{BPMN_NS}}}receiveTask", f"{{{BPMN_NS}}}sendTask"):
            ref = element.get("messageRef")
            if ref and ref not in declared:
                self.add(element, f"messageRef {ref!r} names no bpmn:message of this file")
        for definition in self.doc.root.iter(f"{{{BPMN_NS}}}messageEventDefinition"):
            ref = definition.get("messageRef")
            if ref and ref not in declared:
                self.add(definition.getparent(), f"messageRef {ref!r} names no bpmn:message of this file")

    def _service(self, service: Any) -> None:
        if service.get(f"{{{CAMUNDA_NS}}}class"):
            self.add(
                service,
                f"Java class {service.get(f'{{{CAMUNDA_NS}}}class')!r} cannot run in Teamflow; {EXTERNAL_WAY_OUT}",
            )
        elif service.get(f"{{{CAMUNDA_NS}}}delegateExpression"):
            self.add(
                service,
                f"delegate expression {service.get(f'{{{CAMUNDA_NS}}}delegateExpression')!r} names a "
                f"Java bean, which cannot run in Teamflow; {EXTERNAL_WAY_OUT}",
            )
        elif service.get(f"{{{CAMUNDA_NS}}}expression"):
            self._expression_task(service)
        else:
            self.add(
                service,
                "service tasks are not supported: Teamflow does not call external services; "
                "use a script task or a user task",
            )

    def _expression_task(self, service: Any) -> None:
        """Run a ``camunda:expression`` that needs no Java bean as a script storing its camunda:resultVariable."""
        source = service.get(f"{{{CAMUNDA_NS}}}expression")
        try:
            translated = juel.translate(source)
            compile_expression(translated)
        except (juel.JuelError, ScriptCompileError) as exc:
            detail = f" ({exc.message} at position {exc.position})" if isinstance(exc, juel.JuelError) else ""
            self.add(
                service,
                f"expression {source!r} calls a Java bean{detail}, which cannot run in Teamflow; {EXTERNAL_WAY_OUT}",
            )
            return
        result = (service.get(f"{{{CAMUNDA_NS}}}resultVariable") or "").strip()
        if result and (not result.isidentifier() or result.startswith("_")):
            self.add(service, f"camunda:resultVariable {result!r} must be a variable name")
            return
        service.tag = f"{{{BPMN_NS}}}scriptTask"
        service.set("scriptFormat", "python")
        script = etree.SubElement(service, f"{{{BPMN_NS}}}script")
        script.text = f"{result} = {translated}" if result else translated

    def _spiff_extensions(self) -> None:
        """Refuse SpiffWorkflow's own behaviour extensions, which this engine does not read."""
        for element in self.doc.root.iter(f"{{{SPIFF_NS}}}*"):
            name = etree.QName(element).localname
            if name not in SPIFF_BEHAVIOUR:
                continue  # unit tests and other metadata change nothing when the process runs
            owner = element.getparent()
            while (
                owner is not None
                and etree.QName(owner).localname == "extensionElements"
                or (owner is not None and etree.QName(owner).namespace == SPIFF_NS)
            ):
                owner = owner.getparent()
            self.add(
                owner,
                f"spiffworkflow:{name} is SpiffWorkflow's own extension, which Teamflow does not read; "
                "use the Camunda form (a script task, camunda:decisionRef, an external task)",
            )

    def _io_parameters(self) -> None:
        for io in self.doc.root.iterfind(".//bpmn:extensionElements/camunda:inputOutput", NS):
            element = io.getparent().getparent()
            try:
                mapping = camunda_io.read(element)
            except juel.JuelError as exc:
                self.add(element, f"camunda:inputOutput: {exc.message} at position {exc.position}")
            except camunda_io.IoParameterError as exc:
                way_out = f"; {EXTERNAL_WAY_OUT}" if "script" in str(exc) else ""
                self.add(element, f"camunda:inputOutput: {exc}{way_out}")
            else:
                if mapping and element.get("id"):
                    self.doc.io[element.get("id")] = mapping

    def _java_hooks(self) -> None:
        """Refuse listeners and connectors that run Java or non-Python scripts, which Teamflow would skip."""
        for tag in ("executionListener", "taskListener"):
            for listener in self.doc.root.iterfind(f".//camunda:{tag}", NS):
                owner = listener.getparent().getparent()
                script = listener.find("camunda:script", NS)
                if listener.get("class") or listener.get("delegateExpression"):
                    what = listener.get("class") or listener.get("delegateExpression")
                    self.add(owner, f"{tag} {what!r} runs Java, which cannot run in Teamflow; {EXTERNAL_WAY_OUT}")
                elif listener.get("expression"):
                    self.add(
                        owner, f"{tag} expression {listener.get('expression')!r} is not supported; {EXTERNAL_WAY_OUT}"
                    )
                elif script is not None:
                    fmt = script.get("scriptFormat") or ""
                    self.add(owner, f"{tag} with a {fmt} script cannot run in Teamflow; {EXTERNAL_WAY_OUT}")
        for connector in self.doc.root.iterfind(".//camunda:connector", NS):
            self.add(
                connector.getparent().getparent(), f"Camunda connectors cannot run in Teamflow; {EXTERNAL_WAY_OUT}"
            )

    def _unconditioned_choices(self) -> None:
        """A non-default flow out of an exclusive gateway without a condition is taken when reached, as in Camunda.

        Camunda 7 tries the outgoing flows in order and takes the first whose condition holds, a flow without
        a condition holding always; the owner is warned, since later flows can then never be taken.
        """
        for gateway in self.doc.root.iterfind(".//bpmn:exclusiveGateway", NS):
            gateway_id = gateway.get("id")
            flows = [
                f
                for f in gateway.getparent().iterfind("bpmn:sequenceFlow", NS)
                if f.get("sourceRef") == gateway_id and f.get("id") != gateway.get("default")
            ]
            if len(flows) < 2:
                continue
            for flow in flows:
                if flow.find("bpmn:conditionExpression", NS) is None:
                    cond = etree.SubElement(flow, f"{{{BPMN_NS}}}conditionExpression")
                    cond.text = "True"
                    self.warn(flow, "this flow has no condition: it is taken whenever the gateway reaches it")

    def _condition(self, cond: Any, element: Any) -> None:
        source = _text(cond)
        if feel.is_feel(source, cond.get("language")):
            try:
                python = feel.translate(source)
                compile_expression(python)
            except juel.JuelError as exc:
                self.add(element, f"FEEL condition {source!r}: {exc.message} at position {exc.position}")
            except ScriptCompileError as exc:
                self.add(element, f"FEEL condition {source!r} cannot be translated: {exc}")
            else:
                cond.text = f"juel_bool({python})"
                cond.attrib.pop("language", None)
            return
        if (cond.get("language") or "").lower() not in ("", "python", "juel"):
            self.add(element, f"condition language {cond.get('language')!r} is not supported; use JUEL or Python")
            return
        if juel.is_juel(source):
            translated = self._juel(element, source, "condition")
            if translated is not None:
                cond.text = f"juel_bool({translated})"
            return
        try:
            compile_expression(source)
        except ScriptCompileError as exc:
            self.add(element, f"condition {source!r} is not a valid expression: {exc}")

    def _juel(self, element: Any, source: str, what: str) -> str | None:
        """Translate a JUEL text, or report it with its position; return the Python expression."""
        try:
            translated = juel.translate(source)
            compile_expression(translated)
        except juel.JuelError as exc:
            self.add(element, f"{what} {source!r}: {exc.message} at position {exc.position}")
            return None
        except ScriptCompileError as exc:
            self.add(element, f"{what} {source!r} cannot be translated: {exc}")
            return None
        return translated

    def _timer(self, timer: Any) -> None:
        event = timer.getparent()
        for kind in ("timeDuration", "timeDate", "timeCycle"):
            node = timer.find(f"bpmn:{kind}", NS)
            if node is None:
                continue
            source = _text(node)
            try:
                node.text = timer_values.timer_source(kind, source)
            except juel.JuelError as exc:
                self.add(event, f"timer {kind} {source!r}: {exc.message} at position {exc.position}")
            except timer_values.TimerValueError as exc:
                self.add(event, str(exc))
            return
        self.add(event, "timer has no timeDuration, timeDate or timeCycle")

    def _human_task(self, task: Any, meta: dict[str, Any]) -> None:
        if task is None:
            return
        groups = lanes.resolve_groups(meta, self.groups)
        if meta["candidate_users"]:
            self.add(task, "camunda:candidateUsers is not supported; use camunda:candidateGroups or camunda:assignee")
        unknown = [g for g in groups if not juel.is_juel(g) and g not in self.groups]
        fallback = self.fallback_group
        if fallback and (len(unknown) == len(groups)):
            named = f"names unknown groups ({', '.join(unknown)})" if unknown else "names no known group"
            self.warn(task, f"task {named}; it goes to the fallback group {fallback!r}")
            return self._task_attributes(task, meta)
        if not groups and not meta["assignee"]:
            self.add(task, "task has no camunda:candidateGroups, assignee or lane that maps to a known group")
        for group in unknown:
            known = ", ".join(sorted(self.groups))
            self.add(task, f"candidate group {group!r} is not a known group (known: {known})")
        self._task_attributes(task, meta)

    def _task_attributes(self, task: Any, meta: dict[str, Any]) -> None:
        for attr in ("assignee", "priority"):
            value = meta[attr]
            if value and (error := lanes.check_expression_attr(value)):
                self.add(task, f"camunda:{attr}: {error}")
        for group in meta["candidate_groups"]:
            if error := lanes.check_expression_attr(group):
                self.add(task, f"camunda:candidateGroups: {error}")
        if meta["priority"] and not juel.is_juel(meta["priority"]):
            if not meta["priority"].strip().lstrip("-").isdigit():
                self.add(task, f"camunda:priority {meta['priority']!r} is not an integer")
        if meta["due_date"] and (error := lanes.check_due_date(meta["due_date"])):
            self.add(task, f"camunda:dueDate: {error}")
        seen: set[str] = set()
        for spec in meta["form"]:
            self._form_field(task, spec, seen)
        by_id = {spec["id"]: spec for spec in meta["form"]}
        for spec in meta["form"]:
            for message in form_rules.check(spec, by_id):
                self.problems.append(DefinitionProblem(self.doc.name, task.get("id"), spec["line"], message))

    def _form_field(self, task: Any, spec: dict[str, Any], seen: set[str]) -> None:
        fid = spec["id"]

        def bad(message: str) -> None:
            self.problems.append(DefinitionProblem(self.doc.name, task.get("id"), spec["line"], message))

        if not fid.isidentifier() or fid.startswith("_"):
            bad(f"form field id {fid!r} must be a Python identifier not starting with '_'")
        if fid in seen:
            bad(f"form field {fid!r} is declared twice")
        seen.add(fid)
        if spec["type"] not in FORM_TYPES:
            bad(f"form field {fid!r} has unsupported type {spec['type']!r}")
        if spec["type"] == "enum" and not spec["options"]:
            bad(f"enum form field {fid!r} has no options")
        for name, config in spec["constraints"].items():
            if name not in CONSTRAINTS:
                bad(f"form field {fid!r} has unknown constraint {name!r}")
            elif name in ("min", "max", "minlength", "maxlength"):
                try:
                    float(config)
                except (TypeError, ValueError):
                    bad(f"form field {fid!r}: constraint {name} needs a number, got {config!r}")


def _dmn_check(doc: _Doc, problems: list[DefinitionProblem]) -> None:
    ns = etree.QName(doc.root).namespace
    decisions = doc.root.findall(f"{{{ns}}}decision")
    tables = [d for d in decisions if d.find(f"{{{ns}}}decisionTable") is not None]
    if not tables:
        problems.append(DefinitionProblem(doc.name, None, doc.root.sourceline, "DMN file has no decision table"))
    if len(tables) > 1:
        problems.append(
            DefinitionProblem(
                doc.name, tables[1].get("id"), tables[1].sourceline, "a DMN file may hold only one decision table"
            )
        )
    for table in doc.root.iter(f"{{{ns}}}decisionTable"):
        policy = table.get("hitPolicy", "UNIQUE")
        if policy not in ("UNIQUE", "FIRST", "COLLECT"):
            problems.append(
                DefinitionProblem(doc.name, table.get("id"), table.sourceline, f"hit policy {policy} is not supported")
            )
    for entry in doc.root.iter(f"{{{ns}}}inputEntry", f"{{{ns}}}outputEntry"):
        text_node = entry.find(f"{{{ns}}}text")
        source = _text(text_node) if text_node is not None else ""
        if source in ("", "-"):
            continue
        candidates = [source, f"v {source}", source.replace("?", "v")]
        if not any(_compiles(c) for c in candidates):
            rule = entry.getparent()
            problems.append(
                DefinitionProblem(
                    doc.name,
                    rule.get("id"),
                    entry.sourceline,
                    f"cell {source!r} is not a Python expression (FEEL is not supported)",
                )
            )


def _compiles(source: str) -> bool:
    try:
        compile_expression(source)
    except ScriptCompileError:
        return False
    return True


def _spiff_problem(exc: Exception, docs: Sequence[_Doc], default_file: str) -> DefinitionProblem:
    spec = getattr(exc, "task_spec", None)
    element_id = getattr(exc, "id", None) or getattr(spec, "bpmn_id", None)
    file_name = getattr(exc, "file_name", "") or default_file
    line = None
    for doc in docs:
        if doc.name == file_name or (element_id and element_id in doc.lines):
            file_name = doc.name
            line = _line_of(doc, element_id)
            if line:
                break
    message = str(exc.args[0]) if exc.args else exc.__class__.__name__
    if isinstance(exc, KeyError):
        message = f"missing attribute {message}"
    elif not isinstance(exc, SpiffWorkflowException):
        message = f"{exc.__class__.__name__}: {message}"
    return DefinitionProblem(file_name, element_id or None, line, message)


def parse_deployment(
    files: Sequence[tuple[str, bytes]], groups: Mapping[str, str], fallback_group: str | None = None
) -> list[ParsedProcess]:
    """Parse and check a set of files; return one ParsedProcess per executable process.

    :param files: (file name, content) pairs of .bpmn and .dmn files.
    :param groups: known group ids mapped to their names, for lanes and candidate groups.
    :param fallback_group: the group that gets human tasks naming no known group (they are then warnings,
        listed in each process's ``warnings``); without it such tasks are problems.
    :raises DefinitionError: with every problem found, each naming file, element and line.
    """
    problems: list[DefinitionProblem] = []
    if fallback_group is not None and fallback_group not in groups:
        known = ", ".join(sorted(groups))
        message = f"fallback group {fallback_group!r} is not a known group (known: {known})"
        raise DefinitionError([DefinitionProblem(files[0][0] if files else "", None, None, message)])
    docs = _load(files, problems)
    if problems:
        raise DefinitionError(problems)
    bpmn_docs = [d for d in docs if d.kind == "bpmn"]
    dmn_docs = [d for d in docs if d.kind == "dmn"]
    if not bpmn_docs:
        raise DefinitionError([DefinitionProblem(files[0][0] if files else "", None, None, "no BPMN file given")])

    parser: CamundaParser = integration.TeamflowParser()
    decision_files: dict[str, _Doc] = {}
    for doc in dmn_docs:
        _dmn_check(doc, problems)
        ns = etree.QName(doc.root).namespace
        for decision in doc.root.findall(f"{{{ns}}}decision"):
            if decision.get("id") in decision_files:
                problems.append(
                    DefinitionProblem(doc.name, decision.get("id"), decision.sourceline, "decision id used twice")
                )
            decision_files[decision.get("id")] = doc
    if problems:
        raise DefinitionError(problems)
    for doc in dmn_docs:
        try:
            parser.add_dmn_xml(doc.root, filename=doc.name)
        except Exception as exc:  # Spiff raises bare errors for some malformed tables
            problems.append(_spiff_problem(exc, [doc], doc.name))

    metas: dict[str, dict[str, dict[str, Any]]] = {}
    warnings: dict[str, list[DefinitionProblem]] = {}
    for doc in bpmn_docs:
        meta = _task_meta(doc)
        metas[doc.name] = meta
        before = len(problems)
        _Checker(doc, groups, problems, fallback_group, warnings.setdefault(doc.name, [])).run(meta)
        if len(problems) > before:
            continue  # SpiffWorkflow's own errors on a flagged file are noise (bare KeyErrors and the like)
        try:
            parser.add_bpmn_xml(doc.root, filename=doc.name)
        except Exception as exc:
            problems.append(_spiff_problem(exc, [doc], doc.name))
    if problems:
        raise DefinitionError(problems)

    results: list[ParsedProcess] = []
    for doc in bpmn_docs:
        for process in doc.root.iterfind("bpmn:process", NS):
            if process.get("isExecutable", "true") != "true":
                continue
            key = process.get("id")
            try:
                spec = parser.get_spec(key)
                subprocess_specs = parser.get_subprocess_specs(key)
            except (ValidationException, SpiffWorkflowException, Exception) as exc:
                problems.append(_spiff_problem(exc, bpmn_docs, doc.name))
                continue
            serializer.normalize_specs(spec, subprocess_specs)
            _attach_io(spec, subprocess_specs, bpmn_docs)
            try:
                json.dumps(serializer.dump_spec(spec, subprocess_specs))
            except Exception as exc:
                problems.append(
                    DefinitionProblem(
                        doc.name, key, process.sourceline, f"process uses an element Teamflow cannot store: {exc}"
                    )
                )
                continue
            used_docs = {doc.name: doc}
            for sub_key in subprocess_specs:
                for other in bpmn_docs:
                    if other.root.find(f"bpmn:process[@id='{sub_key}']", NS) is not None:
                        used_docs[other.name] = other
            task_meta: dict[str, dict[str, Any]] = {}
            file_texts: dict[str, str] = {}
            for used in used_docs.values():
                task_meta.update(metas[used.name])
                file_texts[used.name] = used.text
                for rule in used.root.iterfind(".//bpmn:businessRuleTask", NS):
                    decision_doc = decision_files.get(rule.get(f"{{{CAMUNDA_NS}}}decisionRef"))
                    if decision_doc is not None:
                        file_texts[decision_doc.name] = decision_doc.text
            for info in task_meta.values():
                info["groups"] = _known_or_fallback(lanes.resolve_groups(info, groups), groups, fallback_group)
                info["juel"] = lanes.translations(info)
            results.append(
                ParsedProcess(
                    key=key,
                    name=process.get("name") or _participant_name(doc.root, key) or key,
                    documentation=_documentation(process),
                    bpmn_file=doc.name,
                    files=file_texts,
                    spec=spec,
                    subprocess_specs=subprocess_specs,
                    task_meta=task_meta,
                    start_groups=_start_groups(process, doc.root, groups),
                    process_meta=_process_meta(process, doc.root, used_docs.values()),
                    warnings=[w for name in used_docs for w in warnings.get(name, [])],
                    fallback_group=fallback_group,
                )
            )
    if problems:
        raise DefinitionError(problems)
    if not results:
        raise DefinitionError(
            [DefinitionProblem(bpmn_docs[0].name, None, None, 'no executable process (isExecutable="true")')]
        )
    return results


def _process_meta(process: Any, root: Any, used_docs: Any) -> dict[str, Any]:
    external: dict[str, Any] = {}
    for used in used_docs:
        external.update(integration.external_tasks(used.root))
    return {
        "business_key_field": integration.business_key_field(process),
        # The variable whose value replaces the automatic title once entered (customer, position, campaign).
        "title_field": _properties(process).get("titleField") or None,
        "message_starts": integration.message_starts(process, root),
        "external_tasks": external,
    }


def _attach_io(spec: Any, subprocess_specs: dict[str, Any], docs: Sequence[_Doc]) -> None:
    """Keep each task's translated camunda:inputOutput on its spec."""
    io = {element_id: mapping for doc in docs for element_id, mapping in doc.io.items()}
    if not io:
        return
    for process in [spec, *subprocess_specs.values()]:
        for task_spec in process.task_specs.values():
            mapping = io.get(getattr(task_spec, "bpmn_id", None) or "")
            if mapping is not None:
                camunda_io.attach(task_spec, mapping)


def _known_or_fallback(resolved: list[str], groups: Mapping[str, str], fallback: str | None) -> list[str]:
    """Keep a task's known groups and expressions; with none left, the fallback group (if any)."""
    if fallback is None:
        return resolved
    kept = [g for g in resolved if juel.is_juel(g) or g in groups]
    return kept or [fallback]


def _participant_name(root: Any, key: str) -> str | None:
    participant = root.find(f".//bpmn:participant[@processRef='{key}']", NS)
    return participant.get("name") if participant is not None else None


def _start_groups(process: Any, root: Any, groups: Mapping[str, str]) -> list[str]:
    """Groups whose members may start the process: camunda:candidateStarterGroups, else its start event's lane."""
    declared = lanes.split_list(process.get(f"{{{CAMUNDA_NS}}}candidateStarterGroups"))
    if declared:
        return declared
    lane_of = _lane_index(root)
    found = []
    for start in process.iterfind("bpmn:startEvent", NS):
        group = lanes.lane_group(lane_of.get(start.get("id")), groups)
        if group and group not in found:
            found.append(group)
    return found


def decision_index(files: Sequence[tuple[str, bytes]]) -> tuple[set[str], dict[str, str]]:
    """Return the decision ids BPMN files refer to, and the DMN file defining each decision id.

    Files that do not parse are skipped here; ``parse_deployment`` reports them.
    """
    referenced: set[str] = set()
    defined: dict[str, str] = {}
    for name, content in files:
        try:
            root = etree.fromstring(content, _parser())
        except (etree.XMLSyntaxError, ValueError):
            continue
        qname = etree.QName(root)
        if qname.namespace == BPMN_NS:
            for rule in root.iterfind(".//bpmn:businessRuleTask", NS):
                if rule.get(f"{{{CAMUNDA_NS}}}decisionRef"):
                    referenced.add(rule.get(f"{{{CAMUNDA_NS}}}decisionRef"))
        elif qname.namespace in DMN_NAMESPACES:
            for decision in root.findall(f"{{{qname.namespace}}}decision"):
                defined.setdefault(decision.get("id") or "", name)
    return referenced, defined


def xml_problems(files: Sequence[tuple[str, bytes]]) -> list[DefinitionProblem]:
    """Check only that files are .bpmn/.dmn, small enough, well-formed and free of DTDs (as deploy does first)."""
    problems: list[DefinitionProblem] = []
    _load(files, problems)
    return problems
