"""One submission's grading result: the record that the grader fills and every output reads.

tools/grade.Grader.grade makes it; tools/grade.apply_course adds the late policy, tools/tutor_points.merge the
tutor's points; the terminal report, the CSV, results.json (tools/grade.py), the LMS files, the class report
(tools/report/) and the totals (tools/totals.py) read it. Every text in it that a submission controls has been
neutralised (tools/text.py) before it is stored here.
"""
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, List, Optional

if TYPE_CHECKING:  # the types only: these modules import this one's readers
    from grading.points import Row
    from tools.course import Late
    from tools.rebuild import GapResult
    from tools.submitted import Submitted


@dataclass
class Result:
    name: str  # the submission's folder name, as every report shows it
    path: str  # the folder given to the grader
    platform: str = ""  # what the students' code ran on, e.g. "Python 3.8.18, NumPy 1.24.4"
    # What a regrade needs to give the same points: seed, kit commit, handout digest, python (and, after
    # --previous, the previous total).
    record: Dict[str, object] = field(default_factory=dict)
    # Every task's row, in the registry's order; None when grading failed (then error says why).
    rows: Optional[List["Row"]] = None
    error: Optional[str] = None
    traceback: Optional[str] = None  # the grader's own, for tutors, when grading failed
    integrity: List[str] = field(default_factory=list)  # findings for a tutor: what differs outside the gaps
    policy: List[str] = field(default_factory=list)  # gaps not taken, and why
    notes: List[str] = field(default_factory=list)  # what happened, for the student and the tutor
    gaps: Dict[str, "GapResult"] = field(default_factory=dict)  # {gap name: what became of it}
    lines: Dict[str, Dict[str, int]] = field(default_factory=dict)  # {task key: lines per batch size}, for tutors
    vectorisation: List[str] = field(default_factory=list)  # findings of loops over a batch, for tutors
    feedback: Optional[str] = None  # the student's feedback.md, as read
    sources: Dict[str, str] = field(default_factory=dict)  # submitted files a finding quotes
    root: Optional[str] = None  # the folder that was graded (one folder down, say): its submission.pdf
    submitted: Optional["Submitted"] = None  # when it was handed in, and by whose clock (a late policy only)
    seconds: Optional[float] = None  # how long grading took
    late: Optional["Late"] = None  # the late policy applied (tools/course.apply_late_policy)
    tutor: Optional[Dict[str, float]] = None  # {task key: points} a tutor gave; None before they are merged

    def findings(self) -> int:
        """What a tutor should look at: integrity findings and gaps not taken."""
        return len(self.integrity) + len(self.policy)
