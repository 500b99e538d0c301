"""What the structural tests of perf/model (model_test.py, model_latency_test.py) share: perf/model on sys.path
(importing this module puts it there, so the model's modules import after it), and the fixed costs of
model_inputs.json and the InfiniBand profile they run on."""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "perf", "model")
sys.path.insert(0, MODEL)

INPUTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "model_inputs.json")
COSTS = json.load(open(INPUTS))["costs"]
IB = json.load(open(os.path.join(MODEL, "profiles", "ib_hdr200.json")))
