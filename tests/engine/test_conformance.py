"""Conformance: every third-party BPMN/DMN file in ../shared/conformance either runs or is rejected clearly.

Each file is tried twice:

- ``published``: the file as its authors wrote it, with the files of its folder that it needs (called
  processes, referenced decisions), deployed as a Camunda user would: with a fallback group (``team-lead``)
  for user tasks that name no known group. A DMN file is paired with a tiny process that calls its first
  decision. Its outcome (completed, waiting as designed, error, refused with reasons) is recorded, and
  ``test_outcomes_meet_the_bar`` prints the table and the counts and checks them (docs/conformance.md).
- ``adapted``: every process forced executable and every human task given the group ``team-lead``, so that
  the checks and the run get past Teamflow's group rule and show what else the file exercises.

Parsing must succeed or raise ``DefinitionError`` whose problems each name one of the given files and carry a
message a process owner can read. A file that parses is deployed and run through the services on SQLite: the
instance must end completed, in the error state with a message, or still running with something to wait for.
No other exception may escape.

Known engine bugs are listed in ``KNOWN_BUGS`` as strict expected failures; remove an entry once it is fixed.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy.orm import Session, sessionmaker

from engine import (
    ConflictError,
    DefinitionError,
    NotFoundError,
    definitions,
    external_tasks,
    instances,
    make_engine,
    make_session_factory,
    messages,
    people,
    task_queue,
    timers,
    utcnow,
)
from engine.bpmn.parser import parse_deployment
from engine.schema import upgrade
from engine.views import FormFieldView

CORPUS = Path(
    os.environ.get("TEAMFLOW_CONFORMANCE_DIR") or Path(__file__).resolve().parents[2].parent / "shared" / "conformance"
)

if not CORPUS.is_dir():
    if os.environ.get("CI"):
        pytest.fail(f"the conformance corpus is missing at {CORPUS}, and CI is set", pytrace=False)
    pytest.skip(f"no conformance corpus at {CORPUS}", allow_module_level=True)

GROUPS = {
    "team-lead": "团队负责人",
    "promotion": "市场推广组",
    "sales": "销售组",
    "service": "客户服务组",
    "hr": "人力资源",
    "risk": "风控合规",
    "departments": "相关部门",
}
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
ACTOR = "conformance-manager"
FALLBACK_GROUP = "team-lead"
WORKER = "conformance-worker"
MAX_STEPS = 50
SECONDS_PER_FILE = 20

# Start data the fixtures' own tests give (see MANIFEST.md, "inputs given").
START_DATA: dict[str, dict[str, Any]] = {
    "inclusive_gateway.bpmn": {"u": 1, "v": 0, "w": 1},
    "lanes.bpmn": {"NeedClarification": "No"},
    "timer-non-interrupt-boundary.bpmn": {"work_done": "Yes", "delay_reason": "none"},
    "collaboration.bpmn": {"lover_name": "Alice"},
    "call_activity_end_event.bpmn": {"remove_this_var": 1},
    "call_activity_call_activity.bpmn": {"remove_this_var": 1},
    "call_activity_with_error.bpmn": {"remove_this_var": 1},
    "parallel_multiinstance_loop_input.bpmn": {"input_data": [1, 2, 3]},
    "spiff_multiinstance.bpmn": {"input_data": [1, 2, 3]},
    "standard_loop.bpmn": {"done": True},
    "transaction.bpmn": {"quantity": 1, "value": "1"},
    "ExclusiveGatewayIfElseAndDecision.bpmn": {"x": 1},
    "signal_event_payload.bpmn": {"v1": 1, "v2": 2, "v3": 3},
    "prescript_postscript.bpmn": {"a": 1, "b": 2},
    "order-handling.bpmn": {"invoiceId": "1"},
    # Its approval form is an external HTML page (camunda:formKey) that sets "approved".
    "fox-invoice_generated_forms.bpmn": {"approved": True},
    "loan-granting.bpmn": {"creditScores": [1, 2, 3]},
    "process.bpmn": {"foo": "bar"},
    "camunda-testing-job-announcement.bpmn": {"facebook": True, "twitter": True},
    "camunda-testing-job-announcement-publication.bpmn": {"facebook": True, "twitter": True},
}
# Two DMN files of spiff/camunda/data define the same decision id; each process has its own.
PREFERRED_DMN = {"DMNMultiInstance.bpmn": "test_integer_decision_multi.dmn"}

# Signs of an internal error leaking into a problem message instead of words a process owner reads.
INTERNAL = re.compile(
    r"\{https?://|unexpected keyword argument|object has no attribute|is not JSON serializable|Traceback"
    r"|^(KeyError|TypeError|AttributeError|IndexError|ValueError)\b"
)

# Outcomes of the published runs, by file: (completed | waiting | error | refused, reasons).
OUTCOMES: dict[str, tuple[str, str]] = {}

# Files the MANIFEST shows completing in SpiffWorkflow's in-memory run that are refused here on purpose,
# with the words the refusal must contain: they call Java (which Camunda too runs only with the Java code
# deployed beside it) or rely on SpiffWorkflow's own extension namespace.
REFUSED_ON_PURPOSE = {
    "miwg/Reference/C.1.0.bpmn": "delegate expression '#{archiveService}'",
    "camunda/message-start/instantiating_process.bpmn": "Java class",
    "camunda/job-announcement/camunda-testing-job-announcement.bpmn": "calls a Java bean",
    "camunda/job-announcement/camunda-testing-job-announcement-publication.bpmn": "calls a Java bean",
    "camunda/parse-bpmn/process.bpmn": "groovy scripts cannot run",
    "spiff/spiff/data/business_rule_task.bpmn": "spiffworkflow:calledDecisionId",
    "spiff/spiff/data/prescript_postscript.bpmn": "spiffworkflow:preScript",
    "spiff/spiff/data/signal_event_payload.bpmn": "spiffworkflow:payloadExpression",
    "spiff/spiff/data/correlation.bpmn": "spiffworkflow:messagePayload",
    "spiff/spiff/data/spiff_multiinstance.bpmn": "spiffworkflow:",
    # A negative fixture in the MANIFEST (its test supplies a scripts service); its input parameter
    # "Fact.type" is no variable name a Python expression can use.
    "spiff/camunda/data/random_fact.bpmn": "'Fact.type' must be a variable name",
}
# A fixture whose test puts a function into the script environment (custom_function).
EXPECTED_ERRORS = {
    "spiff/bpmn/data/timer-cycle-start.bpmn": "custom_function",
}

# Engine bugs this corpus brought out, as strict expected failures; all are fixed now.
KNOWN_BUGS: dict[tuple[str, str], str] = {}


def _corpus_files() -> list[str]:
    found = [*CORPUS.rglob("*.bpmn"), *CORPUS.rglob("*.dmn")]
    return sorted(str(p.relative_to(CORPUS)) for p in found)


def _cases() -> list[Any]:
    cases = []
    for rel in _corpus_files():
        modes = ["published"] if rel.endswith(".dmn") else ["published", "adapted"]
        for mode in modes:
            marks = []
            if (mode, rel) in KNOWN_BUGS:
                marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[(mode, rel)]))
            cases.append(pytest.param(mode, rel, id=f"{mode}:{rel}", marks=marks))
    return cases


# ---------------------------------------------------------------- input files


def _xml(data: bytes) -> Any:
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))


def _companions(path: Path) -> list[tuple[str, bytes]]:
    """Files of the same folder that the file needs: processes it calls and decisions it references."""
    root = _xml(path.read_bytes())
    own = {p.get("id") for p in root.iter(f"{{{BPMN_NS}}}process")}
    called = {e.get("calledElement") for e in root.iter(f"{{{BPMN_NS}}}callActivity")} - own - {None}
    rules = root.iter(f"{{{BPMN_NS}}}businessRuleTask")
    refs = {e.get(f"{{{CAMUNDA_NS}}}decisionRef") for e in rules} - {None}
    found: list[tuple[str, bytes]] = []
    for other in sorted(path.parent.glob("*.bpmn")):
        if other != path and called:
            ids = {p.get("id") for p in _xml(other.read_bytes()).iter(f"{{{BPMN_NS}}}process")}
            if ids & called:
                found.append((other.name, other.read_bytes()))
    dmn_files = sorted([*path.parent.glob("*.dmn"), *path.parent.glob("dmn/*.dmn")])
    for ref in sorted(refs):
        defining = [d for d in dmn_files if f'id="{ref}"'.encode() in d.read_bytes()]
        preferred = [d for d in defining if d.name == PREFERRED_DMN.get(path.name)]
        for dmn in (preferred or defining)[:1]:
            if dmn.name not in {name for name, _ in found}:
                found.append((dmn.name, dmn.read_bytes()))
    return found


def _decision_probe(dmn: Path) -> tuple[str, bytes]:
    """A minimal process whose business rule task calls the DMN file's first decision."""
    root = _xml(dmn.read_bytes())
    decisions = [e for e in root if isinstance(e.tag, str) and etree.QName(e).localname == "decision"]
    decision_id = decisions[0].get("id") if decisions else "none"
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="{BPMN_NS}" xmlns:camunda="{CAMUNDA_NS}" id="probe_defs" targetNamespace="probe">
  <bpmn:process id="dmn_probe" name="Decision probe" isExecutable="true">
    <bpmn:startEvent id="probe_start"/>
    <bpmn:sequenceFlow id="probe_f1" sourceRef="probe_start" targetRef="probe_rule"/>
    <bpmn:businessRuleTask id="probe_rule" name="Decide" camunda:decisionRef="{decision_id}"/>
    <bpmn:sequenceFlow id="probe_f2" sourceRef="probe_rule" targetRef="probe_end"/>
    <bpmn:endEvent id="probe_end"/>
  </bpmn:process>
