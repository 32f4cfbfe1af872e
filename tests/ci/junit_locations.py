"""Where CI systems place a JUnit <testcase>: prints one JSON object per case.

- `junitparser`: the attributes as junitparser (which EnricoMi/publish-unit-test-result-action
  builds on) reads them: `file` and `line` of the testcase element.
- `action_junit_report`: the location mikepenz/action-junit-report computes in its
  `parseSuite`/`resolveFileAndLine` (src/testParser.ts; checked against its source at commit
  0289ec72cf62bdcb8725cc4809ba361c1969a362): the testcase's `file` (else the failure's, else
  the testsuite's, else the last dot-separated part of the classname) and likewise its `line`;
  when no line is given, the last ` PATH…:NUMBER` in the failure text that names the file
  (-1 when that number is not one), else line 1. Its `resolvePath` then globs
  `**/FILE.*`, which finds nothing for `suites/x.yaml`, so the path is kept as written.
  This is the logic that put annotations on a URL's port number before smokegate wrote the
  attributes.

Usage: python3 junit_locations.py junit.xml
"""
import json
import re
import sys

from junitparser import Error, Failure, JUnitXml


def action_junit_report(case, suite, output, failure):
    fail_attr = failure._elem.attrib if failure is not None else {}
    file = case._elem.get("file") or fail_attr.get("file") or suite._elem.get("file")
    class_name = case.classname or case.name or ""
    file_name = file if file else class_name.split(".")[-1]
    line_attr = case._elem.get("line") or fail_attr.get("line") or suite._elem.get("line")
    try:
        line_number = int(line_attr) if line_attr is not None else None
    except ValueError:
        line_number = None
    if file_name and line_number:
        return {"file": file_name, "line": line_number}
    escaped = re.escape(file_name).replace("::", "/")
    matches = re.findall(r" [^ ]*" + escaped + r".*?:\d+", output or "")
    if not matches:
        return {"file": file_name, "line": line_number or 1}
    line = matches[-1].split(":")[-1]
    return {"file": file_name, "line": int(line) if line.isdigit() and int(line) else -1}


out = []
for suite in JUnitXml.fromfile(sys.argv[1]):
    for case in suite:
        text = ""
        failure = None
        for r in case.result:
            if isinstance(r, (Failure, Error)):
                text = r.text or r.message or ""
                failure = failure if failure is not None else r
        out.append(
            {
                "name": case.name,
                "junitparser": {"file": case._elem.get("file"), "line": case._elem.get("line")},
                "action_junit_report": action_junit_report(case, suite, text, failure),
                "text": text,
            }
        )
print(json.dumps(out))
