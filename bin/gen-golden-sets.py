#!/usr/bin/env python3
"""Writes the bundled golden sets, worker-service/src/main/resources/golden/<worker-type>.jsonl.

A golden set is what a model is evaluated on when it is onboarded (bin/onboard): step inputs of the kinds the
offline default serves, from the templates of bin/gen-sample-tasks.py with another seed, none of them among the
demo's sample tasks. Classifications carry their reference label (the template's category or the review's star
rating), so they are judged without a model call; extractions, summaries and validations carry no reference and
are judged by the reviewer model at onboarding. The files are committed; this script regenerates them byte for
byte.

    python3 bin/gen-golden-sets.py
"""
import importlib.util
import json
import os
import random

SEED = 6122026
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "worker-service", "src", "main", "resources", "golden")
SAMPLES = os.path.join(HERE, "..", "oracle-service", "src", "main", "resources", "dev", "tandem", "oracle", "cli",
                       "sample-tasks.json")

spec = importlib.util.spec_from_file_location("samples", os.path.join(HERE, "gen-sample-tasks.py"))
samples = importlib.util.module_from_spec(spec)
spec.loader.exec_module(samples)
samples.r = random.Random(SEED)  # the templates draw from the module's generator
r = random.Random(SEED + 1)

with open(SAMPLES, encoding="utf-8") as f:
    DEMO_DOCUMENTS = {t["inputs"]["document"] for t in json.load(f)["tasks"] if "inputs" in t}


def documents(maker, count):
    """count distinct documents from one template family, none of them a demo task's."""
    out, seen = [], set()
    while len(out) < count:
        t = maker()
        doc = t["inputs"]["document"]
        if doc in seen or doc in DEMO_DOCUMENTS:
            continue
        seen.add(doc)
        out.append(t)
    return out


def sentences(text):
    parts = [p.strip() for p in text.replace("\n", " ").split(". ") if p.strip()]
    return [p if p.endswith((".", "!", "?")) else p + "." for p in parts]


def main():
    sets = {"classify": [], "extract": [], "summarize": [], "validate": []}
    for t in documents(samples.triage_task, 120):
        sets["classify"].append({"inputs": {"text": t["inputs"]["document"], "taxonomy": "support-ticket"},
                                 "expected": {"label": t["label"]}})
    for t in documents(samples.sentiment_task, 80):
        sets["classify"].append({"inputs": {"text": t["inputs"]["document"], "taxonomy": "sentiment"},
                                 "expected": {"label": t["label"]}})
    extraction_docs = documents(samples.extraction_task, 120)
    for t in extraction_docs:
        sets["extract"].append({"inputs": {"text": t["inputs"]["document"], "fields": "email,order_id,amount,date"}})
    summary_docs = documents(samples.summary_task, 120)
    for t in summary_docs:
        sets["summarize"].append({"inputs": {"text": t["inputs"]["document"], "max_sentences": r.choice(["2", "3"])}})
    # Validations check a candidate against its source: summaries made of source sentences (some with a number
    # changed) and extractions of the fields as written (some with a value that is not in the source).
    for t in summary_docs[:80]:
        doc = t["inputs"]["document"]
        chosen = sentences(doc)[:r.choice([2, 3])]
        if r.random() < 0.25 and chosen:
            chosen[-1] = chosen[-1].replace("1", "7").replace("3", "8") + " The figures were confirmed twice."
        candidate = {"summary": " ".join(chosen), "sentences": chosen}
        sets["validate"].append({"inputs": {"source": doc, "candidate": json.dumps(candidate)}})
    for t in extraction_docs[:80]:
        doc = t["inputs"]["document"]
        words = doc.replace("\n", " ").split()
        fields = {"email": next((w.strip(".,<>") for w in words if "@" in w), None),
                  "order_id": next((w.strip(".,") for w in words if w.startswith(("ORD", "PO-"))), None)}
        if r.random() < 0.25:
            fields["email"] = "someone.else@example.com"
        candidate = {"fields": fields, "missing": [k for k, v in fields.items() if v is None]}
        sets["validate"].append({"inputs": {"source": doc, "candidate": json.dumps(candidate)}})
    os.makedirs(OUT, exist_ok=True)
    for name, items in sets.items():
        r.shuffle(items)
        path = os.path.join(OUT, name + ".jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for i, item in enumerate(items, 1):
                f.write(json.dumps({"id": f"golden-{name}-{i:03d}", **item}, ensure_ascii=False) + "\n")
        print(f"wrote {len(items)} items to {os.path.relpath(path)}")


if __name__ == "__main__":
    main()