</bpmn:definitions>"""
    return ("dmn_probe.bpmn", xml.encode())


def _adapt(data: bytes) -> bytes:
    """Force every process executable and give every human task the group team-lead."""
    root = _xml(data)
    for tag in ("userTask", "manualTask", "task"):
        for task in root.iter(f"{{{BPMN_NS}}}{tag}"):
            task.set(f"{{{CAMUNDA_NS}}}candidateGroups", "team-lead")
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        process.set("isExecutable", "true")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _input_files(rel: str, mode: str) -> list[tuple[str, bytes]]:
    path = CORPUS / rel
    if path.suffix == ".dmn":
        return [_decision_probe(path), (path.name, path.read_bytes())]
    files = [(path.name, path.read_bytes()), *_companions(path)]
    if mode == "adapted":
        files = [(name, _adapt(data) if name.endswith(".bpmn") else data) for name, data in files]
    return files


# ---------------------------------------------------------------- database and time limit


class FileTookTooLong(BaseException):
    """Raised by the alarm; a BaseException so that the timer worker's ``except Exception`` cannot hide it."""


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("conformance") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@contextmanager
def _database(template_db: Path, path: Path) -> Iterator[sessionmaker[Session]]:
    """A fresh SQLite database (SQLite only: the corpus tests the engine, not the database)."""
    shutil.copy(template_db, path)
    engine = make_engine(f"sqlite:///{path}")
    definitions.clear_cache()
    factory = make_session_factory(engine)
    with factory.begin() as session:
        people.create_user(session, ACTOR, "secret", groups=list(GROUPS), roles=["staff", "manager"])
    yield factory
    engine.dispose()


