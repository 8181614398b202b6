"""Process owners' work on definitions: the processes home, drafts, validation, deploy with a note, diffs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lxml import etree
from sqlalchemy.orm import Session

from engine.bpmn import compare, parser
from engine.db import utcnow
from engine.errors import DefinitionError, DefinitionProblem, FieldProblem, InvalidInputError, NotFoundError
from engine.models import ProcessDraft
from engine.repositories import definitions as definitions_repo
from engine.repositories import editing as repo
from engine.services import definitions, people, trials
from engine.views import DeployResult, DiffView, DraftView, ElementChange, ProblemView, ProcessRow, TrialView

EDITORS = ("owner",)  # admins hold every role
KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}$")
MAX_NOTE = 2000
EMPTY_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
    xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="Definitions_{key}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{key}" name="{name}" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="{key}">
      <bpmndi:BPMNShape id="StartEvent_1_di" bpmnElement="StartEvent_1">
        <dc:Bounds x="180" y="160" width="36" height="36" />
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def _editor(session: Session, actor: str) -> None:
    people.require_role(people.actor(session, actor), *EDITORS)


def home(session: Session, actor: str) -> list[ProcessRow]:
    """Every process with its latest version and instances running per version; drafts of new processes too."""
    counts = repo.running_counts(session)
    drafts = {d.key for d in repo.drafts_of(session, actor)}
    rows = []
    for view in definitions.list_processes(session):
        running = tuple(sorted(((v, n) for (k, v), n in counts.items() if k == view.key), reverse=True))
        rows.append(ProcessRow(view, running, view.key in drafts))
    return rows


def new_drafts(session: Session, actor: str) -> list[DraftView]:
    """The actor's drafts of processes never deployed."""
    return [_view(d) for d in repo.drafts_of(session, actor) if definitions_repo.latest(session, d.key) is None]


def _view(row: ProcessDraft) -> DraftView:
    return DraftView(row.key, row.owner, row.bpmn_file, dict(row.files), row.base_version, row.updated_at)


def get_draft(session: Session, key: str, actor: str) -> DraftView:
    """Return the actor's draft of a process, or the latest version's files when there is none (not saved).

    :raises NotFoundError: no such process and no draft of it.
    """
    row = repo.get_draft(session, key, actor)
    if row is not None:
        return _view(row)
    latest = definitions.version_row(session, key)
    return DraftView(key, actor, latest.bpmn_file, dict(latest.files), latest.version, None)


def save_draft(
    session: Session, key: str, actor: str, files: Mapping[str, str], bpmn_file: str | None = None
) -> DraftView:
    """Keep the actor's draft of a process: BPMN and DMN files by name. Drafts never run.

    :raises PermissionDeniedError: the actor is not an owner or admin.
    :raises InvalidInputError: no BPMN file, or a file is not .bpmn/.dmn.
    :raises DefinitionError: a file is too large, not well-formed XML, or holds a DTD.
    """
    _editor(session, actor)
    if not isinstance(files, Mapping) or not files or not all(isinstance(t, str) for t in files.values()):
        raise InvalidInputError("files must map file names to XML text", [FieldProblem("files", "required")])
    bpmn_files = [name for name in files if name.endswith(".bpmn")]
    if not bpmn_files:
        raise InvalidInputError("a draft needs a .bpmn file", [FieldProblem("files", "no .bpmn file")])
    for name in files:
        if not name.endswith((".bpmn", ".dmn")) or "/" in name or "\\" in name or len(name) > 200:
            raise InvalidInputError(f"{name!r} is not a .bpmn or .dmn file name", [FieldProblem("files", name)])
    problems = parser.xml_problems([(name, text.encode("utf-8")) for name, text in files.items()])
    if problems:
        raise DefinitionError(problems)
    chosen = bpmn_file if bpmn_file in bpmn_files else bpmn_files[0]
    row = repo.get_draft(session, key, actor)
    latest = definitions_repo.latest(session, key)
    if row is None:
        if latest is None and not KEY.match(key):
            raise InvalidInputError(f"{key!r} is not a process key", [FieldProblem("key", "letters, digits, _ . -")])
        row = ProcessDraft(
            key=key, owner=actor, bpmn_file=chosen, files=dict(files), base_version=latest and latest.version
        )
        repo.add(session, row)
    else:
        row.files, row.bpmn_file, row.updated_at = dict(files), chosen, utcnow()
        session.flush()
    return _view(row)


