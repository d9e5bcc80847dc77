"""JUnit XML (Jenkins/Ant junit-10 schema): one test case per finding, one per clean artefact.

A finding at or above the gate is a `failure`; a waived finding is `skipped` with the waiver's
reason; a finding below the gate passes with the finding in `system-out`, so the test report
agrees with the exit code. Member findings are test cases of their own (classname = the member
chain). Every scanned string is made valid XML 1.0 by `escape.xml_text`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter

from mlsbom import __version__
from mlsbom.models import Finding, ScanResult
from mlsbom.policy import Decision
from mlsbom.reporters.escape import xml_text


def _details(f: Finding) -> str:
    lines = [f"{f.severity.label} {f.rule_id}: {xml_text(f.message)}"]
    where = f.location.describe()
    if where:
        lines.append(f"location: {xml_text(where)}")
    if f.evidence:
        lines.append(f"evidence: {xml_text(f.evidence)}")
    lines.append(f"fix: {xml_text(f.remediation)}")
    return "\n".join(lines)


def _case(suite: ET.Element, classname: str, name: str) -> ET.Element:
    return ET.SubElement(suite, "testcase", name=name, classname=classname, time="0")


class JunitReporter:
    def render(self, result: ScanResult, decision: Decision) -> str:
        suite = ET.Element("testsuite", name="mlsbom")
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="mlsbom.version", value=__version__)
        ET.SubElement(props, "property", name="fail_on", value=decision.fail_on.label)
        counts: Counter[str] = Counter()
        for art in result.artifacts:
            classname = xml_text(art.ref.display)
            if not art.findings:
                _case(suite, classname, "no findings")
                counts["tests"] += 1
            for f in art.findings:
                where = f.location.describe()
                case = _case(
                    suite, classname, f.rule_id + (f" @ {xml_text(where)}" if where else "")
                )
                counts["tests"] += 1
                if f.waived:
                    ET.SubElement(case, "skipped", message=xml_text(decision.waiver_reason(f)))
                    counts["skipped"] += 1
                elif f.severity >= decision.fail_on:
                    node = ET.SubElement(
                        case, "failure", type=f.rule_id, message=xml_text(f.message, 500)
                    )
                    node.text = _details(f)
                    counts["failures"] += 1
                else:
                    out = ET.SubElement(case, "system-out")
                    out.text = f"below the gate ({decision.fail_on.label}): {_details(f)}"
        for key in ("tests", "failures", "skipped"):
            suite.set(key, str(counts[key]))
        suite.set("errors", "0")
        suites = ET.Element("testsuites", name="mlsbom")
        for key in ("tests", "failures"):
            suites.set(key, str(counts[key]))
        suites.set("errors", "0")
        suites.append(suite)
        ET.indent(suites)
        return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
