"""JUnit XML: one test case per artefact; failures are the findings at or above the gate."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from mlsbom.models import ScanResult
from mlsbom.policy import Decision, rollup, verdict


class JunitReporter:
    def render(self, result: ScanResult, decision: Decision) -> str:
        worst = rollup(result)
        suite = ET.Element("testsuite", name="mlsbom", tests=str(len(result.artifacts)))
        failures = 0
        for art in result.artifacts:
            case = ET.SubElement(
                suite, "testcase", classname=art.ref.path, name=art.ref.display, time="0"
            )
            failing = [f for f in art.findings if not f.waived and f.severity >= decision.fail_on]
            if failing:
                failures += 1
                text = "\n".join(
                    f"{f.severity.label} {f.rule_id}: {f.message} (fix: {f.remediation})"
                    for f in failing
                )
                node = ET.SubElement(
                    case, "failure", type=failing[0].rule_id, message=failing[0].message
                )
                node.text = text
            elif verdict(worst[art.ref], decision) == "warn" and art.findings:
                out = ET.SubElement(case, "system-out")
                out.text = "\n".join(
                    f"{f.severity.label} {f.rule_id}: {f.message}" for f in art.findings
                )
        suite.set("failures", str(failures))
        suites = ET.Element("testsuites", name="mlsbom", tests=suite.get("tests", "0"))
        suites.set("failures", str(failures))
        suites.append(suite)
        ET.indent(suites)
        return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