@pytest.fixture
def local_factory(template_db: Path, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    with _database(template_db, tmp_path / "conformance.db") as factory:
        yield factory


@contextmanager
def _limited() -> Iterator[None]:
    def alarm(signum: int, frame: Any) -> None:
        raise FileTookTooLong(f"the file took longer than {SECONDS_PER_FILE} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(SECONDS_PER_FILE)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def time_limit() -> Iterator[None]:
    with _limited():
        yield


# ---------------------------------------------------------------- running


def _value_for(field: FormFieldView) -> Any:
    if field.default is not None:
        return field.default
    if field.type == "boolean":
        return True
    if field.type == "long":
        return int(field.min) if field.min is not None else 1
    if field.type == "double":
        return float(field.min) if field.min is not None else 1.0
    if field.type == "date":
        return date.today().isoformat()
    if field.type == "enum":
        return field.options[0].id if field.options else ""
    return "Yes".ljust(field.minlength or 0, "s")


def _drive(
    factory: sessionmaker[Session],
    key: str,
    data: dict[str, Any],
    message_names: list[str] = (),  # type: ignore[assignment]
) -> tuple[str, str]:
    """Start an instance and move it on until it ends or waits for something the test cannot give.

    Timers are fired before tasks are completed (as if people were slow), so boundary timers get their turn.
    With neither, the messages the files declare are sent to the instance, as another system would.
    Returns the final status and, for an error, its message.
    """
    with factory.begin() as session:
        instance_id = instances.start_instance(session, key, ACTOR, data).id
    rounds: dict[str, int] = {}
    for _ in range(MAX_STEPS):
        with factory.begin() as session:
            detail = instances.get_instance(session, instance_id)
            if detail.status != "running":
                return detail.status, detail.error.message if detail.error else ""
            due = [t.due_at for t in detail.timers]
            open_tasks = task_queue.list_tasks(session, instance_id=instance_id, status="open")
        # A loop that goes round and round waits for someone to interrupt it: send what it may be waiting for.
        if open_tasks and rounds.get(open_tasks[0].element_id, 0) >= 3:
            if _send_a_message(factory, instance_id, message_names):
                rounds.clear()
                continue
        with factory.begin() as session:
            if not due and open_tasks:
                rounds[open_tasks[0].element_id] = rounds.get(open_tasks[0].element_id, 0) + 1
                task = instances.get_task(session, open_tasks[0].id)
                values = {f.id: _value_for(f) for f in task.form if not f.readonly}
                instances.complete_task(session, open_tasks[0].id, ACTOR, values)
                continue
        if not due and not open_tasks and _work_external_tasks(factory, instance_id):
            continue
        if not due and not open_tasks and _send_a_message(factory, instance_id, message_names):
            continue
        # Fire only what is due by the instance's next timer, not start timers scheduled far ahead.
        if not due or not timers.fire_due_timers(factory, now=min(due)):
            break
    with factory.begin() as session:
        detail = instances.get_instance(session, instance_id)
        if detail.status == "running":
            external = external_tasks.list_tasks(session, ACTOR, instance_id=instance_id)
            waiting = bool(detail.tasks or detail.timers or detail.active_elements or external)
            assert waiting, f"{key}: running, but with no open task, timer or waiting element"
            return "running", "waits at " + ", ".join(sorted(detail.active_elements))
        return detail.status, detail.error.message if detail.error else ""


def _work_external_tasks(factory: sessionmaker[Session], instance_id: int) -> bool:
    """Fetch, lock and complete the instance's external tasks, as a worker would over /engine-rest."""
    with factory.begin() as session:
        waiting = external_tasks.list_tasks(session, ACTOR, instance_id=instance_id)
        topics = sorted({t.topic for t in waiting if t.retries != 0})
        if not topics:
            return False
        requests = [external_tasks.TopicRequest(topic, 60_000) for topic in topics]
        locked = external_tasks.fetch_and_lock(session, WORKER, ACTOR, requests, 10)
    done = False
    for task in locked:
        with factory.begin() as session:
            external_tasks.complete(session, task.id, ACTOR, WORKER, {})
            done = True
    return done


def _send_a_message(factory: sessionmaker[Session], instance_id: int, names: list[str]) -> bool:
    """Correlate the first declared message the instance waits for, as POST /engine-rest/message does."""
    for name in names:
        try:
            with factory.begin() as session:
                messages.correlate(session, name, ACTOR, instance_id=instance_id, all_matches=True)
            return True
        except (NotFoundError, ConflictError):
            continue
    return False


def _message_names(files: list[tuple[str, bytes]]) -> list[str]:
    names = []
    for name, data in files:
        if name.endswith(".bpmn"):
            names += [m.get("name") for m in _xml(data).iter(f"{{{BPMN_NS}}}message") if m.get("name")]
    return list(dict.fromkeys(names))


# ---------------------------------------------------------------- the test


@pytest.mark.parametrize(("mode", "rel"), _cases())
def test_file_runs_or_is_rejected_clearly(
    mode: str, rel: str, local_factory: sessionmaker[Session], time_limit: None
) -> None:
    outcome = _outcome(mode, rel, local_factory)
    if mode == "published" and rel.endswith(".bpmn"):
        OUTCOMES[rel] = outcome


def _outcome(mode: str, rel: str, factory: sessionmaker[Session]) -> tuple[str, str]:
    """Deploy and drive one file; return (completed | waiting | error | refused, reasons)."""
    files = _input_files(rel, mode)
    names = {name for name, _ in files}
    fallback = FALLBACK_GROUP if mode == "published" else None
    try:
        parsed = parse_deployment(files, GROUPS, fallback)
    except DefinitionError as exc:
        assert exc.problems, "a DefinitionError must list its problems"
        for problem in exc.problems:
            assert problem.file in names, f"problem names no given file: {problem}"
            assert problem.message and problem.message.strip(), f"problem without a message: {problem}"
            assert not INTERNAL.search(problem.message), f"internal error text in a problem: {problem}"
        return "refused", "; ".join(dict.fromkeys(p.message for p in exc.problems))
    assert parsed, "parse_deployment returned no process and raised nothing"

    with factory.begin() as session:
        results = definitions.deploy(session, files, ACTOR, fallback_group=fallback)
    assert {r.key for r in results} == {p.key for p in parsed}
    start_data = START_DATA.get(Path(rel).name, {})
    statuses = []
    for result in results:
        status, message = _drive(factory, result.key, start_data, _message_names(files))
        assert status in ("completed", "running", "error"), f"{result.key}: unexpected status {status}"
        if status == "error":
            assert message.strip(), f"{result.key}: error state without a message"
        statuses.append((status, message))
    for wanted in ("error", "running"):
        for status, message in statuses:
            if status == wanted:
                return ("waiting" if status == "running" else "error"), message
    return "completed", ""


def test_the_corpus_is_complete() -> None:
    files = _corpus_files()
    assert sum(f.endswith(".bpmn") for f in files) == 77
    assert sum(f.endswith(".dmn") for f in files) == 11


def test_a_cycle_start_timer_fires_only_its_repetitions(local_factory: sessionmaker[Session], time_limit: None) -> None:
    path = CORPUS / "spiff" / "bpmn" / "data" / "timer-cycle-start.bpmn"
    with local_factory.begin() as session:
        definitions.deploy(session, [(path.name, path.read_bytes())], ACTOR)
    timers.fire_due_timers(local_factory, now=utcnow() + timedelta(days=1))
    with local_factory.begin() as session:
        _, total = instances.list_instances(session, process_key="timer")
    assert total <= 2, f"'R2/PT0.1S' started {total} instances"


# The published files that complete here; a file leaving this list is a regression.
MUST_COMPLETE = [
    "bpmn-io/bpmn-js-examples/deep-linking/nested-subprocesses.bpmn",
    "camunda/generated-forms/fox-invoice_generated_forms.bpmn",
    "camunda/invoice/reviewInvoice.bpmn",
    "camunda/order-handling/order-handling.bpmn",
    "camunda/parallel-user-tasks/parallel-user-tasks.bpmn",
    "camunda/task-camunda-forms/invoiceApproval.bpmn",
    "camunda/task-form-embedded-bpmn-events/invoicePayment.bpmn",
    "miwg/Reference/C.9.1.bpmn",
    "spiff/bpmn/data/ScriptTest.bpmn",
    "spiff/bpmn/data/boundary_timer_on_task.bpmn",
    "spiff/bpmn/data/call_activity_call_activity.bpmn",
    "spiff/bpmn/data/call_activity_end_event.bpmn",
    "spiff/bpmn/data/call_activity_with_error.bpmn",
    "spiff/bpmn/data/event-gateway.bpmn",
    "spiff/bpmn/data/event-subprocess.bpmn",
    "spiff/bpmn/data/inclusive_gateway.bpmn",
    "spiff/bpmn/data/lanes.bpmn",
    "spiff/bpmn/data/parallel_multiinstance_loop_input.bpmn",
    "spiff/bpmn/data/sequential_multiinstance_cardinality.bpmn",
    "spiff/bpmn/data/standard_loop.bpmn",
    "spiff/bpmn/data/timer-non-interrupt-boundary.bpmn",
    "spiff/bpmn/data/timer.bpmn",
    "spiff/bpmn/data/transaction.bpmn",
    "spiff/camunda/data/DMNMultiInstance.bpmn",
    "spiff/camunda/data/ExclusiveGatewayIfElseAndDecision.bpmn",
    "spiff/camunda/data/subWorkflowComplex.bpmn",
    "spiff/bpmn/data/collaboration.bpmn",
    "camunda/message-start/message_start_process.bpmn",
    "spiff/camunda/data/MessageBoundary.bpmn",
    # locals() in a script
    "spiff/spiff/data/script_task_with_unit_tests.bpmn",
    # exclusive gateways whose flows have no conditions, tasks with an ioSpecification (read as Camunda does)
    "miwg/Reference/C.5.0.bpmn",
]
MIN_COMPLETED = len(MUST_COMPLETE)


def test_outcomes_meet_the_bar(template_db: Path, tmp_path: Path) -> None:
    """Print what each published file does here, with the counts; check the files that must complete."""
    for index, rel in enumerate(f for f in _corpus_files() if f.endswith(".bpmn")):
        if rel not in OUTCOMES:  # run alone (-k), or before the parametrized cases
            with _database(template_db, tmp_path / f"summary{index}.db") as factory, _limited():
                OUTCOMES[rel] = _outcome("published", rel, factory)
    counts = {
        kind: sum(1 for o, _ in OUTCOMES.values() if o == kind) for kind in ("completed", "waiting", "error", "refused")
    }
    lines = [f"{outcome:9} {rel}  {reason[:160]}" for rel, (outcome, reason) in sorted(OUTCOMES.items())]
    print("\n".join(["", *lines, "", "  ".join(f"{k}: {v}" for k, v in counts.items()), ""]))

    assert [rel for rel in MUST_COMPLETE if OUTCOMES[rel][0] != "completed"] == [], {
        rel: OUTCOMES[rel] for rel in MUST_COMPLETE if OUTCOMES[rel][0] != "completed"
    }
    for rel, words in REFUSED_ON_PURPOSE.items():
        assert OUTCOMES[rel][0] == "refused" and words in OUTCOMES[rel][1], (rel, OUTCOMES[rel])
    for rel, words in EXPECTED_ERRORS.items():
        assert OUTCOMES[rel][0] == "error" and words in OUTCOMES[rel][1], (rel, OUTCOMES[rel])
    assert counts["completed"] >= MIN_COMPLETED