def discard_draft(session: Session, key: str, actor: str) -> None:
    """Throw the actor's draft away.

    :raises NotFoundError: there is no draft.
    """
    row = repo.get_draft(session, key, actor)
    if row is None:
        raise NotFoundError(f"no draft of {key!r}")
    repo.delete(session, row)


def new_process(session: Session, key: str, name: str, actor: str, copy_from: str | None = None) -> DraftView:
    """Start a draft of a new process: an empty diagram, or a copy of another process under the new key.

    :raises PermissionDeniedError: the actor is not an owner or admin.
    :raises InvalidInputError: the key is malformed or taken, or the name is missing.
    :raises NotFoundError: the process to copy does not exist.
    """
    _editor(session, actor)
    key, name = (key or "").strip(), (name or "").strip()
    if not KEY.match(key):
        raise InvalidInputError(
            "key must start with a letter and hold only letters, digits, _ . -", [FieldProblem("key", "malformed")]
        )
    if definitions_repo.latest(session, key) is not None or repo.get_draft(session, key, actor) is not None:
        raise InvalidInputError(f"process {key!r} exists already", [FieldProblem("key", "taken")])
    if not name or len(name) > 300:
        raise InvalidInputError("name is required (at most 300 characters)", [FieldProblem("name", "required")])
    if copy_from:
        source = definitions.version_row(session, copy_from)
        files = {n: t for n, t in source.files.items() if n != source.bpmn_file}
        bpmn_file = f"{key}.bpmn"
        files[bpmn_file] = _rekey(source.files[source.bpmn_file], copy_from, key, name)
    else:
        bpmn_file = f"{key}.bpmn"
        files = {bpmn_file: EMPTY_BPMN.format(key=key, name=_xml_attr(name))}
    return save_draft(session, key, actor, files, bpmn_file)


