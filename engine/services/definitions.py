"""Deploy, version and look up process definitions; cache parsed specs per version."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from threading import Lock
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from engine.bpmn import parser, runner, serializer
from engine.db import utcnow
from engine.errors import DefinitionError, DefinitionProblem, NotFoundError
from engine.models import ProcessVersion, Timer
from engine.repositories import audit, workflow_cache
from engine.repositories import definitions as repo
from engine.repositories import people as people_repo
from engine.repositories import timers as timers_repo
from engine.services import subscriptions
from engine.views import DeployResult, ProcessVersionView

# Keyed by process key and content hash, which fix the spec in any database.
T = TypeVar("T")
_SPEC_CACHE: dict[tuple[str, str], tuple[Any, dict[str, Any]]] = {}
_META_CACHE: dict[tuple[str, str], dict[str, Any]] = {}
# Which content a version id names, per database URL.
_VERSION_KEYS: dict[tuple[str, int], tuple[str, str]] = {}
_CACHE_LOCK = Lock()


def to_view(version: ProcessVersion) -> ProcessVersionView:
    """Build the view of a version row."""
    return ProcessVersionView(
        key=version.key,
        name=version.name,
        version=version.version,
        deployed_at=version.deployed_at,
        deployed_by=version.deployed_by,
        documentation=version.documentation,
        start_groups=tuple(version.task_meta.get("", {}).get("start_groups", ())),
        deploy_note=version.deploy_note or "",
        fallback_group=version.fallback_group,
    )


def deploy(
    session: Session,
    files: Sequence[tuple[str, bytes]],
    actor: str,
    note: str = "",
    fallback_group: str | None = None,
) -> list[DeployResult]:
    """Parse, check and store each executable process as a new version (unless unchanged).

    :param files: (file name, content) pairs.
    :param note: what changed and why, kept with each new version.
    :param fallback_group: the group that gets human tasks naming no known group; each such task is
        listed in the result's warnings and the version records the choice. Without it they are refused.
    :raises DefinitionError: a file fails to parse or check, or the fallback group is unknown; nothing is stored.
    """
    if not files:
        raise DefinitionError([DefinitionProblem("", None, None, "no files given")])
    results = []
    for file_set in _file_sets(session, files):
        results.extend(_deploy_set(session, file_set, actor, note, fallback_group))
    return results


def check(
    session: Session, files: Sequence[tuple[str, bytes]], fallback_group: str | None = None
) -> list[parser.ParsedProcess]:
    """Parse and check files exactly as ``deploy`` does, storing nothing.

    :raises DefinitionError: a file fails to parse or check.
    """
    if not files:
        raise DefinitionError([DefinitionProblem("", None, None, "no files given")])
    parsed = []
    for file_set in _file_sets(session, files):
        parsed.extend(parser.parse_deployment(file_set, people_repo.groups(session), fallback_group))
    return parsed


def _file_sets(session: Session, files: Sequence[tuple[str, bytes]]) -> list[list[tuple[str, bytes]]]:
    """Complete an upload with what is deployed already.

    A BPMN file may use decision tables deployed before; a set of DMN files alone makes a new version of
    every process whose current version uses one of its decisions.
    """
    uploaded = list(files)
    referenced, defined = parser.decision_index(uploaded)
    has_bpmn = any(name.endswith((".bpmn", ".bpmn20.xml")) for name, _ in uploaded)
    if has_bpmn:
        missing = referenced - set(defined)
        if missing:
            uploaded.extend(_deployed_dmn_files(session, missing, {name for name, _ in uploaded}))
        return [uploaded]
    users = [v for v in repo.list_latest(session) if set(_decisions_of(v)) & set(defined)]
    if not users:
        names = ", ".join(sorted(defined)) or "none"
        raise DefinitionError(
            [DefinitionProblem(uploaded[0][0], None, None, f"no BPMN file given, and no process uses decision {names}")]
        )
    sets = []
    for version in users:
        replaced = {defined[d] for d in _decisions_of(version) if d in defined}
        kept = [
            (name, text.encode())
            for name, text in version.files.items()
            if not (name.endswith(".dmn") and set(parser.decision_index([(name, text.encode())])[1]) & set(defined))
        ]
        sets.append(kept + [(name, content) for name, content in uploaded if name in replaced])
    return sets


def _decisions_of(version: ProcessVersion) -> list[str]:
    files = [(name, text.encode()) for name, text in version.files.items() if name.endswith(".dmn")]
    return list(parser.decision_index(files)[1])


def _deployed_dmn_files(session: Session, decisions: set[str], taken: set[str]) -> list[tuple[str, bytes]]:
    """The DMN files of current versions that define the given decisions."""
    found: dict[str, bytes] = {}
    for version in repo.list_latest(session):
        for name, text in version.files.items():
            if name.endswith(".dmn") and name not in taken and name not in found:
                if set(parser.decision_index([(name, text.encode())])[1]) & decisions:
                    found[name] = text.encode()
    return list(found.items())


def _deploy_set(
    session: Session, files: Sequence[tuple[str, bytes]], actor: str, note: str, fallback_group: str | None
) -> list[DeployResult]:
    parsed = parser.parse_deployment(files, people_repo.groups(session), fallback_group)
    results = []
    for process in parsed:
        latest = repo.latest(session, process.key)
        content_hash = process.content_hash
        warnings = tuple(process.warnings)
        fallback = process.fallback_group if warnings else None
        if latest is not None and latest.content_hash == content_hash and latest.fallback_group == fallback:
            results.append(DeployResult(process.key, latest.version, False, warnings))
            continue
        meta: dict[str, Any] = dict(process.task_meta)
        meta[""] = {"start_groups": process.start_groups, **process.process_meta}
        version = repo.add(
            session,
            ProcessVersion(
                key=process.key,
                version=(latest.version + 1) if latest else 1,
                name=process.name,
                documentation=process.documentation,
                content_hash=content_hash,
                bpmn_file=process.bpmn_file,
                files=process.files,
                spec=serializer.dump_spec(process.spec, process.subprocess_specs),
                task_meta=meta,
                deployed_at=utcnow(),
                deployed_by=actor,
                deploy_note=note,
                fallback_group=fallback,
            ),
        )
        with _CACHE_LOCK:
            _SPEC_CACHE[(version.key, version.content_hash)] = (process.spec, process.subprocess_specs)
            _META_CACHE[(version.key, version.content_hash)] = meta
            _VERSION_KEYS[(_database(session), version.id)] = (version.key, version.content_hash)
        _schedule_start_timers(session, version, latest)
        subscriptions.replace_starts(session, version.key, version.id, process.process_meta.get("message_starts", {}))
        audit.record(
            session,
            "deployed",
            actor,
            process_key=process.key,
            data={
                "version": version.version,
                "files": sorted(process.files),
                "note": note,
                "fallback_group": fallback,
            },
        )
        results.append(DeployResult(process.key, version.version, True, warnings))
    return results


def _schedule_start_timers(session: Session, version: ProcessVersion, previous: ProcessVersion | None) -> None:
    """Replace the previous version's timer start events with this version's."""
    if previous is not None:
        for timer in timers_repo.start_timers_for_version(session, previous.id):
            timers_repo.remove(session, timer)
    spec, subs = spec_for(session, version.id)
    probe = runner.create_workflow(spec, subs, {})
    try:
        runner.run_steps(probe)
    except runner.WorkflowFailure:
        return
    for waiting in runner.waiting_timers(probe):
        if waiting.is_start:
            timers_repo.add(
                session,
                Timer(
                    process_version_id=version.id,
                    element_id=waiting.element_id,
                    due_at=waiting.due_at,
                    repeat_left=waiting.repeat_left,
                    interval_seconds=waiting.interval_seconds,
                ),
            )


def deploy_paths(
    session: Session, paths: Sequence[Path], actor: str, fallback_group: str | None = None
) -> list[DeployResult]:
    """Deploy files and folders (every .bpmn and .dmn inside them).

    :raises DefinitionError: a file fails to parse or check.
    :raises NotFoundError: a path does not exist.
    """
    files: list[tuple[str, bytes]] = []
    for path in paths:
        if path.is_dir():
            found = sorted([*path.glob("*.bpmn"), *path.glob("*.dmn")])
            files.extend((p.name, p.read_bytes()) for p in found)
        elif path.is_file():
            files.append((path.name, path.read_bytes()))
        else:
            raise NotFoundError(f"{path} does not exist")
    return deploy(session, files, actor, fallback_group=fallback_group)


def _database(session: Session) -> str:
    """Name the database a session works on (ids of one database mean nothing in another)."""
    bind = session.get_bind()
    return str(bind.engine.url)


def _cached(
    session: Session, version_id: int, cache: dict[tuple[str, str], T], build: Callable[[ProcessVersion], T]
) -> T:
    """Look a version's derived value up in ``cache``, building it from the stored row on a miss.

    Versions never change once deployed, so which content a version id names is remembered per database
    too, and a hit reads no row at all.

    :raises NotFoundError: no such version.
    """
    where = (_database(session), version_id)
    cache_key = _VERSION_KEYS.get(where)
    cached = cache.get(cache_key) if cache_key is not None else None
    if cached is not None:
        return cached
    version = repo.get_by_id(session, version_id)
    if version is None:
        raise NotFoundError(f"process version {version_id} not found")
    cache_key = (version.key, version.content_hash)
    cached = cache.get(cache_key)
    if cached is None:
        cached = build(version)
        with _CACHE_LOCK:
            cache[cache_key] = cached
    with _CACHE_LOCK:
        _VERSION_KEYS[where] = cache_key
    return cached


def spec_for(session: Session, version_id: int) -> tuple[Any, dict[str, Any]]:
    """Return the parsed spec of a version, from the cache when possible.

    :raises NotFoundError: no such version.
    """
    return _cached(session, version_id, _SPEC_CACHE, lambda version: serializer.load_spec(version.spec))


def meta_for(session: Session, version_id: int) -> dict[str, Any]:
    """Return a version's task metadata (groups, forms, due dates by element id), cached like specs.

    :raises NotFoundError: no such version.
    """
    return _cached(session, version_id, _META_CACHE, lambda version: dict(version.task_meta))


def clear_cache() -> None:
    """Forget every cached spec, task metadata and workflow (tests use this to prove they reload from the database)."""
    with _CACHE_LOCK:
        _SPEC_CACHE.clear()
        _META_CACHE.clear()
        _VERSION_KEYS.clear()
    workflow_cache.clear()


def list_processes(session: Session) -> list[ProcessVersionView]:
    """Return the latest version of each process."""
    return [to_view(v) for v in repo.list_latest(session)]


def list_versions(session: Session, key: str) -> list[ProcessVersionView]:
    """Return every version of a process, oldest first.

    :raises NotFoundError: no such process.
    """
    versions = repo.list_versions(session, key)
    if not versions:
        raise NotFoundError(f"process {key!r} not found")
    return [to_view(v) for v in versions]


def version_row(session: Session, key: str, version: int | None = None) -> ProcessVersion:
    """Return a version row (the latest when ``version`` is None).

    :raises NotFoundError: no such process or version.
    """
    row = repo.latest(session, key) if version is None else repo.get(session, key, version)
    if row is None:
        raise NotFoundError(f"process {key!r} version {version or 'latest'} not found")
    return row


def get_xml(session: Session, key: str, version: int | None = None) -> str:
    """Return the BPMN text of a version.

    :raises NotFoundError: no such process or version.
    """
    row = version_row(session, key, version)
    return str(row.files[row.bpmn_file])


def get_files(session: Session, key: str, version: int | None = None) -> dict[str, str]:
    """Return every file (BPMN and DMN) of a version by name.

    :raises NotFoundError: no such process or version.
    """
    return dict(version_row(session, key, version).files)
