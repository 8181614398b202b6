"""Routes of the processes home, version history, downloads, uploads, the editor page and compare."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from engine import DefinitionError, InvalidInputError, definitions, editing, people, trials
from web.auth import role_required
from web.db import get_session
from web.editor import bp

READERS = ("owner", "manager")
VERSION = "int(min=1, max=2147483647)"


def _may_edit() -> bool:
    return bool(current_user.has_role("owner"))


def _user_names(session: Any) -> dict[str, str]:
    """Map user names to the names people know them by; `teamflow demo` and `deploy` deploy as "system"."""
    return {"system": _("System"), **{u.name: u.display_name for u in people.list_users(session)}}


def _home(status: int = 200, **extra: Any) -> Any:
    session = get_session()
    rows = editing.home(session, current_user.name)
    drafts = editing.new_drafts(session, current_user.name) if _may_edit() else []
    groups = people.list_groups(session)
    return (
        render_template(
            "editor/home.html",
            rows=rows,
            drafts=drafts,
            may_edit=_may_edit(),
            groups=groups,
            user_names=_user_names(session),
            **extra,
        ),
        status,
    )


@bp.get("/")
@role_required(*READERS)
def home() -> Any:
    return _home()


@bp.post("/new")
@role_required("owner")
def new_process() -> Any:
    form = request.form
    try:
        draft = editing.new_process(
            get_session(), form.get("key", ""), form.get("name", ""), current_user.name, form.get("copy_from") or None
        )
    except InvalidInputError as exc:
        return _home(422, new_error=exc.message, new_form=form)
    get_session().commit()
    return redirect(url_for("editor.edit", key=draft.key))


@bp.post("/upload")
@role_required("owner")
def upload() -> Any:
    files = [(f.filename or "", f.read()) for f in request.files.getlist("files") if f.filename]
    if not files:
        return _home(422, upload_error=_("Choose one or more .bpmn or .dmn files."))
    try:
        results = editing.deploy_files(
            get_session(),
            files,
            current_user.name,
            request.form.get("note"),
            request.form.get("confirm") == "1",
            request.form.get("fallback_group") or None,
        )
    except InvalidInputError as exc:
        return _home(422, upload_error=exc.message)
    except DefinitionError as exc:
        return _home(422, upload_error=_("The files were not deployed:"), upload_problems=exc.problems)
    get_session().commit()
    for result in results:
        if result.created:
            flash(_("%(key)s version %(version)s deployed.", key=result.key, version=result.version), "success")
        else:
            flash(_("%(key)s is unchanged (version %(version)s).", key=result.key, version=result.version), "info")
    return redirect(url_for("editor.home"))


@bp.get("/<key>/history")
@role_required(*READERS)
def history(key: str) -> Any:
    session = get_session()
    versions = list(reversed(definitions.list_versions(session, key)))
    running = next((dict(r.running) for r in editing.home(session, current_user.name) if r.latest.key == key), {})
    files = {v.version: sorted(definitions.get_files(session, key, v.version)) for v in versions}
    return render_template(
        "editor/history.html",
        key=key,
        versions=versions,
        running=running,
        files=files,
        may_edit=_may_edit(),
        user_names=_user_names(session),
        group_names=people.group_names(session),
    )


@bp.get(f"/<key>/versions/<{VERSION}:version>/download")
@role_required(*READERS)
def download(key: str, version: int) -> Any:
    files = definitions.get_files(get_session(), key, version)
    name = request.args.get("file")
    if name:
        if name not in files:
            return render_template("error.html", status=404, message=_("No such file."), details=[]), 404
        return Response(
            files[name],
            mimetype="application/xml",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file_name, text in sorted(files.items()):
            archive.writestr(file_name, text)
    return Response(
        buffer.getvalue(),
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{key}-v{version}.zip"'},
    )


@bp.get("/<key>/edit")
@role_required("owner")
def edit(key: str) -> Any:
    session = get_session()
    draft = editing.get_draft(session, key, current_user.name)
    groups = people.list_groups(session)
    scenarios = trials.list_scenarios(session, key)
    config = {
        "key": key,
        "bpmnFile": draft.bpmn_file,
        "files": draft.files,
        "groups": {g.id: g.name for g in groups},
        "scenarios": [{"name": s.name, "steps": list(s.steps)} for s in scenarios],
        "locale": str(get_locale() or "zh"),
        "api": url_for("api.get_draft", key=key).removesuffix("/draft"),
        "home": url_for("editor.home"),
    }
    deployed = next((v for v in definitions.list_processes(session) if v.key == key), None)
    latest = deployed.version if deployed else None
    stale = draft.updated_at is not None and draft.base_version is not None and latest != draft.base_version
    return render_template(
        "editor/edit.html",
        key=key,
        name=deployed.name if deployed else "",
        draft=draft,
        groups=groups,
        scenarios=scenarios,
        config=config,
        latest=latest,
        stale=stale,
    )


@bp.get("/<key>/compare")
@role_required(*READERS)
def compare(key: str) -> Any:
    session = get_session()
    versions = definitions.list_versions(session, key)
    latest = versions[-1].version
    right = request.args.get("right") or str(latest)
    default_left = str(int(right) - 1) if right.isdigit() and int(right) > 1 else str(latest)
    left = request.args.get("left") or default_left
    result = editing.diff(session, key, left, right, current_user.name)
    return render_template(
        "editor/compare.html",
        key=key,
        diff=result,
        versions=versions,
        left_xml=_bpmn_text(result.left_files),
        right_xml=_bpmn_text(result.right_files, result.bpmn_file),
        labels=_property_labels(),
    )


def _property_labels() -> dict[str, str]:
    """Names people read for the properties a diff lists most."""
    return {
        "name": _("name"),
        "documentation": _("documentation"),
        "camunda:candidateGroups": _("candidate groups"),
        "camunda:assignee": _("assignee"),
        "camunda:dueDate": _("due date"),
        "camunda:priority": _("priority"),
        "conditionExpression": _("condition"),
        "script": _("script"),
        "camunda:decisionRef": _("decision"),
        "timerEventDefinition/timeDuration": _("timer duration"),
        "timerEventDefinition/timeDate": _("timer date"),
        "timerEventDefinition/timeCycle": _("timer cycle"),
        "type": _("type"),
    }


def _bpmn_text(files: dict[str, str], preferred: str | None = None) -> str:
    if preferred in files:
        return files[preferred]
    return next((text for name, text in sorted(files.items()) if name.endswith(".bpmn")), "")
