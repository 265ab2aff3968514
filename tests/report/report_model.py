"""cnnc report --json on a reference model, checked against what does not come from cnnc's report code:
  - the multiply-adds: shared/models/manifest.json has FLOPs = 2 x MACs, counted when the models were exported;
  - the parameters: the manifest's initializer element count;
  - arena_bytes: the generated header's P_ARENA_BYTES; weight_bytes: the generated .c's weights size; the
    kernels: those the generated functions' comments name;
  - the rows: each layer's figures sum to the totals, every ONNX node of the model is covered by at most one
    layer, arena outputs of a layer fit the arena, and the lower bound lies between the largest tensor and the
    arena size;
  - the text table has one row per layer and the same totals;
  - the views (no code) are unnumbered rows, and with the layers name each ONNX node at most once;
  - --emit=dot: a cluster per fused layer holding its nodes, a dashed ellipse per view, and Graphviz renders it
    (--emit=svg).
usage: report_model.py CNNC MODELS_DIR NAME"""
import json, os, re, shutil, subprocess, sys, tempfile

cnnc, models, name = sys.argv[1:4]
path = os.path.join(models, name + ".onnx")
if not os.path.exists(path):
    print(f"SKIPPED: {path} not found")
    sys.exit(77)
manifest = json.load(open(os.path.join(models, "manifest.json")))[name]
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def run(*args):
    return subprocess.run([cnnc, *args], check=True, capture_output=True, text=True).stdout


report = json.loads(run("report", path, "--json"))
layers, views, totals = report["layers"], report["views"], report["totals"]
check(2 * totals["macs"] == manifest["flops"], f"2 x MACs {2 * totals['macs']} == manifest FLOPs {manifest['flops']}")
check(totals["params"] == manifest["initializer_elements"],
      f"params {totals['params']} == manifest initializer elements {manifest['initializer_elements']}")
check(sum(l["macs"] for l in layers) == totals["macs"], "the layers' MACs sum to the total")
check(totals["layers"] == len(layers) > 0, f"{len(layers)} layers")

with tempfile.TemporaryDirectory() as tmp:
    run(path, "-o", os.path.join(tmp, "m.c"))
    header = open(os.path.join(tmp, "m.h")).read()
    arena = int(re.search(r"#define m_ARENA_BYTES (\d+)", header).group(1))
    check(totals["arena_bytes"] == arena, f"arena_bytes {totals['arena_bytes']} == m_ARENA_BYTES {arena}")
    with open(os.path.join(tmp, "m.c")) as f:
        weights = int(re.search(r"weights: (\d+) bytes", "".join(f.readline() for _ in range(8))).group(1))
    check(totals["weight_bytes"] == weights, f"weight_bytes {totals['weight_bytes']} == the .c's weights {weights}")

    # the kernel each layer shows is the one its generated function's comment names
    code = open(os.path.join(tmp, "m.c")).read()
    chosen = {l["kernel"] for l in layers if l["kernel"] != "portable C"}
    check(all(k in code for k in chosen), f"the generated code uses the {len(chosen)} kernels the report names")

    arena_outputs = [o for l in layers for o in l["outputs"] if o["storage"] == "arena"]
    arena_outputs += [v["output"] for v in views if v["output"]["storage"] == "arena"]
    check(all(0 <= o["arena_offset"] and o["arena_offset"] + o["bytes"] <= arena for o in arena_outputs),
          "arena outputs lie inside the arena")
    largest = max((o["bytes"] for o in arena_outputs), default=0)
    bound = totals["arena_lower_bound_bytes"]
    check(largest <= bound <= arena, f"largest arena tensor {largest} <= lower bound {bound} <= arena {arena}")
    covered = [n for l in layers for n in l["nodes"]] + [v["node"] for v in views]
    check(len(covered) == len(set(covered)), f"no ONNX node is in two layers or views ({len(views)} views)")
    check(all(len(l["nodes"]) == len(l["ops"]) >= 1 for l in layers), "each layer names its nodes and ops")

    table = run("report", path)
    rows = [line for line in table.splitlines() if re.match(r"^ *\d+  ", line)]
    check(len(rows) == len(layers), f"the table has one row per layer ({len(rows)})")
    view_rows = [line for line in table.splitlines() if re.match(r"^ *-  ", line)]
    check(len(view_rows) == len(views), f"and an unnumbered row per view ({len(view_rows)})")
    check(f"{totals['macs']:,} MACs" in table and f"{totals['params']:,} params" in table,
          "the table's totals are the JSON's")

    dot_path = os.path.join(tmp, "m.dot")
    run(path, "--emit=dot", "-o", dot_path)
    dot = open(dot_path).read()
    fused = [l for l in layers if len(l["nodes"]) > 1]
    clusters = re.findall(r"subgraph cluster_\d+ \{(.*?)\n  \}", dot, re.S)
    check(len(clusters) == len(fused), f"{len(clusters)} clusters for {len(fused)} fused layers")
    check(all(c.count("label=<<b>") == len(l["nodes"]) for c, l in zip(clusters, fused)),
          "each cluster holds its layer's nodes")
    shapes = {"x".join(map(str, o["shape"])) for l in layers for o in l["outputs"] if o["storage"] == "arena"}
    check(all(f'label=" {s}' in dot for s in shapes), "every stored tensor's shape is on an edge")
    check("initializer" not in dot and not re.search(r"\bw\d+_", dot), "no constants drawn")
    check(dot.count("style=dashed, label=<") == len(views), "each view is a dashed ellipse")
    # Graphviz is a test dependency (tests/install-deps.sh): without it this check fails rather than skips
    check(shutil.which("dot") is not None, "Graphviz's dot is installed")
    if shutil.which("dot"):
        svg = os.path.join(tmp, "m.svg")
        run(path, "--emit=svg", "-o", svg)
        check(open(svg).read().lstrip().startswith("<?xml") and os.path.getsize(svg) > 1000, "--emit=svg drew it")

sys.exit(1 if failures else 0)
