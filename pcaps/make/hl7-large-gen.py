#!/usr/bin/python3
"""Writes the synthetic ~200 KB ORU^R01 of hl7-large.pcap to stdout (standard
library only; the output is a pure function of the code).

One message, many segments: MSH, PID, ORC, OBR, an OBX of type ED carrying
a 144 KB "PDF report" as base64 in OBX-5 (bytes from a seeded generator, not
a real document), then 40 OBX numeric results with NTE comments and a
final OBX of type TX. Segments end with LF; mllp_send --loose turns them
into CR.
"""
import base64
import random
import sys

rnd = random.Random(2575)
pdf = b"%PDF-1.4\n% medtap synthetic report, not a document\n" + rnd.randbytes(144 * 1024)
b64 = base64.b64encode(pdf).decode()

segs = [
    "MSH|^~\\&|SYNTH_LAB|SYNTH_HOSP|SYNTH_EHR|SYNTH_HOSP|20250303120000||ORU^R01^ORU_R01|BIG000001|P|2.5.1|||AL|NE",
    "PID|1||SYN00061^^^SYNTH_HOSP^MR||SYNTHETIC^LARGE^REPORT||19750505|F|||1 EXAMPLE RD^^TESTVILLE^^00000^USA",
    "ORC|RE|ORD8001|FIL8001",
    "OBR|1|ORD8001|FIL8001|11502-2^Laboratory report^LN|||20250303113000||||||||||||||||||F",
    "OBX|1|ED|11502-2^Laboratory report^LN||^AP^PDF^Base64^" + b64 + "||||||F",
]
tests = [("718-7", "Hemoglobin", "g/dL", "12.0-16.0"), ("6690-2", "Leukocytes", "10*3/uL", "4.0-10.0"),
         ("777-3", "Platelets", "10*3/uL", "150-400"), ("2345-7", "Glucose", "mg/dL", "70-99")]
for i in range(40):
    code, name, unit, ref = tests[i % len(tests)]
    segs.append("OBX|%d|NM|%s^%s^LN||%d.%d|%s|%s|N|||F|||20250303113000" % (
        i + 2, code, name, rnd.randrange(1, 300), rnd.randrange(10), unit, ref))
    segs.append("NTE|%d||Result %d of the synthetic panel, reviewed." % (i + 1, i + 1))
segs.append("OBX|42|TX|11526-1^Pathology study^LN||Synthetic narrative for a large message test.||||||F")
sys.stdout.write("\n".join(segs) + "\n")
