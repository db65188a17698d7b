# expect-reason: kl_mismatch|crash
# expect-score: 0
"""Route 1: a thread keeps writing the right answers to every descriptor while the harness
calls a detect_drift that returns zeros (its writes may also tear the harness's own lines:
then the cases are lost, a crash; either way no score)."""
import json
import os

# The right answers for seed 0, as a submission that learnt them by heart would carry them.
ANSWERS = json.loads('{"spec_example": [{"age": 0.185823268321748, "income": 0.3224482565166152, "height": 0.0}, "Drifted: age (KL=0.1858)\\nDrifted: income (KL=0.3224)\\n"], "nans": [{"a": 0.25460149507075175, "b": 0.05300247331935483, "c": 0.010433983279081984}, "Drifted: a (KL=0.2546)\\n"], "infinities": [{"x": 0.5315901445625776, "y": 0.14889236820194215}, "Drifted: x (KL=0.5316)\\nDrifted: y (KL=0.1489)\\n"], "constant_columns": [{"same_constant": 2.1691023358041317e-13, "constant_old": 3.0647251448977197, "two_constants": 28.72963340445356, "varying": 0.1060288048003698}, "Drifted: constant_old (KL=3.0647)\\nDrifted: two_constants (KL=28.7296)\\nDrifted: varying (KL=0.1060)\\n"], "integer_and_float32": [{"count": 0.13642143322716913, "small_int": 4.3479320839512745, "ratio32": 0.06527699432310845, "score32": 0.03233707272773215}, "Drifted: count (KL=0.1364)\\nDrifted: small_int (KL=4.3479)\\n"], "heavy_tails": [{"cauchy": 0.002002002668313551, "pareto": 0.003012448302471881, "lognormal": 0.02465404775087277}, ""], "bimodal_empty_bins": [{"modes": 0.23530868995679677, "gap": 1.540591739897235}, "Drifted: modes (KL=0.2353)\\nDrifted: gap (KL=1.5406)\\n"], "large_offset": [{"epoch_ms": 0.0775521700455466, "tiny": 0.18962987768549994, "negative": 0.09887191220004214}, "Drifted: tiny (KL=0.1896)\\n"], "few_rows": [{"u": 19.37486991314574, "v": 15.986441612925702}, "Drifted: u (KL=19.3749)\\nDrifted: v (KL=15.9864)\\n"], "many_columns": [{"f00": 0.17647824726691577, "f01": 0.20022889556047166, "f02": 0.10181939589814495, "f03": 0.849248751183692, "f04": 0.06288374665759437, "f05": 0.14166680941160126, "f06": 0.07334097677957277, "f07": 0.11936631717337141, "f08": 0.5995664417308582, "f09": 1.5228698011724298, "f10": 0.20970783690055517, "f11": 0.26360157232180387, "f12": 0.17501394185513283, "f13": 0.09008527886138996, "f14": 0.13865989825955408, "f15": 0.557139126335116, "f16": 0.10708896438380007, "f17": 0.10811036649428982, "f18": 0.34730868546041654, "f19": 0.852232680665955, "f20": 0.09382114094199345, "f21": 1.1148551204404167, "f22": 0.06286199573898185, "f23": 0.10877151228125015, "f24": 0.24540523901468228, "f25": 0.12302798884670685, "f26": 0.09436194999298342, "f27": 0.8170029234712721, "f28": 0.2227701198911549, "f29": 0.8383743631778304, "f30": 0.5934395193627134, "f31": 0.17804736768795124, "f32": 0.08235920346833453, "f33": 0.13873579899820854, "f34": 0.8834904671062579, "f35": 0.16042885145990543, "f36": 0.1103605640417942, "f37": 0.19519583909140373, "f38": 0.19586331831442497, "f39": 0.09260212566617015}, "Drifted: f03 (KL=0.8492)\\nDrifted: f08 (KL=0.5996)\\nDrifted: f09 (KL=1.5229)\\nDrifted: f11 (KL=0.2636)\\nDrifted: f15 (KL=0.5571)\\nDrifted: f18 (KL=0.3473)\\nDrifted: f19 (KL=0.8522)\\nDrifted: f21 (KL=1.1149)\\nDrifted: f27 (KL=0.8170)\\nDrifted: f29 (KL=0.8384)\\nDrifted: f30 (KL=0.5934)\\nDrifted: f34 (KL=0.8835)\\n"], "values_on_bin_edges": [{"on_edges": 6.355040264493796, "one_ulp_either_side": 0.05889151781985843, "odd_edges": 7.924379292856775}, "Drifted: on_edges (KL=6.3550)\\nDrifted: odd_edges (KL=7.9244)\\n"], "threshold_boundary": [{"identical": 0.0, "identical_ints": 0.0, "shifted": 0.07933767804749374}, "Drifted: shifted (KL=0.0793)\\n"], "many_rows": [{"latency_ms": 0.24350604923935146, "clicks": 0.024213573830347408}, "Drifted: latency_ms (KL=0.2435)\\n"]}')


def forged_lines():
    out = []
    for name, (values, printed) in ANSWERS.items():
        items = [[{"t": "str", "v": c}, {"t": "float", "v": repr(v)}] for c, v in values.items()]
        out.append({"event": "case_start", "name": name})
        out.append({"event": "case", "name": name, "modified": False, "error": None, "memory": False,
                    "result": {"kind": "dict", "type": "dict", "items": items}, "stdout": printed,
                    "stdout_truncated": False, "duration_s": 0.001})
    out.append({"event": "done"})
    out.append({"event": "exit", "code": 0})
    text = "".join("\n" + json.dumps(e) + "\n" for e in out)
    # unsigned, and also in the shape of a signed line with a made-up tag
    return (text + "".join("\n" + "0" * 32 + " " + json.dumps(e) + "\n" for e in out)).encode()


def spray(data):
    for fd in range(0, 1024):
        try:
            os.write(fd, data)
        except OSError:
            pass

import threading
import time

DATA = forged_lines()


def keep_spraying():
    while True:
        spray(DATA)
        time.sleep(0.01)


threading.Thread(target=keep_spraying, daemon=True).start()


def detect_drift(old_df, new_df, threshold=0.1):
    spray(DATA)
    return {c: 0.0 for c in old_df.columns}
