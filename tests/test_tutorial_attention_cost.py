"""The l11-attention-cost smoke run has the lecture 11 outputs: measured rows, fitted slopes, the
plot.
"""

import json


def test_attention_cost_smoke_run_has_the_lecture_11_outputs(smoke_run):
    folder = smoke_run("l11-attention-cost")
    state = json.loads((folder / "run.json").read_text())
    rows = state["tables"]["One forward + backward step: median time and peak allocated memory"]
    lengths = {
        kind: [r["T"] for r in rows if r["kind"] == kind]
        for kind in ("softmax", "linear", "recurrent")
    }
    assert lengths == {
        "softmax": [64, 128, 256, 512, 1024],
        "linear": [64, 128, 256, 512, 1024],
        "recurrent": [8, 16],
    }
    assert all(r["wall ms/step"] > 0 and r["peak MiB"] >= 0 for r in rows)
    slopes = {
        r["kind"]: r for r in state["tables"]["Fitted log-log slopes (2 = quadratic, 1 = linear)"]
    }
    assert set(slopes) == {"softmax", "linear", "recurrent"}
    # memory is a steady allocator reading even in the smoke run: softmax's slope is clearly above
    # linear's
    assert slopes["softmax"]["memory slope"] > 1.6 and slopes["linear"]["memory slope"] < 1.4
    assert (folder / "cost_vs_length.png").exists()
    assert len(state["verdicts"]) == 2
