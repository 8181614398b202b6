"""The scenarios shipped in processes/scenarios/ import and pass against the four processes, one per path."""

from __future__ import annotations

from typing import Any

from steps import PROCESSES

from engine.services import definitions, editing, trials

FILES = (
    "complaint.bpmn",
    "complaint_severity.dmn",
    "promotion.bpmn",
    "promotion_approval.dmn",
    "recruitment.bpmn",
    "recruitment_interview_rounds.dmn",
    "sales.bpmn",
    "sales_credit_rating.dmn",
    "sales_discount_approval.dmn",
)


def test_every_shipped_scenario_passes(deployed: Any, session: Any, users: dict[str, str]) -> None:
    paths = sorted((PROCESSES / "scenarios").glob("*.json"))
    assert [p.stem for p in paths] == ["complaint", "promotion", "recruitment", "sales"]
    count = trials.import_scenarios(session, paths, "owner1")
    assert count >= 20
    ends: dict[str, set[str]] = {}
    for key in ("complaint", "promotion", "recruitment", "sales"):
        files = [(n, t.encode()) for n, t in definitions.get_files(session, key).items()]
        process = trials.parsed_process(session, key, files)
        results = trials.run_scenarios(session, key, process)
        assert results and all(r.passed for r in results), [(r.name, r.message) for r in results if not r.passed]
        ends[key] = {e for r in results for e in r.trial.ended}
        # Validate runs them too, and finds nothing on the deployed files.
        assert editing.validate(session, key, "owner1") == []
    assert ends["sales"] >= {
        "EndEvent_Won",
        "EndEvent_LostCredit",
        "EndEvent_LostNegotiation",
        "EndEvent_EscalationDone",
    }
    assert ends["recruitment"] >= {"EndEvent_Hired", "EndEvent_Rejected", "EndEvent_Declined", "EndEvent_PlanClosed"}
    assert ends["complaint"] >= {"End_ComplaintClosed", "End_EscalationHandled"}
    assert "End_PromotionClosed" in ends["promotion"]