def _xml_attr(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


def _rekey(xml: str, old: str, new: str, name: str) -> str:
    root = etree.fromstring(xml.encode("utf-8"), parser._parser())
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        for attr in ("id", "processRef", "bpmnElement"):
            if node.get(attr) == old:
                node.set(attr, new)
        if etree.QName(node).localname == "process" and node.get("id") == new:
            node.set("name", name)
    return str(etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode("utf-8"))


def _files(view: DraftView) -> list[tuple[str, bytes]]:
    return [(name, text.encode("utf-8")) for name, text in view.files.items()]


def _problems(
    problems: list[DefinitionProblem], files: Mapping[str, str], kind: str = "definition"
) -> list[ProblemView]:
    names = {e.element_id: e.name for e in compare.elements(files).values()}
    return [
        ProblemView(p.file, p.element_id, names.get(p.element_id or "") or None, p.line, p.message, kind)
        for p in problems
    ]


def validate(session: Session, key: str, actor: str, fallback_group: str | None = None) -> list[ProblemView]:
    """Parse the actor's draft exactly as deploy would, then run the process's scenarios against it.

    Tasks sent to the fallback group are listed as warnings (kind "warning"), which do not block a deploy.

    :raises NotFoundError: no draft and no such process.
    """
    draft = get_draft(session, key, actor)
    found: list[DefinitionProblem] = []
    parsed: list[Any] = []
    try:
        parsed = definitions.check(session, _files(draft), fallback_group)
    except DefinitionError as exc:
        found = list(exc.problems)
    if parsed and key not in {p.key for p in parsed}:
        keys = ", ".join(sorted(p.key for p in parsed))
        found.append(DefinitionProblem(draft.bpmn_file, None, None, f"the process id must stay {key!r} (found {keys})"))
    problems = _problems(found, draft.files)
    if not found:
        process = next(p for p in parsed if p.key == key)
        problems.extend(_problems(list(process.warnings), draft.files, "warning"))
        for result in trials.run_scenarios(session, key, process):
            if not result.passed:
                problems.append(
                    ProblemView(
                        draft.bpmn_file,
                        result.element_id,
                        compare.elements(draft.files).get(result.element_id or "", compare.Element("", "", "", "")).name
                        or None,
                        None,
                        f"scenario {result.name!r}: {result.message}",
                        "scenario",
                    )
                )
    return problems


def dry_run(session: Session, key: str, actor: str, steps: Any) -> TrialView:
    """Run the actor's draft (or the latest version) in memory with the given steps. Nothing is stored.

    :raises NotFoundError: no draft and no such process.
    :raises DefinitionError: the draft does not parse.
    :raises InvalidInputError: the steps are malformed.
    """
    checked = trials.check_steps(steps)
    return trials.trial(trials.parsed_process(session, key, _files(get_draft(session, key, actor))), checked)


def _note(note: str | None) -> str:
    text = (note or "").strip()
    if not text:
        raise InvalidInputError("a deploy note is required: say what changed", [FieldProblem("note", "is required")])
    if len(text) > MAX_NOTE:
        raise InvalidInputError("the deploy note is too long", [FieldProblem("note", f"at most {MAX_NOTE} characters")])
    return text


def deploy_draft(
    session: Session,
    key: str,
    actor: str,
    note: str | None,
    confirm: bool = False,
    fallback_group: str | None = None,
) -> list[DeployResult]:
    """Deploy the actor's draft as the next version with a note; the draft is then gone.

    Running instances stay on their version. Failing scenarios block the deploy unless ``confirm``; tasks
    naming no known group go to ``fallback_group`` when one is given.

    :raises PermissionDeniedError: the actor is not an owner or admin.
    :raises InvalidInputError: no note.
    :raises NotFoundError: no draft.
    :raises DefinitionError: the draft has problems, or a scenario fails and ``confirm`` is not set.
    """
    _editor(session, actor)
    text = _note(note)
    row = repo.get_draft(session, key, actor)
    if row is None:
        raise NotFoundError(f"no draft of {key!r}: save one first")
    problems = validate(session, key, actor, fallback_group)
    blocking = [p for p in problems if p.kind == "definition" or (p.kind == "scenario" and not confirm)]
    if blocking:
        raise DefinitionError([DefinitionProblem(p.file, p.element_id, p.line, p.message) for p in blocking])
    results = definitions.deploy(session, _files(_view(row)), actor, text, fallback_group)
    repo.delete(session, row)
    return results


def deploy_files(
    session: Session,
    files: list[tuple[str, bytes]],
    actor: str,
    note: str | None,
    confirm: bool = False,
    fallback_group: str | None = None,
) -> list[DeployResult]:
    """Deploy uploaded files (from the desktop modeler) with a note, after the scenarios of each process.

    :raises PermissionDeniedError: the actor is not an owner or admin.
    :raises InvalidInputError: no note.
    :raises DefinitionError: a file fails to parse or check, or a scenario fails and ``confirm`` is not set;
        nothing is stored.
    """
    _editor(session, actor)
    text = _note(note)
    if not confirm:
        failing = [
            DefinitionProblem(process.bpmn_file, r.element_id, None, f"scenario {r.name!r}: {r.message}")
            for process in definitions.check(session, files, fallback_group)
            for r in trials.run_scenarios(session, process.key, process)
            if not r.passed
        ]
        if failing:
            raise DefinitionError(failing)
    return definitions.deploy(session, files, actor, text, fallback_group)


def _side(session: Session, key: str, side: str, actor: str) -> tuple[str, dict[str, str], str]:
    if side == "draft":
        draft = get_draft(session, key, actor)
        return "draft", dict(draft.files), draft.bpmn_file
    if not side.isdigit() or not 0 < int(side) < 2**31:
        raise InvalidInputError(f"{side!r} is not a version number or 'draft'", [FieldProblem("version", side)])
    row = definitions.version_row(session, key, int(side))
    return str(row.version), dict(row.files), row.bpmn_file


def diff(session: Session, key: str, left: str, right: str, actor: str) -> DiffView:
    """Compare two versions of a process, or a version with the actor's draft ("draft").

    :raises NotFoundError: no such process, version or draft.
    :raises InvalidInputError: a side is neither a version number nor "draft".
    """
    left_label, left_files, _ = _side(session, key, left, actor)
    right_label, right_files, bpmn_file = _side(session, key, right, actor)
    changes = tuple(
        ElementChange(c.element_id, c.name, c.kind, c.type, c.file, tuple(c.changes))
        for c in compare.compare(left_files, right_files)
    )
    return DiffView(key, left_label, right_label, left_files, right_files, bpmn_file, changes)
